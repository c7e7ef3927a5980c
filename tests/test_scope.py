"""Questions scoped to chosen documents: two timetables answer "when does the ferry
depart?" differently, and a question scoped to one answers from it alone. On every store
(the scope is a filter of the store's searches: k hits whenever the scope holds k), and over
HTTP: /ask, its stream and the `openai` client's extra_body; an unknown id or tag is a 422
naming it."""

from __future__ import annotations

import json
from collections.abc import Iterator

import httpx
import openai
import pytest

from index.build import index_paths
from index.chunk import Chunking
from index.files import KeptFiles
from index.places import Places
from index.read import Document
from index.sync import sync_store
from qa.http.api import create_app
from qa.read.retrieve import HybridRetriever
from qa.settings import Settings
from qa.stores import MilvusStores
from tests.conftest import SEED_FILE, running
from tests.placed import FERRY_EARLY, FERRY_LATE, write_folder
from tests.stores import STORES, make_store, new_documents

QUESTION = "When does the island ferry depart?"
EARLY, LATE = "nine o'clock", "half past seven"


def documents() -> list[Document]:
    seed = SEED_FILE.read_text(encoding="utf-8")
    return [
        Document(SEED_FILE.name, seed),
        Document("ferry-2019.txt", FERRY_EARLY, tags=("old",)),
        Document(
            "ferry-2024.txt",
            FERRY_LATE,
            tags=("new", "timetables"),
            places=Places(sections=((0, "Timetable of 2024"),)),
        ),
    ]


@pytest.fixture(params=STORES)
def store(request, embedder, tmp_path, milvus_prefix):
    milvus = (request.getfixturevalue("milvus_uri"), milvus_prefix)
    return make_store(
        request.param,
        documents(),
        embedder,
        folder=tmp_path / "index",
        milvus=milvus if request.param == "milvus" else None,
    )


def test_a_store_keeps_tags_and_places(store):
    entries = {e.doc_id: e for e in store.documents()}
    assert entries["ferry-2024.txt"].tags == ("new", "timetables")
    assert entries["ferry-2024.txt"].places.section_at(40) == "Timetable of 2024"
    assert entries["ferry-2019.txt"].places == Places()
    assert store.document("ferry-2024.txt").entry.tags == ("new", "timetables")


def test_scoped_searches_hold_only_the_scope_and_k_of_it(store, embedder):
    vector = embedder.encode([QUESTION])[0]
    only = frozenset({"ferry-2019.txt"})
    per_doc = {e.doc_id: e for e in store.documents()}["ferry-2019.txt"]
    for kind, units in (("sentence", per_doc.sentences), ("passage", per_doc.passages)):
        hits = store.dense_search(kind, vector, 50, only)
        assert len(hits) == units  # every unit of the scope, though the seed's are nearer
        found = store.passages([h.id for h in hits]) if kind == "passage" else None
        assert found is None or {p.doc_id for p in found} == set(only)
    bm25 = store.bm25_search("sentence", ["ferri", "depart"], 50, only)
    assert bm25 and len(bm25) <= per_doc.sentences
    assert store.bm25_search("sentence", ["troop"], 5, only) == []  # the seed's word
    assert store.dense_search("passage", vector, 5, frozenset()) == []


@pytest.mark.parametrize(("doc_id", "said"), [("ferry-2019.txt", EARLY), ("ferry-2024.txt", LATE)])
def test_the_retriever_reads_only_the_scope(store, embedder, doc_id, said):
    retrieval = HybridRetriever(store, embedder).retrieve(QUESTION, 5, frozenset({doc_id}))
    assert {p.doc_id for p in retrieval.passages} == {doc_id}
    assert said in retrieval.passages[0].text


