"""The segment store: what it returns is what one index over the live documents would
return (BM25 checked against bm25s, dense search against NumPy), however the documents
are split into segments and whatever was deleted; changes cost what they change."""

from __future__ import annotations

import json

import bm25s
import numpy as np
import pytest

from index.build import build
from index.chunk import Chunking, passage_input
from index.embed import HashEmbedder
from index.errors import IndexMismatch
from index.read import Document
from index.store import load_index, save_index
from index.stores.segments import Options, SegmentStore
from index.stores.view import MAX_SEGMENTS
from index.tokens import terms
from qa.read.retrieve import HybridRetriever

WORDS = [
    *[
        "harbour",
        "ferry",
        "lighthouse",
        "keeper",
        "museum",
        "painting",
        "river",
        "bridge",
        "tower",
        "station",
        "train",
    ],
    *[
        "market",
        "bakery",
        "festival",
        "winter",
        "summer",
        "storm",
        "island",
        "mountain",
        "village",
        "castle",
        "library",
    ],
]
QUESTIONS = [
    "Who kept the lighthouse during the storm?",
    "When does the ferry leave the harbour?",
    "Which painting hangs in the museum tower?",
    "ferry ferry bridge",
]


def documents(n: int, seed: int = 0) -> list[Document]:
    """Made-up documents of a few sentences of the words above (BM25 needs repeats)."""
    rng = np.random.default_rng(seed)
    out = []
    for d in range(n):
        sentences = [
            " ".join(rng.choice(WORDS, size=int(rng.integers(4, 12)))).capitalize() + "."
            for _ in range(int(rng.integers(1, 9)))
        ]
        out.append(Document(f"doc{seed}-{d}.txt", " ".join(sentences)))
    return out


def add(store: SegmentStore, docs: list[Document], embedder) -> None:
    store.add(build(docs, embedder, Chunking()).new_documents())


@pytest.fixture
def segmented(tmp_path):
    """An index of three segments with deletions and a replacement, and the documents it
    should hold, in order."""
    embedder = HashEmbedder()
    first, second, third = documents(12, 1), documents(7, 2), documents(5, 3)
    save_index(build(first, embedder, Chunking()), tmp_path / "ix")
    store = SegmentStore(tmp_path / "ix", options=Options(ann="Flat"))
    add(store, second, embedder)
    store.delete([first[3].doc_id, second[0].doc_id])
    replacement = Document(first[5].doc_id, "The keeper of the lighthouse was Ann Grey.")
    add(store, third + [replacement], embedder)
    live = [d for d in first + second if d.doc_id not in {first[3].doc_id, second[0].doc_id}]
    live = [d for d in live if d.doc_id != replacement.doc_id] + third + [replacement]
    return store, live, embedder


def test_documents_are_those_left_in_the_order_they_were_added(segmented):
    store, live, _ = segmented
    assert [d.doc_id for d in store.documents()] == [d.doc_id for d in live]
    assert store.counts().documents == len(live)
    assert len(store._view.segments) == 3
    for d in live:
        found = store.document(d.doc_id)
        assert found is not None and found.text == d.text
        assert all(found.text[s.start : s.end].strip() for s in found.sentences)


def test_bm25_is_bm25s_over_the_live_units(segmented):
    store, _, _ = segmented
    index = load_index(store.index_dir)  # the live documents, whole
    units = {
        "passage": [
            terms(passage_input(index.documents[d].title, index.passage_text(j)))
            for j, (d, _, _) in enumerate(index.passages)
        ],
        "sentence": [terms(index.sentence_text(i)) for i in range(len(index.sentences))],
    }
    all_ids = {kind: _live_ids(store, kind) for kind in units}
    for kind, token_lists in units.items():
        reference = bm25s.BM25()
        reference.index([t or ["\x00"] for t in token_lists], show_progress=False)
        for question in QUESTIONS:
            qterms = terms(question)
            expected = reference.get_scores([t for t in qterms if t in reference.vocab_dict])
            got = store.bm25_scores(kind, qterms, all_ids[kind])
            assert np.allclose(got, expected, atol=1e-5)
            hits = store.bm25_search(kind, qterms, 5)
            assert np.allclose([h.score for h in hits], np.sort(expected)[::-1][:5], atol=1e-5)


