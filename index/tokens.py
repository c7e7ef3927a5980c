"""Word tokens for lexical matching: lower-cased, stop words dropped, Snowball-stemmed.

BM25 (written with the index) and the answerer's overlap features (read path) must
tokenise identically, so both use this module."""

from __future__ import annotations

import itertools
import re
from functools import lru_cache

import Stemmer

# a word token: letters and digits, with inner commas, points and apostrophes ("1,500", "MI6's")
WORD = re.compile(r"[^\W_]+(?:[.,'’][^\W_]+)*", re.UNICODE)

STOP_WORDS = frozenset(
    """a about above after again against all also am an and any are as at be because been
    before being below between both but by can could did do does doing down during each few
    for from further had has have having he her here hers herself him himself his how i if in
    into is it its itself just me more most my myself no nor not now of off on once only or
    other our ours ourselves out over own same she should so some such than that the their
    theirs them themselves then there these they this those through to too under until up
    very was we were what when where which while who whom whose why will with would you your
    yours yourself yourselves s t did does done many much""".split()  # noqa: SIM905
)


@lru_cache(maxsize=1)
def _stemmer() -> Stemmer.Stemmer:
    return Stemmer.Stemmer("english")


def words(text: str) -> list[str]:
    """Lower-cased word tokens; numbers keep their inner commas and points ("1,500")."""
    return [w.lower().replace("’", "'") for w in WORD.findall(text)]


def terms(text: str) -> list[str]:
    """Stemmed content terms: the unit BM25 and overlap features count."""
    kept = [w for w in words(text) if w not in STOP_WORDS]
    return _stemmer().stemWords(kept)


def bigrams(ts: list[str]) -> list[str]:
    """Adjacent term pairs, joined by one space (a key no single term can be)."""
    return [f"{a} {b}" for a, b in itertools.pairwise(ts)]