def test_a_retag_of_the_same_text_is_seen(store, embedder):
    (doc,) = new_documents([Document("ferry-2019.txt", FERRY_EARLY, tags=("archive",))], embedder)
    store.add([doc])
    store.refresh()
    assert {e.doc_id: e for e in store.documents()}["ferry-2019.txt"].tags == ("archive",)
    (doc,) = new_documents([Document("ferry-2024.txt", FERRY_LATE)], embedder)  # none now
    store.add([doc])
    store.refresh()
    entry = {e.doc_id: e for e in store.documents()}["ferry-2024.txt"]
    assert (entry.tags, entry.places) == ((), Places())


def test_set_tags_keeps_the_document_as_it_is(store, embedder):
    before = {e.doc_id: e for e in store.documents()}["ferry-2024.txt"]
    assert store.set_tags("ferry-2024.txt", ["later"])
    store.refresh()
    after = {e.doc_id: e for e in store.documents()}["ferry-2024.txt"]
    assert after.tags == ("later",)
    assert (after.sha256, after.sentences, after.places) == (
        before.sha256,
        before.sentences,
        before.places,
    )
    retrieval = HybridRetriever(store, embedder).retrieve(QUESTION, 5, frozenset({after.doc_id}))
    assert LATE in retrieval.passages[0].text
    assert not store.set_tags("nope.txt", ["x"])


# -- over HTTP (on each store) -----------------------------------------------------------


@pytest.fixture(scope="module", params=STORES)
def server(request, tmp_path_factory, embedder) -> Iterator[str]:
    """A server over the placed documents (tagged "harbour" by `qa index`'s way in), one of
    them uploaded again with tags of its own; on the store of ``request.param``."""
    root = tmp_path_factory.mktemp("scope")
    write_folder(root / "docs")
    settings = Settings(index_dir=root / "index")
    kept = KeptFiles(settings.kept_files)
    if request.param == "faiss":
        index_paths(
            [root / "docs"], settings.index_dir, embedder, Chunking(), tags=["harbour"], files=kept
        )
    else:
        uri = request.getfixturevalue("milvus_uri")
        settings = settings.model_copy(
            update={"store": "milvus", "milvus_uri": uri, "milvus_prefix": "scope_http"}
        )
        store = MilvusStores().create(settings, embedder.name, embedder.dim, Chunking())
        sync_store(store, [root / "docs"], embedder, tags=["harbour"], files=kept)
    app = create_app(settings, embedder=embedder)
    with running(app) as url:
        with httpx.Client(base_url=url) as client:
            r = client.post(
                "/documents",
                files={"file": ("ferry-2024.txt", FERRY_LATE.encode())},
                data={"tags": "timetables, new"},
                headers={"x-requested-with": "test"},
            )
            assert r.status_code == 201, r.text
            assert client.get("/documents/ferry-2024.txt/file").content == FERRY_LATE.encode()
        yield url


@pytest.fixture()
def client(server) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server, timeout=60) as c:
        yield c


def test_pages_and_files_on_each_store(client):
    doc = client.get("/documents/report.pdf").json()
    assert [page for _, page in doc["pages"]] == [1, 2, 3] and doc["tags"] == ["harbour"]
    r = client.post("/ask", json={"question": "How much did the new breakwater cost?"})
    assert r.json()["citations"][0]["page"] == 3
    assert client.get("/documents/report.pdf/file").content.startswith(b"%PDF-")


def test_uploaded_tags_are_listed(client):
    listed = {d["id"]: d["tags"] for d in client.get("/documents").json()}
    assert listed["ferry-2024.txt"] == ["new", "timetables"]
    assert listed["ferry-2019.txt"] == ["harbour"]


