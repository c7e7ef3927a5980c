"""The store interface's contract (index.stores.interface), the same tests on every store:
searches, passages with exact offsets, IDF statistics, add / replace / delete, and a second
reader seeing a writer's changes."""

from __future__ import annotations

import itertools

import bm25s
import numpy as np
import pytest

from index.read import Document
from index.tokens import terms
from tests.conftest import SEED_FILE
from tests.stores import STORES, make_store, new_documents

EIFFEL = (
    "The Eiffel Tower\n"
    "The Eiffel Tower is a wrought-iron lattice tower on the Champ de Mars in Paris. "
    "It is named after the engineer Gustave Eiffel, whose company designed and built it. "
    "The tower was completed in 1889 as the entrance to the World's Fair. "
    "It is 330 metres tall, about the height of an 81-storey building. "
    "Nearly seven million people climb it every year."
)
LEAVES = (
    "Photosynthesis\n"
    "Plants turn light into chemical energy in their leaves. "
    "Chlorophyll absorbs mostly blue and red light and reflects green. "
    "The process releases oxygen as a by-product. "
    "A large tree can release about 100 kilograms of oxygen a year."
)


def documents() -> list[Document]:
    seed = SEED_FILE.read_text(encoding="utf-8")
    return [
        Document(SEED_FILE.name, seed, added_by="cli"),
        Document(
            "eiffel.txt", EIFFEL, uploaded=True, added_by="alice", added_at="2026-01-01T00:00:00Z"
        ),
        Document("leaves.txt", LEAVES, added_by="cli"),
    ]


def _milvus(request, prefix: str):
    return (request.getfixturevalue("milvus_uri"), prefix) if request.param == "milvus" else None


@pytest.fixture(scope="module", params=STORES)
def loaded(request, embedder, tmp_path_factory):
    """A store of the three documents (read only)."""
    return make_store(
        request.param,
        documents(),
        embedder,
        folder=tmp_path_factory.mktemp("store") / "index",
        milvus=_milvus(request, "contract"),
    )


@pytest.fixture(params=STORES)
def two(request, embedder, tmp_path, milvus_prefix):
    """A store of two documents, to change."""
    return make_store(
        request.param,
        documents()[1:],
        embedder,
        folder=tmp_path / "index",
        milvus=_milvus(request, milvus_prefix),
    )


def test_documents_are_listed_with_their_counts_and_provenance(loaded):
    entries = {e.doc_id: e for e in loaded.documents()}
    assert set(entries) == {SEED_FILE.name, "eiffel.txt", "leaves.txt"}
    eiffel = entries["eiffel.txt"]
    assert (eiffel.title, eiffel.characters, eiffel.uploaded) == (
        "The Eiffel Tower",
        len(EIFFEL),
        True,
    )
    assert (eiffel.added_by, eiffel.added_at) == ("alice", "2026-01-01T00:00:00Z")
    counts = loaded.counts()
    assert counts.documents == 3
    assert counts.sentences == sum(e.sentences for e in entries.values())
    assert counts.passages == sum(e.passages for e in entries.values())


def test_a_document_has_its_exact_sentence_offsets(loaded):
    doc = loaded.document("eiffel.txt")
    assert doc.text == EIFFEL
    sentences = [doc.text[s.start : s.end] for s in doc.sentences]
    assert sentences[1].startswith("The Eiffel Tower is a wrought-iron")
    assert len(doc.flagged) == len(doc.sentences) and not any(doc.flagged)
    assert loaded.document("nowhere.txt") is None


