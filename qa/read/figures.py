"""What a figure counts, and what a question asks to count: "1,500 special forces troops"
counts troops, "more than 13,000 containers" counts containers, and "How many artillery
rounds ...?" asks for rounds. Two figures of different things are not different figures
of one, and a figure of another thing does not answer the question:

    question: "How many ballistic missiles has North Korea sent to Russia?"
    sentence: "In more than 13,000 containers, North Korea has shipped artillery rounds,
               ballistic missiles and anti-tank rockets to Russia ..."

Every word of the question is in the sentence and the reader reads "13,000" (the seed's r23,
e04, e07); but 13,000 counts containers, and the missiles stand elsewhere in the sentence,
uncounted (``counts_other``). That check is narrow on purpose: the words right after the
answer's number name a thing and share none with the question, while the thing the question
counts (or the word it puts right before it: "artillery shells") is named elsewhere in the
sentence with no number of its own. A sentence that counts with other words and never names
the thing ("12,000 undergraduates" for "how many students") is left to the reader and its
verifier. On the 4,886 "how many" questions of SQuAD 1.1 train whose answer is in one
sentence, it refuses 56 right answers (1.1%), most of them counted in other words
("foreclosure proceedings on 1.3 million properties")."""

from __future__ import annotations

import re
from itertools import takewhile

from index.tokens import STOP_WORDS, WORD, terms, words

_HOW_MANY = re.compile(r"\bhow (?:many|much)\s+(.*)", re.IGNORECASE)
_HOW_MANY_OF = re.compile(
    r"\bhow many\s+(?:of\s+(?:the|its|their|his|her|these|those)\s+)?", re.IGNORECASE
)
# plurals without a plural's "s"
_PLURALS = frozenset(
    """people men women children police cattle fish sheep deer feet teeth mice geese personnel
    staff crew clergy offspring aircraft""".split()  # noqa: SIM905
)
_NOT_PLURAL = re.compile(r"(?:ss|us|is|ics|'s|’s)$")
_HEAD_WITHIN = 5  # the counted thing is one of the first words after "how many"
# words that end what a number in a sentence counts ("13,000 containers *,* ...")
_ENDS_COUNTED = frozenset(
    """did does do has have had is are was were will would can could should may might must
    that which who whom whose when where while as than""".split()  # noqa: SIM905
)
# the last word of a number: digits, or a number's own words ("eight million", "a dozen")
_NUMBER_WORD = re.compile(
    r"[^\W_]*\d[^\W_]*(?:[.,][^\W_]+)*|\b(?:one|two|three|four|five|six|seven|eight|nine|ten|"
    r"eleven|twelve|[a-z]+teen|twenty|thirty|forty|fifty|sixty|seventy|eighty|ninety|hundreds?|"
    r"thousands?|millions?|billions?|trillions?|dozens?|several|few)\b",
    re.IGNORECASE,
)


def _counted(after: str) -> tuple[list[str], int]:
    """The words right after a figure, up to the first punctuation or clause word and at most
    four, and where they end in ``after``: what it counts."""
    if re.match(r"\s+of\b", after):
        return [], 0  # "1800 of the world's 10,000 bird species": the thing comes later
    kept, stop = [], 0
    clause = re.split(r"[,;:()\[\]—–]|\.(?:\s|$)", after, maxsplit=1)[0]
    for word in list(WORD.finditer(clause))[:4]:
        if word.group().lower() in _ENDS_COUNTED:
            break
        kept.append(word.group())
        stop = word.end()
    return kept, stop


def counted(after: str) -> set[str]:
    """The stemmed words right after a figure (up to the next punctuation, at most four):
    what it counts ("1,500 special forces troops" -> special, forc, troop)."""
    return set(terms(" ".join(_counted(after)[0])))


def asked_to_count(question: str) -> set[str]:
    """The stemmed words of "how many X" up to its first verb or function word ("troops"
    of "How many troops were shipped?"); empty when the question names nothing to count."""
    asked = _HOW_MANY.search(question)
    if not asked:
        return set()
    return set(terms(" ".join(takewhile(lambda w: w not in STOP_WORDS, words(asked.group(1))))))


