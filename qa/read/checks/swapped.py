"""A question word swapped for another of its kind: the sentence that says "twenty-fourth",
"Saturday" or "early" where the question says "thirty-fourth", "Sunday" or "later" does not
answer it, however many other words the two share.

    question: "What is the name of the thirty-fourth James Bond film?"
    sentence: "Spectre (2015) is the twenty-fourth James Bond film produced by Eon Productions."

This is how SQuAD 2.0's writers made most of their look-alikes, and the reader and its
verifier read "Spectre". The check is narrow on purpose: a word of the question that the
sentence lacks, whose place in the sentence (the same two words before it, or the same two
after it, or the same one on each side) holds another word of the same closed kind: a number
of another value (cardinal for cardinal, ordinal for ordinal, digits for digits), a code
with other digits ("MI66" for "MI6"), another day or month, or the word's opposite
("later"/"early", "public"/"private"). Alternatives the question offers ("early or late?"),
shares ("one of the"), words of names ("Major League") and "first" are not checked. Synonyms
and other names are the verifier's to judge: too many of them are the same thing said
otherwise ("Deja Vu"/"Déjà Vu"). Measured in docs/training.md, "Checks on the best
sentence": it refuses 90 of SQuAD 1.1 train's 86,803 gold answers."""

from __future__ import annotations

import re

from index.tokens import STOP_WORDS, WORD, terms, words

_NUMBERS = """zero one two three four five six seven eight nine ten eleven twelve thirteen
    fourteen fifteen sixteen seventeen eighteen nineteen"""
_ORDINALS = """zeroth first second third fourth fifth sixth seventh eighth ninth tenth eleventh
    twelfth thirteenth fourteenth fifteenth sixteenth seventeenth eighteenth nineteenth"""
_TENS = "_ _ twenty thirty forty fifty sixty seventy eighty ninety"
_TENTHS = "_ _ twentieth thirtieth fortieth fiftieth sixtieth seventieth eightieth ninetieth"
_UNITS, _UNITS_TH = _NUMBERS.split(), _ORDINALS.split()
_TENS_ALL, _TENS_TH = _TENS.split(), _TENTHS.split()
_DIGITS = re.compile(r"(\d+(?:\.\d+)?)(st|nd|rd|th|s|'s|’s)?")
_CODE = re.compile(r"[a-z][a-z.-]*\d[\w.-]*")  # "mi6", "b-52", "ps3"
_DAYS = "monday tuesday wednesday thursday friday saturday sunday"
_MONTHS = "january february march april may june july august september october november december"
_KINDS = (frozenset(_DAYS.split()), frozenset(_MONTHS.split()))
_OPPOSITES = """early-late earlier-later early-later earliest-latest before-after
    long-short longer-shorter longest-shortest high-low higher-lower highest-lowest
    large-small larger-smaller largest-smallest big-small bigger-smaller biggest-smallest
    most-least more-less more-fewer increase-decrease increased-decreased rise-fall
    north-south east-west northern-southern eastern-western upper-lower official-unofficial
    former-current sister-brother male-female men-women man-woman minimum-maximum win-lose
    won-lost internal-external inner-outer domestic-foreign positive-negative public-private
    old-new older-newer oldest-newest best-worst start-end began-ended open-closed
    opened-closed import-export imports-exports legal-illegal possible-impossible true-false
    major-minor rich-poor wealthy-poor strong-weak hot-cold warm-cold wet-dry heavy-light
    fast-slow young-old younger-older youngest-oldest day-night prequel-sequel hero-villain
    ancestor-descendant predecessor-successor ally-enemy
    allies-enemies victory-defeat attack-defend attacker-defender top-bottom front-back
    inside-outside above-below past-future birth-death born-died entrance-exit
    arrival-departure arrive-depart arrived-departed input-output winner-loser winners-losers
    gain-loss profit-loss teacher-student parent-child husband-wife mother-father son-daughter
    king-queen boy-girl accept-reject accepted-rejected agree-disagree
    support-oppose supported-opposed include-exclude included-excluded urban-rural
    modern-ancient senior-junior northernmost-southernmost easternmost-westernmost
    upstream-downstream summer-winter spring-autumn sunrise-sunset dawn-dusk"""