@pytest.mark.parametrize("search", ["dense", "bm25"])
def test_a_search_finds_the_passage_with_exact_offsets(loaded, embedder, search):
    question = "When was the Eiffel Tower completed?"
    for kind in ("passage", "sentence"):
        if search == "dense":
            hits = loaded.dense_search(kind, embedder.encode([question])[0], 5)
        else:
            hits = loaded.bm25_search(kind, terms(question), 5)
        assert hits and [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)
        ids = (
            [h.id for h in hits]
            if kind == "passage"
            else loaded.passages_of_sentences([hits[0].id])[0]
        )
        passage = loaded.passages(ids)[0]
        assert passage.doc_id == "eiffel.txt" and passage.title == "The Eiffel Tower"
        assert "1889" in passage.text
        assert passage.text == EIFFEL[passage.start : passage.end]
        for s in passage.sentences:
            assert s.text == EIFFEL[s.start : s.end] and s.doc_id == "eiffel.txt"
            assert s.vector.shape == (embedder.dim,)
        assert passage.sentences[0].start == passage.start
        assert passage.sentences[-1].end == passage.end


def test_nominate_is_the_four_searches(loaded, embedder):
    """The four searches a question starts with, however the store runs them (in turn in
    the folder, at once across the network), give what each gives alone."""
    question = "When was the Eiffel Tower completed?"
    vector, words = embedder.encode([question])[0], terms(question)
    found = loaded.nominate(vector, words, 5)
    assert found.dense_passages == loaded.dense_search("passage", vector, 5)
    assert found.dense_sentences == loaded.dense_search("sentence", vector, 5)
    assert found.bm25_passages == loaded.bm25_search("passage", words, 5)
    assert found.bm25_sentences == loaded.bm25_search("sentence", words, 5)
    assert found.dense_passages and found.bm25_sentences


def test_dense_scores_are_inner_products_of_the_stored_vectors(loaded, embedder):
    q = embedder.encode(["Which pigment absorbs light in leaves?"])[0]
    hits = loaded.dense_search("passage", q, 3)
    passages = loaded.passages([h.id for h in hits])
    assert passages[0].doc_id == "leaves.txt"
    for h, p in zip(hits, passages, strict=True):
        assert h.score == pytest.approx(float(p.vector @ q), abs=1e-5)


def test_passages_of_a_sentence_hold_it(loaded, embedder):
    q = embedder.encode(["North Korean troops in Russia"])[0]
    sentence_ids = [h.id for h in loaded.dense_search("sentence", q, 10)]
    for sid, holders in zip(sentence_ids, loaded.passages_of_sentences(sentence_ids), strict=True):
        assert 1 <= len(holders) <= 2
        for p in loaded.passages(holders):
            assert sid in {s.id for s in p.sentences}


def test_bm25_is_bm25s_over_the_same_sentences(loaded):
    """Scores on bm25s's scale (Lucene, k1 1.5, b 0.75): the reference implementation over
    every sentence the store holds."""
    texts, ids = [], []
    for entry in loaded.documents():
        doc = loaded.document(entry.doc_id)
        texts += [doc.text[s.start : s.end] for s in doc.sentences]
    reference = bm25s.BM25(k1=1.5, b=0.75)
    reference.index([terms(t) or ["\x00"] for t in texts], show_progress=False)
    question = terms("How many soldiers did North Korea send to Russia in 2024?")
    known = [t for t in question if t in reference.vocab_dict]
    expected = np.sort(reference.get_scores(known))[::-1][:10]
    hits = loaded.bm25_search("sentence", question, 10)
    assert np.allclose([h.score for h in hits], expected, rtol=1e-4)
    ids = [h.id for h in hits]
    assert np.allclose(
        loaded.bm25_scores("sentence", question, ids[::-1]),
        [h.score for h in hits][::-1],
        rtol=1e-5,
    )


def test_document_frequencies_count_sentences(loaded):
    n = loaded.counts().sentences
    texts = []
    for entry in loaded.documents():
        doc = loaded.document(entry.doc_id)
        texts += [terms(doc.text[s.start : s.end]) for s in doc.sentences]
    keys = ["tower", "oxygen", "eiffel tower", "never-seen-word"]
    expected = [
        sum(
            1
            for ts in texts
            if (k in ts if " " not in k else k in {f"{a} {b}" for a, b in itertools.pairwise(ts)})
        )
        for k in keys
    ]
    assert loaded.document_frequencies(keys) == (expected, n)
    assert expected[0] > 0 and expected[-1] == 0