def test_dense_search_is_exact_over_segments_and_skips_deleted(segmented):
    store, _, embedder = segmented
    index = load_index(store.index_dir)
    for kind, matrix in (("passage", index.passage_vectors), ("sentence", index.sentence_vectors)):
        ids = _live_ids(store, kind)
        for question in QUESTIONS:
            q = embedder.encode([question])[0]
            brute = matrix @ q
            hits = store.dense_search(kind, q, 10)
            assert [h.id for h in hits] == [int(ids[i]) for i in np.argsort(-brute)[:10]]


def test_passages_carry_their_sentences_and_each_sentence_its_passages(segmented):
    store, _, _ = segmented
    ids = _live_ids(store, "passage")
    for p in store.passages(ids):
        document = store.document(p.doc_id)
        assert document.text[p.start : p.end] == p.text
        for s in p.sentences:
            assert document.text[s.start : s.end] == s.text
            assert p.id in store.passages_of_sentences([s.id])[0]


def test_retrieval_is_the_same_segmented_and_compacted(segmented):
    store, _, embedder = segmented
    retriever = HybridRetriever(store, embedder)
    before = [_shape(retriever.retrieve(q, 5)) for q in QUESTIONS]
    idf_before = [retriever.retrieve(q, 1).idf(t) for q in QUESTIONS for t in terms(q)]
    store.compact()
    assert len(store._view.segments) == 1 and not store._view.manifest["deleted"]
    after = [_shape(retriever.retrieve(q, 5)) for q in QUESTIONS]
    assert after == before
    assert [retriever.retrieve(q, 1).idf(t) for q in QUESTIONS for t in terms(q)] == pytest.approx(
        idf_before
    )


def test_adding_a_document_writes_one_segment_and_leaves_the_others(tmp_path):
    embedder = HashEmbedder()
    save_index(build(documents(30), embedder, Chunking()), tmp_path / "ix")
    store = SegmentStore(tmp_path / "ix")
    files = {p: (p.stat().st_ino, p.stat().st_mtime_ns) for p in (tmp_path / "ix").rglob("*.npy")}
    generation = store.generation

    add(store, [Document("new.txt", "The ferry leaves at noon.")], embedder)

    assert store.generation == generation + 1
    assert all((p.stat().st_ino, p.stat().st_mtime_ns) == v for p, v in files.items())
    segments = [p for p in (tmp_path / "ix").iterdir() if p.is_dir()]
    assert len(segments) == 2
    new = max(segments, key=lambda p: p.stat().st_mtime_ns)
    rows = (new / "documents.jsonl").read_text(encoding="utf-8").splitlines()
    assert [json.loads(row)["doc_id"] for row in rows] == ["new.txt"]


def test_many_small_changes_are_merged(tmp_path):
    embedder = HashEmbedder()
    save_index(build(documents(40), embedder, Chunking()), tmp_path / "ix")
    store = SegmentStore(tmp_path / "ix")
    for n, doc in enumerate(documents(MAX_SEGMENTS + 3, 9)):
        add(store, [doc], embedder)
        assert len(store._view.segments) <= MAX_SEGMENTS
        assert store.counts().documents == 41 + n
    on_disk = [p for p in (tmp_path / "ix").iterdir() if p.is_dir()]
    assert len(on_disk) == len(store._view.segments)  # merged-away segments removed


def test_a_segment_no_manifest_lists_is_invisible_then_removed(tmp_path):
    """What a writer killed after writing its segment but before the manifest leaves."""
    embedder = HashEmbedder()
    save_index(build(documents(5), embedder, Chunking()), tmp_path / "ix")
    store = SegmentStore(tmp_path / "ix")
    manifest = (tmp_path / "ix" / "manifest.json").read_bytes()
    add(store, [Document("late.txt", "Written, never listed.")], embedder)
    (tmp_path / "ix" / "manifest.json").write_bytes(manifest)  # as before the manifest
    orphan = {p.name for p in (tmp_path / "ix").iterdir() if p.is_dir()} - {
        s["name"] for s in json.loads(manifest)["segments"]
    }
    assert len(orphan) == 1

    reader = SegmentStore(tmp_path / "ix")
    assert "late.txt" not in {d.doc_id for d in reader.documents()}
    add(reader, [Document("next.txt", "The next change.")], embedder)
    assert not orphan & {p.name for p in (tmp_path / "ix").iterdir()}
    assert [d.doc_id for d in reader.documents()][-1] == "next.txt"


