"""PDFs read as a person reads them: sentences whole across line, column and page breaks,
hyphenation and ligatures undone, page furniture out, footnotes apart, offsets exact, and
the page of every part of the text kept. Judged on real PDFs (shared/data/real-pdfs, made by
LibreOffice, pdfTeX, Google Docs and PDFKit); PDFs made here for the cases they lack."""

import re
from pathlib import Path

import pytest

from index.budget import Budget, prepare
from index.extract import extract
from index.paragraphs import known_words
from index.read import read_documents
from index.split import split_sentences
from tests.conftest import SHARED
from tests.pdf import column, laid_out_pdf

REAL = SHARED / "data" / "real-pdfs"
REAL_PDFS = sorted(p.name for p in REAL.glob("*.pdf"))
needs_real = pytest.mark.skipif(not REAL_PDFS, reason="shared/data/real-pdfs is not here")
# a sentence end: closing punctuation, perhaps inside quotes or brackets
_ENDS = re.compile(r"[.!?:;…][\"'”’)\]]*$")


def sentences(text: str) -> list[tuple[int, int, str]]:
    return [(s.start, s.end, text[s.start : s.end]) for s in split_sentences(text)]


def read(name: str):
    return extract((REAL / name).read_bytes(), name)


@needs_real
@pytest.mark.parametrize("name", REAL_PDFS)
def test_every_sentence_ends_at_a_sentence_end_or_is_a_line_of_its_own(name):
    """Not at a line break: a sentence without closing punctuation ends its paragraph and
    is short (a title, heading, table row, list or contents entry), and no paragraph goes
    on with a sentence cut short before it."""
    text = read(name).text
    for start, end, sentence in sentences(text):
        if _ENDS.search(sentence):
            continue
        assert text[end:].startswith("\n\n") or end == len(text), f"{sentence!r} is cut"
        assert len(sentence.split()) <= 12, f"{sentence!r} is no heading nor row"
    for paragraph in text.split("\n\n"):
        assert not paragraph[0].islower(), f"{paragraph[:60]!r} goes on from a cut sentence"


@needs_real
@pytest.mark.parametrize("name", REAL_PDFS)
def test_no_ligature_nor_end_of_line_hyphen_left_where_the_word_is_whole(name):
    text = read(name).text
    assert not re.search("[\ufb00-\ufb06]", text)
    words = {w.lower() for w in re.findall(r"[^\W\d_]+", text)}
    for head, tail in re.findall(r"([^\W\d_]+)-([^\W\d_]+)", text):
        joined = (head + tail).lower()
        assert joined not in words and joined not in known_words(), f"{head}-{tail}"


@needs_real
def test_the_two_column_paper_reads_in_order_with_its_words_whole():
    text = read("multicolumn.pdf").text
    said = [s for _, _, s in sentences(text)]
    assert "This is a sample document with two columns filled with Lorem Ipsum text." in said
    assert "Lorem ipsum dolor sit amet, consectetuer adipiscing elit." in said
    # the left column's last sentence runs on at the top of the right one
    assert "Donec nonummy pellentesque ante." in said
    # and the right column's last one on the next page
    assert "Nam feugiat lacus vel est." in said
    assert "Two-Column Document with Lorem Ipsum" in said  # a real hyphen stays
    assert "Official Language" in text and "\n\n1\n\n" not in text  # page numbers out


@needs_real
def test_page_numbers_and_a_table_of_contents_stay_out_of_the_prose():
    text = read("pdflatex-outline.pdf").text
    paragraphs = text.split("\n\n")
    assert paragraphs[:3] == ["Contents", "1 Foo | 2", "2 Bar | 2"]
    assert "5 Bar" in paragraphs and not {"1", "2", "3", "4"} & set(paragraphs)
    four = read("pdflatex-4-pages.pdf").text
    assert "\n\n" not in four  # one paragraph over four pages, no page number inside
    assert "you will get no information." in four


@needs_real
def test_footnotes_of_a_google_doc_follow_the_table_apart():
    text = read("google-doc-document.pdf").text
    paragraphs = text.split("\n\n")
    assert paragraphs[-3:] == ["¹ 2021 estimate", "² 2020 estimate", "³ 2020 estimate"]
    assert "Beautiful is better than ugly." in paragraphs
    assert any("273.879.750¹" in p for p in paragraphs)


@needs_real
def test_pages_of_the_text_and_offsets_exact_in_and_out_of_the_worker():
    data = (REAL / "multicolumn.pdf").read_bytes()
    extracted = extract(data, "multicolumn.pdf")
    starts = [start for start, _ in extracted.pages]
    assert [page for _, page in extracted.pages] == [1, 2, 3] and starts[0] == 0
    assert extracted.page_at(extracted.text.index("Suspendisse vel felis")) == 2
    assert extracted.page_at(extracted.text.index("Table 1: EU")) == 3
    prepared = prepare(data, "multicolumn.pdf", Budget())
    assert prepared.text == extracted.text and prepared.pages == extracted.pages
    assert prepared.spans == split_sentences(extracted.text)
    for span in prepared.spans:
        sentence = prepared.text[span.start : span.end]
        assert sentence == sentence.strip() and sentence