def test_replace_and_delete(two, embedder):
    store = two
    before = store.version()
    changed = EIFFEL.replace("completed in 1889", "finished in the spring of 1889")
    store.add(new_documents([Document("eiffel.txt", changed, uploaded=True)], embedder))
    assert store.version() != before
    assert [e.doc_id for e in store.documents()].count("eiffel.txt") == 1
    assert store.document("eiffel.txt").text == changed
    hits = store.bm25_search("sentence", terms("completed"), 10)
    assert hits == [] or all(
        p.doc_id != "eiffel.txt"
        for p in store.passages(store.passages_of_sentences([hits[0].id])[0])
    )
    texts = [
        s.text
        for p in store.passages(
            [h.id for h in store.bm25_search("passage", terms("spring 1889"), 5)]
        )
        for s in p.sentences
    ]
    assert any("finished in the spring of 1889" in t for t in texts)

    # an addition and a removal in one change
    store.add(
        new_documents([Document("extra.txt", "Extra words here.")], embedder), delete=["eiffel.txt"]
    )
    assert {e.doc_id for e in store.documents()} == {"leaves.txt", "extra.txt"}
    store.delete(["extra.txt", "never-added.txt"])
    assert [e.doc_id for e in store.documents()] == ["leaves.txt"]
    assert store.document("eiffel.txt") is None
    q = embedder.encode(["When was the Eiffel Tower completed?"])[0]
    found = store.passages([h.id for h in store.dense_search("passage", q, 10)])
    assert found and {p.doc_id for p in found} == {"leaves.txt"}
    assert store.counts().documents == 1
    assert store.document_frequencies(["eiffel"])[0] == [0]


def test_the_retriever_hands_on_the_same_passages_from_every_store(embedder, tmp_path, milvus_uri):
    """The Retrieval contract does not depend on the store: same passages, offsets, scores,
    sentences' BM25 and flags, same IDF."""
    from qa.read.retrieve import HybridRetriever

    stores = {
        kind: make_store(
            kind, documents(), embedder, folder=tmp_path / kind, milvus=(milvus_uri, "retrieval")
        )
        for kind in STORES
    }
    questions = [
        "When was the Eiffel Tower completed?",
        "How many North Korean troops were shipped to Russia?",
        "What does chlorophyll absorb?",
        "Who won the 2022 World Cup?",
    ]
    for question in questions:
        seen = []
        for store in stores.values():
            r = HybridRetriever(store, embedder).retrieve(question, 5)
            seen.append(
                (
                    [
                        (p.doc_id, p.start, p.end, round(p.score, 5),
                         [(s.start, round(s.bm25, 5), s.flagged, s.terms) for s in p.sentences])
                        for p in r.passages
                    ],
                    [round(r.idf(t), 6) for t in [*r.question_terms, "tower", "eiffel tower"]],
                )
            )  # fmt: skip
        assert seen[0][0] and all(s == seen[0] for s in seen[1:])


def test_a_snapshot_keeps_its_ids_through_a_change(two, embedder):
    snapshot = two.snapshot()
    q = embedder.encode(["When was the Eiffel Tower completed?"])[0]
    ids = [h.id for h in snapshot.dense_search("passage", q, 3)]
    changed = EIFFEL.replace("1889", "the year 1889")
    two.add(new_documents([Document("eiffel.txt", changed)], embedder), delete=["leaves.txt"])
    assert snapshot.refresh() is False
    assert {e.doc_id for e in snapshot.documents()} == {"eiffel.txt", "leaves.txt"}
    passages = snapshot.passages(ids)
    assert passages[0].doc_id == "eiffel.txt" and passages[0].text in EIFFEL
    assert two.document("eiffel.txt").text == changed
