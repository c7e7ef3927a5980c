import json

import numpy as np
import pytest

from index.build import build, index_paths, open_store, with_documents
from index.chunk import Chunking, group_passages, passage_input
from index.embed import HashEmbedder
from index.errors import IndexMismatch, IndexNotFound, NoDocuments
from index.read import Document, read_documents
from index.store import load_index, save_index, vectors_of
from index.stores.segments import SegmentStore
from qa.settings import Settings
from tests.conftest import SEED_FILE, SEEDS


class CountingEmbedder(HashEmbedder):
    """A real Embedder that also counts the texts it was asked to embed."""

    def __init__(self) -> None:
        super().__init__()
        self.embedded: list[str] = []

    def encode(self, texts):
        self.embedded += list(texts)
        return super().encode(texts)


def test_manifest_records_model_chunking_and_hashes(seed_index_dir):
    manifest = json.loads((seed_index_dir / "manifest.json").read_text())
    assert manifest["format_version"] == 2
    assert manifest["model"] == {"name": "all-MiniLM-L6-v2", "dim": 384}
    assert manifest["chunking"] == {"sentences": 4, "overlap": 1, "passage_vectors": "pooled"}
    (doc,) = SegmentStore(seed_index_dir).documents()
    assert doc.doc_id == "north-korea-troops-russia.txt"
    assert doc.sha256 == read_documents([SEEDS])[0].sha256
    assert doc.characters == len(SEED_FILE.read_text(encoding="utf-8"))


def test_every_stored_sentence_reproduces_from_the_file(seed_index_dir):
    index = load_index(seed_index_dir)
    text = SEED_FILE.read_text(encoding="utf-8")
    assert index.documents[0].text == text
    for i in range(len(index.sentences)):
        _, start, end = index.sentences[i]
        assert index.sentence_text(i) == text[start:end]


def test_dense_search_matches_numpy_brute_force(seed_index_dir, embedder):
    index = load_index(seed_index_dir)
    store = SegmentStore(seed_index_dir)
    q = embedder.encode(["How many troops were shipped?"])[0]
    for kind, matrix in (("sentence", index.sentence_vectors), ("passage", index.passage_vectors)):
        assert np.allclose(np.linalg.norm(matrix, axis=1), 1.0, atol=1e-4)
        hits = store.dense_search(kind, q, 5)
        brute = matrix @ q
        assert [h.id for h in hits] == list(np.argsort(-brute)[:5])
        assert np.allclose([h.score for h in hits], np.sort(brute)[::-1][:5], atol=1e-5)


def test_passages_overlap_and_cover_every_sentence():
    assert group_passages(0, Chunking(4, 1)) == []
    assert group_passages(3, Chunking(4, 1)) == [(0, 3)]
    assert group_passages(10, Chunking(4, 1)) == [(0, 4), (3, 7), (6, 10)]
    with pytest.raises(ValueError):
        Chunking(2, 2)


def test_index_built_with_another_model_is_a_clear_error(fresh_seed_index):
    with pytest.raises(IndexMismatch, match="built with model 'all-MiniLM-L6-v2'"):
        load_index(fresh_seed_index, expect_model="other-model")
    manifest = json.loads((fresh_seed_index / "manifest.json").read_text())
    manifest["format_version"] = 99
    (fresh_seed_index / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(IndexMismatch, match="format version 99"):
        load_index(fresh_seed_index)


def test_missing_index_says_how_to_build_one(tmp_path):
    with pytest.raises(IndexNotFound, match="qa index"):
        load_index(tmp_path / "nothing")


def test_failed_build_leaves_the_stored_index_as_it_was(fresh_seed_index, tmp_path):
    before = {p.name: p.read_bytes() for p in fresh_seed_index.iterdir() if p.is_file()}
    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / "bad.txt").write_bytes(b"\xff\xfe\x00")
    with pytest.raises(NoDocuments):
        index_paths([empty], fresh_seed_index, HashEmbedder(), Chunking())
    after = {p.name: p.read_bytes() for p in fresh_seed_index.iterdir() if p.is_file()}
    assert after == before
    assert not [p for p in fresh_seed_index.parent.iterdir() if ".tmp-" in p.name]