@pytest.mark.parametrize(
    ("scope", "doc_id", "said"),
    [
        ({"documents": ["ferry-2019.txt"]}, "ferry-2019.txt", EARLY),
        ({"documents": ["ferry-2024.txt"]}, "ferry-2024.txt", LATE),
        ({"tags": ["new"]}, "ferry-2024.txt", LATE),
    ],
)
def test_ask_answers_from_the_scope_alone(client, scope, doc_id, said):
    r = client.post("/ask", json={"question": QUESTION, **scope})
    assert r.status_code == 200, r.text
    result = r.json()
    assert not result["abstained"] and said in result["answer"] + result["text"]
    assert {c["doc_id"] for c in result["citations"]} == {doc_id}
    assert {p["doc_id"] for p in result["passages"]} == {doc_id}

    body = {"question": QUESTION, "stream": True, **scope}
    with client.stream("POST", "/ask", json=body) as r:
        events = r.read().decode()
    streamed = json.loads(events.split("event: answer", 1)[1].split("data:", 1)[1].split("\n")[0])
    assert {c["doc_id"] for c in streamed["citations"]} == {doc_id}
    assert streamed["answer"] == result["answer"]


@pytest.mark.parametrize(("doc_id", "said"), [("ferry-2019.txt", EARLY), ("ferry-2024.txt", LATE)])
def test_the_openai_client_scopes_with_extra_body(server, doc_id, said):
    llm = openai.OpenAI(base_url=f"{server}/v1", api_key="any", max_retries=0)
    messages = [{"role": "user", "content": QUESTION}]
    reply = llm.chat.completions.create(
        model="qa", messages=messages, extra_body={"documents": [doc_id]}
    )
    assert said in reply.choices[0].message.content
    assert {c["doc_id"] for c in reply.model_extra["citations"]} == {doc_id}
    stream = llm.chat.completions.create(
        model="qa", messages=messages, stream=True, extra_body={"documents": [doc_id]}
    )
    text = "".join(chunk.choices[0].delta.content or "" for chunk in stream if chunk.choices)
    assert said in text


def test_an_unknown_document_or_tag_is_a_422_naming_it(client, server):
    r = client.post("/ask", json={"question": QUESTION, "documents": ["nope.txt"], "tags": ["x"]})
    assert r.status_code == 422
    assert "no document 'nope.txt'" in r.json()["detail"]
    assert "no document is tagged 'x'" in r.json()["detail"]
    r = client.post("/ask", json={"question": QUESTION, "stream": True, "tags": ["x"]})
    assert r.status_code == 422 and "'x'" in r.json()["detail"]
    llm = openai.OpenAI(base_url=f"{server}/v1", api_key="any", max_retries=0)
    with pytest.raises(openai.UnprocessableEntityError) as caught:
        llm.chat.completions.create(
            model="qa",
            messages=[{"role": "user", "content": QUESTION}],
            extra_body={"documents": ["nope.txt"]},
        )
    assert "nope.txt" in str(caught.value)


def test_no_scope_is_the_whole_collection(client):
    empty = client.post("/ask", json={"question": QUESTION, "documents": [], "tags": []}).json()
    plain = client.post("/ask", json={"question": QUESTION}).json()
    assert empty["answer"] == plain["answer"] and empty["citations"] == plain["citations"]


def test_patch_gives_a_document_new_tags(client):
    change = {"x-requested-with": "test"}
    r = client.patch(
        "/documents/ferry-2019.txt", json={"tags": ["harbour", "early"]}, headers=change
    )
    assert r.status_code == 200, r.text
    assert r.json() == {"doc_id": "ferry-2019.txt", "tags": ["early", "harbour"]}
    result = client.post("/ask", json={"question": QUESTION, "tags": ["early"]}).json()
    assert EARLY in result["answer"] + result["text"]
    assert {c["doc_id"] for c in result["citations"]} == {"ferry-2019.txt"}
    assert client.patch("/documents/ferry-2019.txt", json={"tags": ["x"]}).status_code == 403
    assert (
        client.patch("/documents/nope.txt", json={"tags": ["x"]}, headers=change).status_code == 404
    )
    r = client.patch("/documents/ferry-2019.txt", json={"tags": ["a\nb"]}, headers=change)
    assert r.status_code == 422 and "a tag is 1 to 64 characters" in r.json()["detail"]
    r = client.patch("/documents/ferry-2019.txt", json={"tag": ["x"]}, headers=change)
    assert r.status_code == 422