def counted_things(question: str) -> tuple[str, ...]:
    """The stemmed plural that a "how many" question counts, and the common word right before
    it ("shell", "artilleri" of "How many artillery shells ..."; "soldier" of "How many North
    Korean soldiers ..."); () when it is not such a question or no plural is in sight."""
    m = _HOW_MANY_OF.search(question)
    if m is None:
        return ()
    cased = WORD.findall(question[m.end() :])[:_HEAD_WITHIN]
    for k, word in enumerate(cased):
        if _plural(word):
            before = cased[k - 1] if k else ""
            modifier = before[:1].islower() and before not in STOP_WORDS
            return tuple(terms(word)) + (tuple(terms(before)) if modifier else ())
    return ()


def _plural(word: str) -> bool:
    word = word.lower()
    if word in STOP_WORDS or word.isdigit():
        return False
    return word in _PLURALS or (
        len(word) > 3 and word.endswith("s") and not _NOT_PLURAL.search(word)
    )


def _uncounted(sentence: str, word: re.Match, wanted: tuple[str, ...]) -> bool:
    """True when ``word`` names one of the things ``wanted`` with no number of its own, and
    not inside a name ("the Commonwealth of Nations")."""
    if word.group()[:1].isupper() and word.start() > 0:
        return False
    stems = terms(word.group())
    if len(stems) != 1 or stems[0] not in wanted:
        return False
    before = words(sentence[max(0, word.start() - 40) : word.start()])[-3:]
    return not any(_NUMBER_WORD.fullmatch(w) for w in before)


# words that say how many without a number ("none", "twice", "half", "both", "all")
_QUANTITY = re.compile(
    r"\b(?:zero|none|no|nothing|nobody|never|once|twice|thrice|half|thirds?|quarters?|all|"
    r"every|each|single|multiple|both|any|some|numerous|many|minority|majority|most|"
    r"infinite(?:ly)?|variety|numbers?|countless|innumerable|first|second|fourth|fifth|"
    r"sixth|seventh|eighth|ninth|tenth)\b",
    re.IGNORECASE,
)
_FIRST_HOW = re.compile(r"\bhow\s+(\w+)", re.IGNORECASE)
_OTHER_WH = re.compile(r"\b(?:what|which|who|whom|whose|when|where|why)\b", re.IGNORECASE)


def without_figure(question: str, answer: str) -> bool:
    """True when a "how many" ``question`` (its only question word) is answered with no
    figure at all: no digits, no number word, no word of quantity ("howitzers and missiles"
    for "How many fighter jets has South Korea sold?"). Of SQuAD 1.1 train's 5,026 such
    questions, 9 gold answers hold none (0.18%): lists of names ("Absecon, Brigantine, ...")
    and misplaced spans ("Israel")."""
    first = _FIRST_HOW.search(question)
    if first is None or first.group(1).lower() != "many" or _OTHER_WH.search(question):
        return False
    return not (_NUMBER_WORD.search(answer) or _QUANTITY.search(answer))


def counts_asked(question: str, sentence: str) -> bool:
    """True when a figure of ``sentence`` counts what the "how many X" ``question`` asks
    ("eight million artillery and rocket rounds" for "How many artillery shells ...?")."""
    wanted = set(counted_things(question))
    return bool(wanted) and any(
        wanted & counted(sentence[m.end() :]) for m in _NUMBER_WORD.finditer(sentence)
    )


def counts_other(question: str, sentence: str, start: int, end: int) -> bool:
    """True when the answer ``sentence[start:end]`` to a "how many X" ``question`` counts
    something else: the words after its number share none with the question, and X (or the
    word the question puts before it: "artillery shells") is named elsewhere in the sentence,
    uncounted."""
    wanted = counted_things(question)
    if not wanted:
        return False
    numbers = list(_NUMBER_WORD.finditer(sentence, start, end))
    if not numbers:
        return False
    after = numbers[-1].end()
    things, stop = _counted(sentence[after:])
    if not any(_plural(w) for w in things) or set(terms(" ".join(things))) & set(terms(question)):
        return False  # "435,000 worldwide": nothing counted in sight; or the question's thing
    return any(
        _uncounted(sentence, m, wanted)
        for m in WORD.finditer(sentence)
        if not start <= m.start() < max(end, after + stop)
    )
