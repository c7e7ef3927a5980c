"""Text out of .txt, .md, .html and .pdf files, for uploads and for `qa index`."""

import logging

import pytest

from index.errors import UnreadableDocument, UnsupportedType
from index.extract import extract_text
from index.read import read_documents
from index.split import split_sentences
from tests.pdf import tiny_pdf


def test_html_keeps_visible_text_one_paragraph_per_block():
    page = (
        b"<!doctype html><html><head><title>Gull Rock</title><meta charset='utf-8'>"
        b"<style>p { color: red }</style><script>var hidden = 'never shown';</script></head>"
        b"<body><nav><a href='/'>Home</a></nav><h1>Gull Rock</h1>"
        b"<p>The island has\n   one <b>lighthouse</b> and one pub.</p>"
        b"<ul><li>Ferry at 6:40.</li><li>Ferry at 18:10.</li></ul>"
        b"<noscript>Enable JavaScript</noscript><template><p>Not rendered</p></template>"
        b"<p>Caf\xc3\xa9 prices &amp; opening times&nbsp;vary.</p></body></html>"
    )
    text = extract_text(page, "gull.html")
    assert text.split("\n\n") == [
        "Gull Rock",
        "Home",
        "Gull Rock",
        "The island has one lighthouse and one pub.",
        "Ferry at 6:40.",
        "Ferry at 18:10.",
        "Café prices & opening times vary.",
    ]
    assert "hidden" not in text and "color" not in text and "Not rendered" not in text


def test_html_markup_in_text_stays_text():
    text = extract_text(b"<p>Use &lt;script&gt; tags with care.</p>", "a.htm")
    assert text == "Use <script> tags with care."


def test_pdf_text_of_every_page_with_exact_sentence_offsets():
    text = extract_text(tiny_pdf(["The museum opens at ten.", "Entry is free."]), "m.pdf")
    assert "The museum opens at ten." in text and "Entry is free." in text
    for span in split_sentences(text):
        assert text[span.start : span.end].strip() == text[span.start : span.end]


@pytest.mark.parametrize(
    "name, data, error",
    [
        ("a.pdf", b"not a pdf at all", UnreadableDocument),
        ("a.pdf", tiny_pdf(["Cut short."])[:120], UnreadableDocument),
        ("a.pdf", tiny_pdf([]), UnreadableDocument),
        ("a.txt", b"\xff\xfe\x00a", UnreadableDocument),
        ("a.html", b"<html><script>only()</script></html>", UnreadableDocument),
        ("a.docx", b"PK", UnsupportedType),
        ("Makefile", b"all:", UnsupportedType),
    ],
)
def test_unreadable_files_raise_with_the_file_named(name, data, error):
    with pytest.raises(error, match=name):
        extract_text(data, name)


def test_qa_index_reads_html_and_pdf_and_skips_broken_files(tmp_path, caplog):
    (tmp_path / "page.html").write_bytes(b"<p>Oswin Hale keeps the lighthouse.</p>")
    (tmp_path / "leaflet.pdf").write_bytes(tiny_pdf(["The ferry leaves at 6:40."]))
    (tmp_path / "broken.pdf").write_bytes(b"%PDF-1.4 then nothing")
    (tmp_path / "notes.md").write_text("Gulls nest on the cliffs.", encoding="utf-8")
    with caplog.at_level(logging.WARNING):
        docs = {d.doc_id: d.text for d in read_documents([tmp_path])}
    assert docs == {
        "leaflet.pdf": "The ferry leaves at 6:40.",
        "notes.md": "Gulls nest on the cliffs.",
        "page.html": "Oswin Hale keeps the lighthouse.",
    }
    assert any("broken.pdf" in r.getMessage() for r in caplog.records)