_OPPOSITE: dict[str, set[str]] = {}
for _pair in _OPPOSITES.split():
    _a, _b = _pair.split("-")
    _OPPOSITE.setdefault(_a, set()).add(_b)
    _OPPOSITE.setdefault(_b, set()).add(_a)


def _number(word: str) -> tuple[float, bool] | None:
    """The value of a number word and whether it is an ordinal ("43rd" -> 43, True)."""
    word = word.replace(",", "")
    if m := _DIGITS.fullmatch(word):
        return float(m.group(1)), m.group(2) in ("st", "nd", "rd", "th")
    for table, ordinal in ((_UNITS, False), (_UNITS_TH, True)):
        if word in table:
            return float(table.index(word)), ordinal
    for table, ordinal in ((_TENS_ALL, False), (_TENS_TH, True)):
        if word in table and word != "_":
            return 10.0 * table.index(word), ordinal
    return None


def same_kind_other(asked: str, said: str) -> bool:
    """True when ``said`` is another of ``asked``'s closed kind: another number (of the same
    sort), a code with other digits, another day or month, or its opposite."""
    a, b = _number(asked), _number(said)
    if a is not None and b is not None:
        if any(c.isdigit() for c in asked) != any(c.isdigit() for c in said):
            return False  # "three decades" and "30 years", "6-carbon" and "three-carbon"
        # "2005" and "05" (of "2004–05"), "70s" and "1970s" are one year, one decade
        x, y = sorted((re.sub(r"\D", "", w) for w in (asked, said)), key=len)
        shortened = len(x) == 2 and len(y) == 4 and y.endswith(x)
        return a[1] == b[1] and a[0] != b[0] and not shortened
    if _CODE.fullmatch(asked) and _CODE.fullmatch(said):
        return asked != said
    if any(asked in kind and said in kind for kind in _KINDS):
        return asked != said
    return said in _OPPOSITE.get(asked, ())


def _in_place(q: list[str], i: int, s: list[str], j: int) -> bool:
    """True when ``s[j]`` stands where ``q[i]`` stands: the same two words before it, or the
    same two after it, or the same one on each side."""
    before, before_s = q[max(0, i - 2) : i], s[max(0, j - 2) : j]
    after, after_s = q[i + 1 : i + 3], s[j + 1 : j + 3]
    return (
        (len(before) == 2 and before == before_s)
        or (len(after) == 2 and after == after_s)
        or (
            bool(before)
            and bool(after)
            and before[-1:] == before_s[-1:]
            and after[:1] == after_s[:1]
        )
    )


def _offered(q: list[str], cased: list[str], i: int) -> bool:
    """True when the question word at ``i`` is no claim to check: one of two alternatives
    offered ("early or late?"), a share ("one of the ..."), "first" (often answered by "the
    second, after ..."), or a name's word ("Major League", "the Late Middle Ages") where it
    would be an opposite."""
    if "or" in q[max(0, i - 1) : i + 2]:
        return True
    if _number(q[i]) is not None and q[i + 1 : i + 2] == ["of"]:
        return True
    if q[i] == "first":
        return True  # "the first Bond film in IMAX?": "the second, after Skyfall"
    return i > 0 and cased[i][:1].isupper() and q[i] in _OPPOSITE


def swapped_in(question: str, sentence: str) -> tuple[str, str] | None:
    """The (question word, sentence word) when ``sentence`` holds, in the place of a question
    word it lacks, another of that word's kind (``same_kind_other``); else None."""
    cased = WORD.findall(question)
    q, s = words(question), words(sentence)
    held = set(terms(sentence))
    for i, asked in enumerate(q):
        if asked in STOP_WORDS or not (stem := terms(asked)) or stem[0] in held:
            continue
        if _offered(q, cased, i):
            continue
        for j, said in enumerate(s):
            if same_kind_other(asked, said) and _in_place(q, i, s, j):
                return asked, said
    return None
