import itertools

from index.split import split_sentences
from tests.conftest import SEED_FILE


def test_every_seed_sentence_reproduces_from_its_offsets():
    text = SEED_FILE.read_text(encoding="utf-8")
    spans = split_sentences(text)
    assert len(spans) >= 20
    for span in spans:
        sentence = text[span.start : span.end]
        assert sentence == sentence.strip() and sentence
    # in order, no overlaps, and nothing but whitespace left between sentences
    covered = "".join(text[s.start : s.end] for s in spans)
    assert "".join(covered.split()) == "".join(text.split())
    assert all(a.end <= b.start for a, b in itertools.pairwise(spans))


def test_known_sentence_is_whole():
    text = SEED_FILE.read_text(encoding="utf-8")
    sentences = [text[s.start : s.end] for s in split_sentences(text)]
    first = next(s for s in sentences if "1,500 special forces troops" in s)
    assert first.startswith("North Korea has shipped 1,500")
    assert first.endswith("South Korea’s spy agency said on Friday.")
    assert "Advertisement" in sentences  # page junk stands alone, never glued to a sentence


def test_blank_lines_are_boundaries_and_offsets_count_characters_not_bytes():
    text = (
        "Überschrift\n\nDer Zug fährt um 9 Uhr. Er kommt an.\n\n\n  Dr. Smith left at 5 p.m. today."
    )
    spans = split_sentences(text)
    got = [text[s.start : s.end] for s in spans]
    assert got[0] == "Überschrift"
    assert "Der Zug fährt um 9 Uhr." in got
    assert got[-1] == "Dr. Smith left at 5 p.m. today."


def test_empty_and_whitespace_text():
    assert split_sentences("") == []
    assert split_sentences(" \n\n \t") == []
