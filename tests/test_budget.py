"""Hostile files that are tiny on the wire and huge to read: each is refused (or read) in
bounded time and memory, never holding anything else up."""

import itertools
import re

import pytest

from index.budget import Budget, prepare
from index.errors import OverBudget
from index.extract import MAX_PDF_PAGE_TOKENS, extract_text
from index.read import read_documents
from index.split import MAX_PIECE_CHARS, MAX_PIECE_ENDS, _blocks, _pieces, split_sentences
from tests.conftest import SEED_FILE
from tests.pdf import flooded_pdf, tiny_pdf

NESTED_DIVS = b"<html><body>" + b"<div>" * 100_000 + b"Deep inside." + b"</div>" * 100_000


def test_a_pdf_of_half_a_million_operators_is_refused_before_it_is_interpreted():
    pdf = flooded_pdf(500_000)
    assert len(pdf) < 12_000  # 11 KB on the wire, 3.5 MB of content to interpret
    with pytest.raises(OverBudget, match=f"at most {MAX_PDF_PAGE_TOKENS:,} a page"):
        prepare(pdf, "flood.pdf", Budget())


def test_a_reader_past_its_time_is_killed_and_named():
    pdf = flooded_pdf(45_000, pages=22)  # under the operator caps, about 5 s of PDFium
    with pytest.raises(OverBudget, match=r"more than 1 s to read \(the QA_EXTRACT_SECONDS"):
        prepare(pdf, "slow.pdf", Budget(seconds=1))


def test_a_reader_past_its_memory_fails_in_its_own_process():
    # 50,000 operators take pypdf more memory than this budget; a text file does not
    assert prepare(b"Small. Text.", "small.txt", Budget(memory_mb=48)).text == "Small. Text."
    with pytest.raises(OverBudget, match=r"more than 48 MB to read \(the QA_EXTRACT_MEMORY_MB"):
        prepare(flooded_pdf(49_000), "big.pdf", Budget(memory_mb=48))


def test_the_worker_reports_unreadable_files_as_before():
    from index.errors import UnreadableDocument, UnsupportedType

    with pytest.raises(UnsupportedType, match=".pptx files are not indexed"):
        prepare(b"PK", "a.pptx", Budget())
    with pytest.raises(UnreadableDocument, match="not a readable Word document"):
        prepare(b"PK", "a.docx", Budget())
    with pytest.raises(UnreadableDocument, match="not valid UTF-8"):
        prepare(b"\xff\xfe", "a.txt", Budget())
    done = prepare(tiny_pdf(["The ferry leaves at noon.", "It is late."]), "f.pdf", Budget())
    assert [done.text[s.start : s.end] for s in done.spans] == [
        "The ferry leaves at noon.",
        "It is late.",
    ]


def test_deeply_nested_html_is_read_in_one_pass():
    # 1.1 MB of nested <div>s: quadratic in a tree walk (never answered in 300 s)
    assert len(NESTED_DIVS) > 1_100_000
    assert prepare(NESTED_DIVS, "deep.html", Budget(seconds=20)).text == "Deep inside."
    # unclosed hidden elements and a <head> never closed hide what they should
    page = b"<head><title>T</title><meta charset=utf-8><body><p>Shown.</p><svg><p>hidden</p></svg><p>Too."
    assert extract_text(page, "a.html") == "T\n\nShown.\n\nToo."


def test_pysbd_is_never_given_a_quadratic_block():
    text = "a. " * 8000  # one block of 8,000 sentences: 11.8 s when pysbd had it whole
    spans = split_sentences(text)
    assert len(spans) == 8000 and all(text[s.start : s.end] == "a." for s in spans)
    for block in _blocks(text):
        for piece in _pieces(text, block):
            chunk = text[piece.start : piece.end]
            assert len(chunk) <= MAX_PIECE_CHARS
            assert len(re.findall(r"[.!?]\s", chunk)) <= MAX_PIECE_ENDS


@pytest.mark.parametrize(
    "text",
    [
        "x" * 20_000,  # no space, no full stop: cut anywhere
        ("word " * 3000 + "\n") * 3,  # spaces only
        "Dr. Smith arrived. " * 2000 + "The end",
        "Überschrift\n\n" + "Der Zug fährt um 9 Uhr. " * 600 + "\n\n\nEnde.",
    ],
)
def test_cut_blocks_keep_exact_offsets_and_every_character(text):
    spans = split_sentences(text)
    assert all(text[s.start : s.end] == text[s.start : s.end].strip() for s in spans)
    assert all(a.end <= b.start for a, b in itertools.pairwise(spans))
    covered = "".join(text[s.start : s.end] for s in spans)
    assert "".join(covered.split()) == "".join(text.split())


def test_real_paragraphs_are_split_as_pysbd_splits_them_whole():
    import pysbd

    # pysbd's own character spans (index/split.py skips that step and finds the sentences
    # itself): the same sentences at the same offsets
    segmenter = pysbd.Segmenter(language="en", clean=False, char_span=True)
    text = SEED_FILE.read_text(encoding="utf-8")
    for block in _blocks(text):
        assert _pieces(text, block) == [block]  # never cut: under both limits
    whole = [
        (b.start + p.start, p.sent.strip())
        for b in _blocks(text)
        for p in segmenter.segment(text[b.start : b.end])
    ]
    assert [(s.start, text[s.start : s.end]) for s in split_sentences(text)] == [
        (at, w) for at, w in whole if w
    ]


def test_qa_index_reads_html_and_pdf_within_the_budget_and_skips_what_is_over(tmp_path, caplog):
    (tmp_path / "slow.pdf").write_bytes(flooded_pdf(45_000, pages=22))  # about 5 s (PDFium)
    (tmp_path / "flood.pdf").write_bytes(flooded_pdf(500_000))
    (tmp_path / "deep.html").write_bytes(b"<div>" * 16_000 + b"Deep inside." + b"</div>" * 16_000)
    (tmp_path / "leaflet.pdf").write_bytes(tiny_pdf(["The ferry leaves at 6:40."]))
    with caplog.at_level("WARNING"):
        docs = {d.doc_id: d.text for d in read_documents([tmp_path], Budget(seconds=3))}
    assert docs == {"deep.html": "Deep inside.", "leaflet.pdf": "The ferry leaves at 6:40."}
    warned = " ".join(r.getMessage() for r in caplog.records)
    assert "slow.pdf takes more than 3 s" in warned and "flood.pdf has a page" in warned


def test_a_small_text_file_is_read_here_as_the_worker_reads_it(monkeypatch):
    from index import budget

    data = SEED_FILE.read_bytes()
    assert len(data) <= budget.IN_PROCESS_BYTES
    here = prepare(data, "seed.txt", Budget())
    monkeypatch.setattr(budget, "IN_PROCESS_BYTES", 0)  # now through a worker
    assert prepare(data, "seed.txt", Budget()) == here
    # refusals read alike on either side
    with pytest.raises(budget.UnreadableDocument, match="not valid UTF-8"):
        prepare(b"\xff\xfe", "a.txt", Budget())


def test_a_large_text_file_is_still_read_in_a_worker_within_its_time():
    # 3 MB of sentences: past IN_PROCESS_BYTES, so a worker reads it and is stopped at 1 s
    data = b"The ferry leaves at noon and it is late again today. " * 60_000
    with pytest.raises(OverBudget, match=r"more than 1 s to read"):
        prepare(data, "long.txt", Budget(seconds=1))
