"""The text a reader sees, for the injection filter to match: a sentence with its disguises
taken off.

A hidden order is written so that the reader (or a model) reads the order while a list of
phrasings sees something else. ``unmask`` undoes the disguises found in practice:

- compatibility forms (full-width and mathematical letters, ligatures): NFKC;
- invisible characters inside words: every format character (Unicode category Cf: zero-width
  spaces and joiners, U+2061-U+2064, U+180E, soft hyphens, the byte-order mark, bidi marks),
  combining grapheme joiners and variation selectors;
- bidi overrides: text between U+202E (right-to-left override) and its end is stored
  backwards so that it shows forwards, so it is read reversed;
- accents and other combining marks (``ïgnörë``), dropped: the patterns are written without;
- letters of other scripts that look Latin (Cyrillic "і", "о", "е", Greek "ο" ...), mapped to
  the Latin letter in a word that mixes scripts or consists of look-alikes only (a Russian
  word keeps its letters, so Russian patterns still read it);
- digits for letters inside a word (``1gn0re``), and letters spaced or dotted apart
  (``i g n o r e``, ``i.g.n.o.r.e``), joined.

The result is for matching only: offsets into it are not offsets into the document."""

from __future__ import annotations

import re
import unicodedata

_RLO, _RLE, _PDF, _LRO = "\u202e", "\u202b", "\u202c", "\u202d"
_ISOLATES_END = "\u2069"
# invisible, but not of category Cf
_ALSO_HIDDEN = {0x034F, 0x115F, 0x1160, 0x3164, 0xFFA0, *range(0xFE00, 0xFE10)}
_ALSO_HIDDEN |= set(range(0xE0100, 0xE01F0))

# Letters of other scripts drawn like a Latin letter (after NFKC; from Unicode's
# confusables.txt, the ones seen in practice). Lower case only: the text is lowered first.
_LOOK_ALIKES = {
    # Cyrillic
    "а": "a", "е": "e", "о": "o", "р": "p", "с": "c", "у": "y", "х": "x", "і": "i",
    "ј": "j", "ѕ": "s", "ԁ": "d", "һ": "h", "ӏ": "l", "ԛ": "q", "ԝ": "w", "ɡ": "g",
    "ҽ": "e", "ս": "u", "օ": "o", "ո": "n", "հ": "h", "ց": "g", "ք": "f",
    # Greek
    "α": "a", "ο": "o", "ν": "v", "ι": "i", "κ": "k", "ρ": "p", "τ": "t", "υ": "u",
    "χ": "x", "ε": "e", "ϲ": "c", "ϳ": "j", "ѵ": "v",
    # Latin look-alikes outside ASCII
    "ı": "i", "ȷ": "j", "ɑ": "a", "ɩ": "i", "ʏ": "y", "ᴀ": "a", "ᴄ": "c", "ᴅ": "d",
    "ᴇ": "e", "ɢ": "g", "ʜ": "h", "ɪ": "i", "ᴊ": "j", "ᴋ": "k", "ʟ": "l", "ᴍ": "m",
    "ɴ": "n", "ᴏ": "o", "ᴘ": "p", "ʀ": "r", "ꜱ": "s", "ᴛ": "t", "ᴜ": "u", "ᴠ": "v",
    "ᴡ": "w", "ᴢ": "z",
}  # fmt: skip
_LEET = str.maketrans(
    {"0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "7": "t", "@": "a", "$": "s"}
)
_WORD = re.compile(r"[\w@$]+")
# single letters set apart: three or more by spaces ("i g n o r e"), two or more by dots,
# dashes or stars ("i.g.n.o.r.e", "d-o")
_SPACED = re.compile(r"(?<![\w.])(?:(?:[^\W\d_] ){2,}|(?:[^\W\d_][.\-_*]){1,})[^\W\d_](?![\w])")


def _hidden(c: str) -> bool:
    return unicodedata.category(c) == "Cf" or ord(c) in _ALSO_HIDDEN


def hidden_in(text: str) -> list[str]:
    """The invisible, control and direction-changing characters of ``text``, as "U+202E":
    in a file name they make it show as another name (``cod.exe\u202etxt.``)."""
    return [
        f"U+{ord(c):04X}"
        for c in text
        if _hidden(c) or unicodedata.category(c) in ("Cc", "Zl", "Zp")
    ]


def _unreverse(text: str) -> str:
    """Text after a right-to-left override, up to its pop (or the end), read backwards."""
    if _RLO not in text:
        return text
    out, rest = [], text
    while _RLO in rest:
        before, _, after = rest.partition(_RLO)
        ends = [i for i in (after.find(_PDF), after.find(_ISOLATES_END)) if i >= 0]
        end = min(ends) if ends else len(after)
        out += [before, after[:end][::-1]]
        rest = after[end:]
    return "".join(out) + rest


def _word(match: re.Match[str]) -> str:
    word = match[0]
    if word.isascii():
        if any(c in "013457@$" for c in word) and any(c.isalpha() for c in word):
            return word.translate(_LEET)
        return word
    latin = any("a" <= c <= "z" for c in word)
    if latin or all(c in _LOOK_ALIKES for c in word if c.isalpha()):
        return "".join(_LOOK_ALIKES.get(c, c) for c in word)
    return word


def fold(text: str) -> str:
    """``text`` without accents or other combining marks (patterns are written so)."""
    text = unicodedata.normalize("NFKD", text)
    return unicodedata.normalize("NFC", "".join(c for c in text if not unicodedata.combining(c)))


def unmask(text: str) -> str:
    """``text`` lowered, its disguises undone (see the module's docstring), its spaces
    collapsed."""
    text = unicodedata.normalize("NFKC", _unreverse(text))
    text = "".join(c for c in text if not _hidden(c))
    text = _WORD.sub(_word, fold(text.lower()))
    text = _SPACED.sub(lambda m: re.sub(r"[ .\-_*]", "", m[0]), text)
    return " ".join(text.split())
