"""Text out of .txt, .md, .html, .pdf and .docx files, for uploads and for `qa index`."""

import io
import json
import logging
import zipfile

import pytest

from index.errors import UnreadableDocument, UnsupportedType
from index.extract import extract_text
from index.read import read_documents
from index.split import split_sentences
from index.store import load_index
from tests.pdf import tiny_pdf
from tests.test_cli import run
from tests.word import word_document


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


def zip_of(files: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    return out.getvalue()


def test_docx_paragraphs_and_table_rows_in_reading_order():
    data = word_document(
        "Gull Rock lighthouse",
        ["Built  in 1874 by the harbour board.\tIts lamp burns oil.", "", "Keepers:"],
        table=[["Keeper", "Years"], ["Oswin Hale", "1874-1915"]],
        after="It was automated in 1990.",
    )
    text = extract_text(data, "gull.docx")
    assert text.split("\n\n") == [
        "Gull Rock lighthouse",
        "Built in 1874 by the harbour board. Its lamp burns oil.",
        "Keepers:",
        "Keeper | Years",
        "Oswin Hale | 1874-1915",
        "It was automated in 1990.",
    ]
    for span in split_sentences(text):
        assert text[span.start : span.end].strip() == text[span.start : span.end]


def test_docx_merged_cells_are_read_once():
    from docx import Document

    document = Document(io.BytesIO(word_document("Rota", [], table=[["a", "b"], ["c", "d"]])))
    table = document.tables[0]
    table.cell(0, 0).merge(table.cell(0, 1)).text = "Summer rota"
    out = io.BytesIO()
    document.save(out)
    text = extract_text(out.getvalue(), "rota.docx")
    assert text.split("\n\n") == ["Rota", "Summer rota", "c | d"]


def test_a_docx_that_would_inflate_too_far_is_refused_unread():
    # 300 MB of zeros deflate to a few hundred kilobytes: read whole, they would not fit
    out = io.BytesIO()
    with (
        zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as archive,
        archive.open("word/document.xml", "w") as member,
    ):
        for _ in range(300):
            member.write(bytes(1 << 20))
    with pytest.raises(UnreadableDocument, match="bomb.docx unpacks to 314,572,800 bytes"):
        extract_text(out.getvalue(), "bomb.docx")


@pytest.mark.parametrize(
    "name, data, error",
    [
        ("a.pdf", b"not a pdf at all", UnreadableDocument),
        ("a.pdf", tiny_pdf(["Cut short."])[:120], UnreadableDocument),
        ("a.pdf", tiny_pdf([]), UnreadableDocument),
        ("a.txt", b"\xff\xfe\x00a", UnreadableDocument),
        ("a.html", b"<html><script>only()</script></html>", UnreadableDocument),
        ("a.docx", b"PK\x03\x04", UnreadableDocument),
        ("a.docx", tiny_pdf(["A PDF named .docx."]), UnreadableDocument),
        ("a.docx", zip_of({"notes.txt": b"a zip, not a Word document"}), UnreadableDocument),
        ("a.docx", word_document("", []), UnreadableDocument),
        ("a.pptx", b"PK", UnsupportedType),
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


def test_qa_index_of_a_folder_with_a_docx(tmp_path):
    folder, index_dir = tmp_path / "docs", tmp_path / "index"
    folder.mkdir()
    data = word_document(
        "Gull Rock lighthouse",
        ["The lighthouse on Gull Rock was built in 1874 by the harbour board."],
        table=[["Keeper", "Years"], ["Oswin Hale", "1874-1915"]],
    )
    (folder / "gull.docx").write_bytes(data)
    (folder / "notes.md").write_text("Gulls nest on the cliffs.", encoding="utf-8")

    done = run("index", str(folder), "--index-dir", str(index_dir))

    assert done.returncode == 0, done.stderr
    assert "indexed 2 documents" in done.stdout
    index = load_index(index_dir)
    docs = {d.doc_id: d.text for d in index.documents}
    assert docs["gull.docx"] == extract_text(data, "gull.docx")
    done = run(
        "ask", "When was the lighthouse built?", "--json", env={"QA_INDEX_DIR": str(index_dir)}
    )
    assert done.returncode == 0, done.stderr
    body = json.loads(done.stdout)
    assert "1874" in body["answer"]
    cited = body["citations"][0]
    assert cited["doc_id"] == "gull.docx"
    assert docs["gull.docx"][cited["start"] : cited["end"]] == cited["text"]
