"""Citations a reader can follow back to the file, against a real server: the PDF page, the
heading of Markdown and Word files, the page boundaries of GET /documents/{id}, and the
original file from GET /documents/{id}/file, byte for byte and unable to run anything."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from index.build import index_paths
from index.chunk import Chunking
from index.extract import extract
from index.files import KeptFiles, files_beside
from index.stores.segments import SegmentStore
from qa.http.api import create_app
from qa.settings import Settings
from tests.conftest import running
from tests.placed import BREAKWATER, NOTES_MD, TICKET, TIDES, report_pdf, write_folder


@pytest.fixture(scope="module")
def placed(tmp_path_factory, embedder) -> tuple[Path, dict[str, bytes]]:
    """An index of the placed documents, their files kept beside it."""
    root = tmp_path_factory.mktemp("placed")
    files = write_folder(root / "docs")
    index_dir = root / "index"
    kept = KeptFiles(files_beside(index_dir))
    index_paths([root / "docs"], index_dir, embedder, Chunking(), tags=["harbour"], files=kept)
    return index_dir, files


@pytest.fixture(scope="module")
def server(placed, embedder) -> Iterator[httpx.Client]:
    index_dir, _ = placed
    app = create_app(Settings(index_dir=index_dir), embedder=embedder)
    with running(app) as url, httpx.Client(base_url=url, timeout=60) as client:
        yield client


def ask(client: httpx.Client, question: str, **scope) -> dict:
    r = client.post("/ask", json={"question": question, **scope})
    assert r.status_code == 200, r.text
    return r.json()


def test_extraction_gives_pages_and_headings():
    pdf = extract(report_pdf(), "report.pdf")
    assert [page for _, page in pdf.pages] == [1, 2, 3]
    assert pdf.page_at(pdf.text.index("breakwater")) == 3
    md = extract(NOTES_MD.encode(), "notes.md")
    assert md.section_at(md.text.index("spring tide")) == "Tides"
    assert md.section_at(md.text.index("puffins")) == "Birds"
    html = extract(
        b"<h1>Costs</h1><p>It is cheap.</p><h2>Times <i>of</i> day</h2><p>Late.</p>", "a.html"
    )
    assert html.section_at(html.text.index("cheap")) == "Costs"
    assert html.section_at(html.text.index("Late")) == "Times of day"
    assert extract(b"No headings here.", "a.txt").sections == ()


def test_printed_page_numbers_are_the_labels_of_the_pdf(server):
    headers = {"x-requested-with": "test"}
    r = server.post(
        "/documents", files={"file": ("front.pdf", report_pdf(labels=True))}, headers=headers
    )
    assert r.status_code == 201, r.text
    try:
        assert server.get("/documents/front.pdf").json()["page_labels"] == ["i", "ii", "iii"]
        r = server.post(
            "/ask",
            json={"question": "How much did the new breakwater cost?", "documents": ["front.pdf"]},
        )
        first = r.json()["citations"][0]
        assert (first["page"], first["page_label"]) == (3, "iii")
    finally:
        server.delete("/documents/front.pdf", headers=headers)


def test_a_pdf_citation_gives_its_page(server):
    result = ask(server, "How much did the new breakwater cost?")
    first = result["citations"][0]
    assert (first["doc_id"], first["text"], first["page"]) == ("report.pdf", BREAKWATER, 3)
    assert first["section"] is None and first["page_label"] is None
    doc = server.get("/documents/report.pdf").json()
    assert doc["text"][first["start"] : first["end"]] == first["text"]  # offsets as ever
    assert [page for _, page in doc["pages"]] == [1, 2, 3]
    start_of_3 = doc["pages"][2][0]
    assert doc["pages"][1][0] < start_of_3 <= first["start"]
    assert doc["file"] == "/documents/report.pdf/file" and doc["tags"] == ["harbour"]


@pytest.mark.parametrize(
    ("question", "doc_id", "text", "section"),
    [
        ("How high does the spring tide rise?", "notes.md", TIDES, "Tides"),
        ("How much is an adult ticket for the ferry?", "guide.docx", TICKET, "Costs"),
    ],
)
def test_markdown_and_word_citations_give_their_heading(server, question, doc_id, text, section):
    first = ask(server, question)["citations"][0]
    assert (first["doc_id"], first["text"], first["section"], first["page"]) == (
        doc_id,
        text,
        section,
        None,
    )
    doc = server.get(f"/documents/{doc_id}").json()
    assert section in [heading for _, heading in doc["sections"]] and doc["pages"] == []


def test_the_stream_and_the_openai_route_carry_the_page(server):
    with server.stream(
        "POST", "/ask", json={"question": "How much did the new breakwater cost?", "stream": True}
    ) as r:
        body = r.read().decode()
    assert '"page":3' in body.split("event: answer", 1)[1].replace(" ", "")
    r = server.post(
        "/v1/chat/completions",
        json={
            "model": "qa",
            "messages": [{"role": "user", "content": "How much did the new breakwater cost?"}],
        },
    )
    reply = r.json()
    assert reply["citations"][0]["page"] == 3
    assert "report.pdf, page 3, characters" in reply["choices"][0]["message"]["content"]


def test_the_original_files_come_back_byte_for_byte(server, placed):
    _, files = placed
    kinds = {
        "report.pdf": ("application/pdf", "inline"),
        "notes.md": ("text/plain; charset=utf-8", "inline"),
        "guide.docx": (
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
            "attachment",
        ),
    }
    for name, (kind, disposition) in kinds.items():
        r = server.get(f"/documents/{name}/file")
        assert r.status_code == 200, r.text
        assert r.content == files[name]
        assert r.headers["content-type"] == kind
        assert r.headers["content-disposition"].startswith(f'{disposition}; filename="{name}"')
        assert r.headers["x-content-type-options"] == "nosniff"
        csp = r.headers["content-security-policy"]
        assert "default-src 'none'" in csp and ("sandbox" in csp or name.endswith(".pdf"))


def test_an_uploaded_file_is_kept_served_as_text_and_removed_with_it(server, placed):
    index_dir, _ = placed
    page = b"<html><body><h1>Lamp</h1><p>The lamp is lit at dusk.</p><script>alert(1)</script></body></html>"
    headers = {"x-requested-with": "test"}
    r = server.post("/documents", files={"file": ("lamp.html", page)}, headers=headers)
    assert r.status_code == 201, r.text
    r = server.get("/documents/lamp.html/file")
    assert r.content == page and r.headers["content-type"] == "text/plain; charset=utf-8"
    assert "sandbox" in r.headers["content-security-policy"]
    assert server.get("/documents/lamp.html").json()["sections"] == [[0, "Lamp"]]
    kept = KeptFiles(files_beside(index_dir))
    assert kept.get("lamp.html") == page
    assert server.delete("/documents/lamp.html", headers=headers).status_code == 200
    assert kept.get("lamp.html") is None
    assert server.get("/documents/lamp.html/file").status_code == 404


def test_an_unknown_document_has_no_file(server):
    r = server.get("/documents/nothing.pdf/file")
    assert r.status_code == 404 and "nothing.pdf" in r.json()["detail"]


def test_places_and_tags_survive_a_merge_and_an_old_index_has_none(placed, tmp_path):
    index_dir, _ = placed
    merged = tmp_path / "merged"
    shutil.copytree(index_dir, merged)
    store = SegmentStore(merged)
    store.delete(["ferry-2019.txt"])
    store.compact()
    entries = {e.doc_id: e for e in SegmentStore(merged).documents()}
    assert entries["report.pdf"].places.page_at(10**6) == 3
    assert entries["notes.md"].tags == ("harbour",)
    assert entries["guide.docx"].places.sections[-1][1] == "Costs"
    # an index written before places and tags were kept reads as having none
    old = tmp_path / "old"
    shutil.copytree(index_dir, old)
    for rows in old.glob("seg-*/documents.jsonl"):
        lines = [json.loads(line) for line in rows.read_text().splitlines()]
        for row in lines:
            row.pop("places", None)
            row.pop("tags", None)
        rows.write_text("".join(json.dumps(row) + "\n" for row in lines))
    entry = next(e for e in SegmentStore(old).documents() if e.doc_id == "report.pdf")
    assert (entry.places.pages, entry.tags) == ((), ())


def test_qa_index_tags_the_documents_and_keeps_their_files(tmp_path, graphs):
    from tests.test_cli import run

    docs = tmp_path / "docs"
    files = write_folder(docs)
    index_dir = tmp_path / "ix"
    env = {"QA_ONNX_DIR": str(graphs)}
    r = run(
        "index",
        str(docs),
        "--index-dir",
        str(index_dir),
        "--tag",
        "harbour",
        "--tag",
        "2026",
        env=env,
    )
    assert r.returncode == 0, r.stderr
    entries = {e.doc_id: e for e in SegmentStore(index_dir).documents()}
    assert {e.tags for e in entries.values()} == {("2026", "harbour")}
    kept = KeptFiles(files_beside(index_dir))
    assert all(kept.get(name) == data for name, data in files.items())
    asking = {**env, "QA_INDEX_DIR": str(index_dir)}
    r = run("ask", "How much did the new breakwater cost?", "--tag", "harbour", env=asking)
    assert r.returncode == 0, r.stderr
    assert "report.pdf:" in r.stdout and "(page 3)" in r.stdout
    r = run("ask", "How much did it cost?", "--document", "nope.pdf", env=asking)
    assert r.returncode != 0 and "no document 'nope.pdf'" in r.stderr
    # a second run: a file gone takes its kept file along; a bad tag is refused
    (docs / "notes.md").unlink()
    r = run("index", str(docs), "--index-dir", str(index_dir), env=env)
    assert r.returncode == 0, r.stderr
    assert kept.get("notes.md") is None and kept.get("report.pdf") == files["report.pdf"]
    assert {e.tags for e in SegmentStore(index_dir).documents()} == {()}  # tags as now given
    r = run("index", str(docs), "--index-dir", str(index_dir), "--tag", " ", env=env)
    assert r.returncode != 0 and "a tag is 1 to 64 characters" in r.stderr


def test_new_tags_for_the_same_text_embed_nothing_again(placed, tmp_path, embedder):
    from tests.test_documents_api import CountingEmbedder

    index_dir, _ = placed
    copy = tmp_path / "index"
    shutil.copytree(index_dir, copy)
    counting = CountingEmbedder(embedder)
    docs = tmp_path / "docs"
    write_folder(docs)
    index_paths([docs], copy, counting, Chunking(), tags=["archive"])
    assert counting.texts == []
    entries = {e.doc_id: e for e in SegmentStore(copy).documents()}
    assert {e.tags for e in entries.values()} == {("archive",)}
    assert entries["report.pdf"].places.page_at(10**6) == 3