def test_another_process_s_change_is_seen_on_refresh(tmp_path):
    embedder = HashEmbedder()
    save_index(build(documents(5), embedder, Chunking()), tmp_path / "ix")
    reader, writer = SegmentStore(tmp_path / "ix"), SegmentStore(tmp_path / "ix")
    version = reader.version()
    add(writer, [Document("new.txt", "The ferry leaves at noon.")], embedder)
    assert reader.version() != version and reader.refresh()
    assert reader.document("new.txt") is not None
    assert not reader.refresh()


def test_approximate_search_finds_what_exact_search_finds(tmp_path):
    embedder = HashEmbedder(dim=32)
    docs = documents(300, 5)
    save_index(
        build(docs, embedder, Chunking()),
        tmp_path / "ix",
        Options(ann="HNSW16_SQ8", ann_above=100),
    )
    approximate = SegmentStore(tmp_path / "ix", options=Options(ann="HNSW16_SQ8", ann_above=100))
    exact = SegmentStore(tmp_path / "ix", options=Options(ann="Flat"))
    assert approximate._view.segments[0].ann  # built for this size
    found = []
    for q in embedder.encode([f"question {n}" for n in range(50)]):
        truth = {h.id: h.score for h in exact.dense_search("sentence", q, 10)}
        hits = approximate.dense_search("sentence", q, 10)
        found.append(len(truth.keys() & {h.id for h in hits}))
        # the candidates are re-scored from the exact vectors (read from the file)
        assert all(abs(h.score - truth[h.id]) < 1e-6 for h in hits if h.id in truth)
    assert np.mean(found) / 10 >= 0.95
    # what is read row by row for an approximate segment is what the mapping holds
    ids = [0, 7, 299, 3]
    assert np.array_equal(approximate.vectors("sentence", ids), exact.vectors("sentence", ids))
    a, e = approximate.passages([0, 5]), exact.passages([0, 5])
    assert [p.vector.tolist() for p in a] == [p.vector.tolist() for p in e]
    assert [[s.vector.tolist() for s in p.sentences] for p in a] == [
        [s.vector.tolist() for s in p.sentences] for p in e
    ]


def test_an_index_of_the_first_format_says_to_rebuild(tmp_path):
    (tmp_path / "ix").mkdir()
    (tmp_path / "ix" / "manifest.json").write_text(json.dumps({"format_version": 1}))
    with pytest.raises(IndexMismatch, match="format version 1.*rebuild it with `qa index`"):
        SegmentStore(tmp_path / "ix")


def _live_ids(store: SegmentStore, kind: str) -> np.ndarray:
    view = store._view
    return np.concatenate(
        [view.base[kind][s] + np.flatnonzero(live) for s, live in enumerate(view.live[kind])]
    )


def _shape(retrieval) -> list:
    """What a retrieval hands on, without the store's ids (a merge renumbers them)."""
    return [
        (p.doc_id, p.start, p.end, round(p.score, 5), [(s.start, s.bm25) for s in p.sentences])
        for p in retrieval.passages
    ]


def test_a_snapshot_keeps_its_ids_through_a_merge(segmented):
    store, _, embedder = segmented
    snapshot = store.snapshot()
    q = embedder.encode([QUESTIONS[0]])[0]
    hits = snapshot.dense_search("passage", q, 3)
    before = [p.text for p in snapshot.passages([h.id for h in hits])]
    SegmentStore(store.index_dir).compact()  # another writer renumbers every id
    assert [p.text for p in snapshot.passages([h.id for h in hits])] == before
    assert store.refresh() and len(store._view.segments) == 1