def test_interrupted_swap_is_recovered(fresh_seed_index):
    old = fresh_seed_index.with_name(f".{fresh_seed_index.name}.old")
    fresh_seed_index.rename(old)  # as if the process died between the two renames
    index = load_index(fresh_seed_index)
    assert index.doc_ids == ["north-korea-troops-russia.txt"]
    assert fresh_seed_index.is_dir() and not old.exists()


def test_adding_a_document_embeds_only_that_document(tmp_path):
    embedder = CountingEmbedder()
    docs = [Document("a.txt", "Alpha is first. It leads."), Document("b.txt", "Beta is second.")]
    index = build(docs, embedder, Chunking())
    save_index(index, tmp_path / "ix")
    embedder.embedded.clear()
    new = with_documents(load_index(tmp_path / "ix"), embedder, add=[Document("c.txt", "Gamma.")])
    assert embedder.embedded == ["Gamma."]  # its passage is pooled from that sentence
    assert new.doc_ids == ["a.txt", "b.txt", "c.txt"]
    # the reused vectors are the ones an index built from scratch would hold
    scratch = build(docs + [Document("c.txt", "Gamma.")], HashEmbedder(), Chunking())
    assert np.array_equal(vectors_of(new.sentence_vectors), vectors_of(scratch.sentence_vectors))
    removed = with_documents(new, embedder, remove=["a.txt"])
    assert removed.doc_ids == ["b.txt", "c.txt"]
    assert removed.sentence_vectors.shape == (len(removed.sentences), embedder.dim)


def test_each_vector_is_its_own_texts_whatever_order_they_are_embedded_in():
    """Texts are embedded longest first across the documents; each vector must still land on
    the sentence or passage it was computed from."""
    docs = read_documents([SEEDS]) + [
        Document("short.txt", "Tiny one. A second sentence that is quite a bit longer.")
    ]
    embedder = HashEmbedder()
    index = build(docs, embedder, Chunking(2, 0, "embedded"), batch_size=5)
    sentences = [index.sentence_text(i) for i in range(len(index.sentences))]
    passages = [
        passage_input(index.documents[doc].title, index.passage_text(j))
        for j, (doc, _, _) in enumerate(index.passages)
    ]
    assert np.array_equal(index.sentence_vectors, embedder.encode(sentences))
    assert np.array_equal(index.passage_vectors, embedder.encode(passages))


def test_pooled_passage_vectors_are_their_sentences_mean_and_cost_no_encoder_pass():
    docs = read_documents([SEEDS]) + [Document("two.txt", "One short. Then another one.")]
    embedder = CountingEmbedder()
    index = build(docs, embedder, Chunking(), batch_size=7)
    sentences = [index.sentence_text(i) for i in range(len(index.sentences))]
    assert sorted(embedder.embedded) == sorted(sentences)  # no passage text encoded
    for j, (_, first, last) in enumerate(index.passages):
        mean = index.sentence_vectors[first:last].mean(axis=0)
        assert np.allclose(index.passage_vectors[j], mean / np.linalg.norm(mean), atol=1e-6)
    (two,) = [j for j, (d, _, _) in enumerate(index.passages) if d == 1]
    assert index.passages[two][2] - index.passages[two][1] == 2
    assert np.linalg.norm(index.passage_vectors[two]) == pytest.approx(1)


def test_an_index_made_before_pooling_reads_as_embedded_and_is_rebuilt(tmp_path):
    """Its manifest records no passage_vectors: its passages were encoded, so the default
    (pooled) settings do not add pooled passages to it but rebuild it."""
    docs = [Document("a.txt", "Alpha is first. It leads. It is the start.")]
    embedder = HashEmbedder()
    save_index(build(docs, embedder, Chunking(passage_vectors="embedded")), tmp_path / "ix")
    path = tmp_path / "ix" / "manifest.json"
    manifest = json.loads(path.read_text())
    manifest["chunking"] = {"sentences": 4, "overlap": 1}  # as written before
    path.write_text(json.dumps(manifest))
    assert SegmentStore(tmp_path / "ix").chunking == Chunking(passage_vectors="embedded")
    assert open_store(tmp_path / "ix", embedder, Chunking(passage_vectors="embedded")) is not None
    assert open_store(tmp_path / "ix", embedder, Chunking()) is None  # rebuilt by `qa index`
    assert Settings(passage_vectors="embedded").chunking == Chunking(passage_vectors="embedded")
    with pytest.raises(ValueError, match="pooled"):
        Chunking(passage_vectors="averaged")