@needs_real
def test_qa_index_reads_the_real_pdfs_as_extract_does():
    docs = {d.doc_id: d.text for d in read_documents([REAL], Budget())}
    assert set(REAL_PDFS) <= set(docs)
    assert all(docs[name] == read(name).text for name in REAL_PDFS)


# PDFs made here, in Courier: a line of 60 characters is full at size 10
PROSE = (
    "The harbour board built the lighthouse on Gull Rock in 1874, after the loss of the "
    "brig Mary Ellen with all hands on the reef below it. Its first keeper was Oswin Hale, "
    "who kept the lamp burning for forty-one years and wrote down every ship that passed."
)


def over_two_pages(text: str) -> tuple[list, list]:
    """``text`` as a column whose first three lines end page 1 and the rest start page 2."""
    lines = column(text)
    rest = [(x, y + 36, size, line) for x, y, size, line in lines[3:]]
    return lines[:3], rest


def test_a_running_head_and_footer_are_dropped_and_sentences_run_over_pages():
    first, second = over_two_pages(PROSE)
    pages = [
        [(72, 760, 9, "GULL ROCK HERITAGE TRUST"), *lines, (290, 40, 9, f"Page {n} of 2")]
        for n, lines in enumerate([first, second], 1)
    ]
    extracted = extract(laid_out_pdf(pages), "trust.pdf")
    assert extracted.text == PROSE
    assert extracted.page_at(extracted.text.index("every ship")) == 2
    assert extracted.pages[0] == (0, 1) and extracted.pages[1][1] == 2


def test_margin_line_numbers_of_a_transcript_are_dropped():
    testimony = (
        "Q. Where were you on the night of the ninth of March? A. I was at the lighthouse "
        "with the keeper, as I had been every night that winter, because the lamp needed two "
        "of us when the wind came from the east. Q. Did you see the brig? A. No."
    )
    lines = column(testimony, x=108, width=50)
    numbers = [(72, y, 10, str(n)) for n, (_, y, _, _) in enumerate(lines, 1)]
    text = extract(laid_out_pdf([numbers + lines]), "transcript.pdf").text
    assert text == testimony


def test_a_footnote_is_kept_apart_from_the_sentence_it_interrupts():
    first, second = over_two_pages(PROSE)
    note = [(72, 60, 7, "1 The brig was lost in 1871.")]
    extracted = extract(laid_out_pdf([first + note, second]), "notes.pdf")
    assert extracted.text == PROSE + "\n\n1 The brig was lost in 1871."
    assert extracted.page_at(extracted.text.index("The brig was")) == 1
    assert extracted.page_at(extracted.text.index("every ship")) == 2


@pytest.mark.parametrize(
    "ends, joined",
    [
        (("a famous infor-", "mation office"), "a famous information office"),
        (("a well-", "known charity"), "a well-known charity"),  # a compound: both words
        (("the Anglo-", "Saxon harbour"), "the Anglo-Saxon harbour"),
        (("a Boeing 737–", "9 airliner"), "a Boeing 737–9 airliner"),
        (("it was 1874 –", "not 1875"), "it was 1874 – not 1875"),
    ],
)
def test_end_of_line_hyphens_go_only_where_the_word_is_whole(ends, joined):
    head, tail = ends
    filler = "The keeper wrote that there was"
    top = f"{filler} {head}".rjust(60)  # full lines: the next word would not fit
    lines = [(72, 720, 10, top), (72, 708, 10, f"{tail} on the quay, near the ferry steps.")]
    text = extract(laid_out_pdf([lines]), "hyphen.pdf").text
    assert text == f"{filler} {joined} on the quay, near the ferry steps."


def test_short_lines_and_headings_stay_lines_of_their_own():
    pages = [
        [
            (72, 740, 16, "Ferry times"),
            (72, 716, 10, "Monday: 6:40 and 18:10"),
            (72, 704, 10, "Sunday: no ferry"),
            *column(PROSE, top=680),
        ]
    ]
    text = extract(laid_out_pdf(pages), "ferry.pdf").text
    assert text.split("\n\n") == [
        "Ferry times",
        "Monday: 6:40 and 18:10",
        "Sunday: no ferry",
        PROSE,
    ]


def test_a_pdf_without_text_is_still_refused_and_a_tiny_one_read():
    from index.errors import UnreadableDocument

    with pytest.raises(UnreadableDocument, match="holds no text"):
        extract(laid_out_pdf([[]]), "blank.pdf")
    assert extract(laid_out_pdf([[(72, 720, 10, "One line.")]]), "one.pdf").text == "One line."


def test_seed_text_reads_as_before(tmp_path):
    from tests.conftest import SEED_FILE

    [doc] = read_documents([SEED_FILE])
    assert doc.text == Path(SEED_FILE).read_text(encoding="utf-8")
