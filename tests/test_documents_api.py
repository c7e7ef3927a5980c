"""Document management over HTTP, against a real uvicorn server with the real model, on a
copy of the seed index: upload, read, delete, and the index on disk kept in step."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path
from subprocess import CompletedProcess

import httpx
import numpy as np
import pytest

from index.store import load_index
from qa.http.api import create_app
from qa.settings import Settings
from tests.conftest import SEED_FILE, SEEDS, on_disk, running
from tests.pdf import tiny_pdf
from tests.test_cli import run
from tests.word import word_document

SEED_ID = SEED_FILE.name
LIGHTHOUSE = (
    "The Gull Rock lighthouse\n\n"
    "The lighthouse on Gull Rock was built in 1874 by the harbour board. "
    "Its keeper, Oswin Hale, kept the lamp lit for forty-one years. "
    "The light can be seen from twenty-two nautical miles away on a clear night."
)


class CountingEmbedder:
    """The real embedder, counting every text it is asked to embed."""

    def __init__(self, inner) -> None:
        self.inner = inner
        self.name, self.dim = inner.name, inner.dim
        self.texts: list[str] = []

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        self.texts += list(texts)
        return self.inner.encode(texts)


class Server:
    def __init__(self, client: httpx.Client, index_dir: Path, embedder: CountingEmbedder):
        self.client, self.index_dir, self.embedder = client, index_dir, embedder

    def upload(self, name: str, data: bytes | str) -> httpx.Response:
        if isinstance(data, str):
            data = data.encode("utf-8")
        return self.client.post("/documents", files={"file": (name, data)})

    def ask(self, question: str) -> dict:
        r = self.client.post("/ask", json={"question": question})
        assert r.status_code == 200, r.text
        return r.json()

    def disk(self) -> dict:
        return on_disk(self.index_dir)


def serve(index_dir: Path, embedder, **settings) -> Iterator[Server]:
    counting = CountingEmbedder(embedder)
    app = create_app(Settings(index_dir=index_dir, **settings), embedder=counting)
    # a client of the API says so (X-Requested-With), as every change must
    headers = {"X-Requested-With": "tests"}
    with running(app) as url, httpx.Client(base_url=url, timeout=60, headers=headers) as client:
        yield Server(client, index_dir, counting)


@pytest.fixture()
def server(fresh_seed_index, embedder) -> Iterator[Server]:
    yield from serve(fresh_seed_index, embedder, max_upload_bytes=50_000)


def test_upload_indexes_only_the_new_document_and_answers_from_it(server):
    before = server.disk()
    server.embedder.texts.clear()

    r = server.upload("lighthouse.txt", LIGHTHOUSE)

    assert r.status_code == 201, r.text
    body = r.json()
    assert body == {
        "doc_id": "lighthouse.txt",
        "title": "The Gull Rock lighthouse",
        "characters": len(LIGHTHOUSE),
        "sentences": 4,
        "replaced": False,
    }
    after = server.disk()
    assert set(after["documents"]) == {SEED_ID, "lighthouse.txt"}
    assert after["documents"][SEED_ID] == before["documents"][SEED_ID]
    # only the new document's sentences were embedded (its passages pooled from them), none
    # of the seed's
    new = after["documents"]["lighthouse.txt"]
    assert len(server.embedder.texts) == new["sentences"]
    assert all(t in LIGHTHOUSE for t in server.embedder.texts)
    assert load_index(server.index_dir).doc_ids == [SEED_ID, "lighthouse.txt"]

    listed = server.client.get("/documents").json()
    assert [d["id"] for d in listed] == [SEED_ID, "lighthouse.txt"]
    answer = server.ask("Who was the keeper of the lighthouse?")
    assert "Oswin Hale" in answer["answer"]
    assert answer["citations"][0]["doc_id"] == "lighthouse.txt"


def test_get_returns_the_text_and_sentence_offsets_that_citations_use(server):
    r = server.client.get(f"/documents/{SEED_ID}")
    assert r.status_code == 200
    doc = r.json()
    text = SEED_FILE.read_text(encoding="utf-8")
    assert doc["id"] == SEED_ID and doc["text"] == text
    sentences = [tuple(s) for s in doc["sentences"]]
    assert sentences == sorted(sentences) and all(0 <= a < b <= len(text) for a, b in sentences)
    cited = server.ask("How many troops were shipped?")["citations"][0]
    assert (cited["start"], cited["end"]) in sentences


def test_delete_removes_the_document_everywhere_without_embedding(server):
    assert server.upload("lighthouse.txt", LIGHTHOUSE).status_code == 201
    server.embedder.texts.clear()

    r = server.client.delete("/documents/lighthouse.txt")

    assert r.status_code == 200 and r.json() == {"doc_id": "lighthouse.txt", "documents": 1}
    assert server.embedder.texts == []
    assert set(server.disk()["documents"]) == {SEED_ID}
    assert server.client.get("/documents/lighthouse.txt").status_code == 404
    answer = server.ask("Who was the keeper of the lighthouse?")
    assert all(c["doc_id"] == SEED_ID for c in answer["citations"] + answer["passages"])
    assert "1,500" in server.ask("How many troops were shipped?")["answer"]


def test_uploading_the_same_name_replaces_the_document(server):
    server.upload("lighthouse.txt", LIGHTHOUSE)
    r = server.upload("lighthouse.txt", "The lighthouse on Gull Rock is painted red and white.")
    assert r.json()["replaced"] is True
    assert len(server.client.get("/documents").json()) == 2
    text = server.client.get("/documents/lighthouse.txt").json()["text"]
    assert text == "The lighthouse on Gull Rock is painted red and white."
    cited = server.ask("What colour is the lighthouse painted?")["citations"]
    assert cited[0]["text"] == text


def test_html_and_pdf_are_indexed_as_their_text(server):
    page = (
        b"<html><head><title>Ferry timetable</title><style>p{color:red}</style></head>"
        b"<body><h1>Ferry timetable</h1><script>var x = 'hidden words';</script>"
        b"<p>The first ferry to Gull Rock leaves at <b>6:40</b> every morning.</p></body></html>"
    )
    r = server.upload("ferry.html", page)
    assert r.status_code == 201, r.text
    text = server.client.get("/documents/ferry.html").json()["text"]
    assert text == "Ferry timetable\n\nThe first ferry to Gull Rock leaves at 6:40 every morning."

    pdf = tiny_pdf(["The Gull Rock museum opens at ten o'clock.", "Entry costs four pounds."])
    r = server.upload("museum.pdf", pdf)
    assert r.status_code == 201, r.text
    assert "Entry costs four pounds." in server.client.get("/documents/museum.pdf").json()["text"]
    assert "four pounds" in server.ask("How much does entry to the museum cost?")["text"]


def test_a_word_document_is_uploaded_answered_from_and_cited_exactly(server):
    data = word_document(
        "Gull Rock ferry",
        ["The ferry to Gull Rock is run by the island council.", "Bicycles travel free."],
        table=[["Day", "First ferry"], ["Weekdays", "6:40"], ["Sundays", "9:15"]],
        after="The last ferry leaves the island at 18:10 every evening.",
    )
    r = server.upload("ferry.docx", data)
    assert r.status_code == 201, r.text
    assert r.json()["doc_id"] == "ferry.docx" and r.json()["title"] == "Gull Rock ferry"
    document = server.client.get("/documents/ferry.docx").json()
    text = document["text"]
    assert "Weekdays | 6:40" in text and "Bicycles travel free." in text

    answer = server.ask("When does the last ferry leave the island?")

    assert "18:10" in answer["answer"]
    cited = answer["citations"][0]
    assert cited["doc_id"] == "ferry.docx"
    assert text[cited["start"] : cited["end"]] == cited["text"]
    assert cited["text"] == "The last ferry leaves the island at 18:10 every evening."
    assert [cited["start"], cited["end"]] in document["sentences"]


def test_a_folder_in_the_upload_name_is_dropped(server):
    r = server.upload("../../etc/notes.md", "# Notes\n\nThe harbour closes at dusk.")
    assert r.status_code == 201 and r.json()["doc_id"] == "notes.md"


@pytest.mark.parametrize(
    "size, fragment",
    [
        (70_000, "the upload is 70,"),  # refused on its declared length, before reading it
        (50_001, "big.txt is 50,001 bytes"),  # read, then refused
    ],
)
def test_too_large_is_413_with_a_message_and_the_index_unchanged(server, size, fragment):
    before = server.disk()
    r = server.upload("big.txt", b"w" * size)
    assert r.status_code == 413
    detail = r.json()["detail"]
    assert fragment in detail and "limited to 50,000 bytes" in detail
    assert "QA_MAX_UPLOAD_BYTES" in detail
    assert server.disk() == before


@pytest.mark.parametrize(
    "name, data, status, fragment",
    [
        ("latin1.txt", b"caf\xe9 cr\xe8me br\xfbl\xe9e", 422, "not valid UTF-8"),
        ("broken.pdf", b"%PDF-1.4\n1 0 obj << /Type /Catalog", 422, "not a readable PDF"),
        ("truncated.pdf", tiny_pdf(["Half a file."])[:150], 422, "not a readable PDF"),
        ("scan.pdf", tiny_pdf([]), 422, "holds no text"),
        ("empty.txt", b"", 422, "holds no text"),
        ("blank.md", b"  \n\n\t", 422, "holds no text"),
        ("report.docx", b"PK\x03\x04", 422, "not a readable Word document"),
        ("slides.pptx", b"PK\x03\x04", 415, ".pptx files are not indexed"),
        ("README", b"plain words", 415, "files without a suffix"),
        ("image.png", b"\x89PNG\r\n\x1a\n\x00\x00", 415, "use one of .txt, .md, .html"),
    ],
)
def test_unreadable_files_are_4xx_and_leave_the_index_as_it_was(
    server, name, data, status, fragment
):
    before = server.disk()
    r = server.upload(name, data)
    assert r.status_code == status, r.text
    assert fragment in r.json()["detail"]
    assert server.disk() == before
    assert [d["id"] for d in server.client.get("/documents").json()] == [SEED_ID]


def test_a_request_without_a_file_is_422(server):
    r = server.client.post("/documents", data={"other": "x"})
    assert r.status_code == 422 and "field `file`" in r.json()["detail"]
    r = server.client.post("/documents", json={"file": "x"})
    assert r.status_code == 422


@pytest.mark.parametrize("method", ["GET", "DELETE"])
def test_unknown_document_is_404(server, method):
    r = server.client.request(method, "/documents/no/such/file.txt")
    assert r.status_code == 404
    assert "no document 'no/such/file.txt'" in r.json()["detail"]


def test_deleting_the_last_document_is_409_and_keeps_it(server):
    r = server.client.delete(f"/documents/{SEED_ID}")
    assert r.status_code == 409
    assert "only document" in r.json()["detail"]
    assert set(server.disk()["documents"]) == {SEED_ID}


def test_uploading_without_an_index_creates_one(tmp_path, embedder):
    index_dir = tmp_path / "new-index"
    for s in serve(index_dir, embedder):
        assert s.client.get("/health").json()["ready"] is False
        assert s.upload("lighthouse.txt", LIGHTHOUSE).status_code == 201
        assert s.client.get("/health").json()["ready"] is True
        assert load_index(index_dir).doc_ids == ["lighthouse.txt"]
        assert "Oswin Hale" in s.ask("Who kept the lamp lit?")["answer"]


def test_qa_index_keeps_uploaded_documents_unless_told_to_drop_them(server, tmp_path):
    r = server.upload("lighthouse.txt", LIGHTHOUSE)
    assert r.status_code == 201, r.text
    listed = {d["id"]: d["uploaded"] for d in server.client.get("/documents").json()}
    assert listed == {SEED_ID: False, "lighthouse.txt": True}

    def qa_index(*args: str) -> CompletedProcess:
        done = run("index", *args, "--index-dir", str(server.index_dir))
        assert done.returncode == 0, done.stderr
        return done

    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / SEED_ID).write_bytes(SEED_FILE.read_bytes())
    # the upload's text exists only in the index: re-indexing the folder keeps it, and says so
    done = qa_index(str(folder))
    assert "kept 1 uploaded document (lighthouse.txt)" in done.stdout
    kept = load_index(server.index_dir)
    assert kept.doc_ids == [SEED_ID, "lighthouse.txt"]
    assert kept.documents[1].text == LIGHTHOUSE and kept.documents[1].uploaded
    # a file of the same name in the folder takes its place (and is no upload any more)
    (folder / "lighthouse.txt").write_text(LIGHTHOUSE + " It was automated in 1990.", "utf-8")
    assert "kept" not in qa_index(str(folder)).stdout
    (lighthouse,) = [d for d in load_index(server.index_dir).documents if d.doc_id != SEED_ID]
    assert not lighthouse.uploaded and lighthouse.text.endswith("1990.")
    # and --drop-uploads indexes the folder alone
    server.upload("notes.txt", "The harbour board met on Tuesdays.")
    assert "kept" not in qa_index(str(SEEDS), "--drop-uploads").stdout
    assert load_index(server.index_dir).doc_ids == [SEED_ID]
