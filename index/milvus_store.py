"""An index kept in Milvus (a cluster, a server or Milvus Lite), shared by any number of
readers and writers: nothing of it lives in the process.

A document version is written in three steps: its head (part 0 of its ``documents`` rows)
with ``state`` "writing", then all its rows, then its head again with "live" and the time of
the commit. Readers keep, for each document, the live key committed last, and drop every row
of any other key, so a writer that dies leaves nothing visible and the same write run again
(same text, same key, same row ids) converges. Replacing commits the new key, then retires
the old one ("gone") and deletes its rows; deleting retires first, then deletes."""

from __future__ import annotations

import hashlib
import json
import logging
import time
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

import numpy as np

from index.build import passage_input
from index.chunk import Chunking
from index.errors import IndexError_, IndexMismatch
from index.injection import VERSION as FLAGS_VERSION
from index.milvus_schema import DOCUMENT_PART_CHARS, create_collections, encode_terms, names
from index.store import IndexedDocument, StoredIndex, vectors_of
from index.tokens import terms

log = logging.getLogger(__name__)

BATCH = 512  # rows per insert call
PLACEHOLDER = [0.0, 0.0]


def connect(uri: str, token: str | None = None):
    """A MilvusClient for ``uri`` (a path ending in .db runs Milvus Lite in this process)."""
    try:
        from pymilvus import MilvusClient
        from pymilvus.exceptions import MilvusException
    except ImportError as exc:  # the optional extra
        raise IndexError_(
            "QA_STORE=milvus needs the milvus extra: pip install 'qa[milvus]'"
        ) from exc
    try:
        return MilvusClient(uri, token=token or "")
    except MilvusException as exc:
        raise IndexError_(f"cannot reach Milvus at {uri}: {exc}") from exc


def row_id(key: str, kind: str, seq: int) -> int:
    """A row's id, the same at every run of the same write (so a rerun overwrites it)."""
    digest = hashlib.sha256(f"{key}:{kind}:{seq}".encode()).digest()
    return int.from_bytes(digest[:8], "big") >> 1


def doc_hash(doc_id: str) -> str:
    """A document id safe to quote in a filter expression."""
    return hashlib.sha256(doc_id.encode("utf-8")).hexdigest()[:32]


def document_key(doc: IndexedDocument, model: str, chunking: Chunking) -> str:
    """Its text and how it was cut and embedded: another text is another version."""
    version = f"{doc.sha256}|{model}|{chunking.sentences}|{chunking.overlap}|{FLAGS_VERSION}"
    return doc_hash(doc.doc_id) + hashlib.sha256(version.encode()).hexdigest()[:16]


def quoted(values: Iterable[str]) -> str:
    return "[" + ",".join(json.dumps(v) for v in values) + "]"


@dataclass(frozen=True)
class Head:
    key: str
    doc_id: str
    state: str  # writing | live | gone
    committed_at: int
    title: str
    sha256: str
    uploaded: bool
    added_by: str | None
    added_at: str | None
    chars: int
    sentences: int
    passages: int


class MilvusIndex:
    """The collections under ``prefix``: writes, heads and the manifest."""

    def __init__(self, client, prefix: str) -> None:
        self.client = client
        self.prefix = prefix
        self.names = names(prefix)

    def manifest(self) -> dict | None:
        if not self.client.has_collection(self.names["meta"]):
            return None
        rows = self.client.get(self.names["meta"], ids=["manifest"], output_fields=["value"])
        return json.loads(rows[0]["value"]) if rows else None

    def ensure(self, model: str, dim: int, chunking: Chunking) -> None:
        """Create the collections, or check that they hold vectors of this model."""
        found = self.manifest()
        wanted = {
            "model": {"name": model, "dim": dim},
            "chunking": {"sentences": chunking.sentences, "overlap": chunking.overlap},
        }
        if found is not None:
            if found != wanted:
                raise IndexMismatch(
                    f"the Milvus collections {self.prefix}_* hold {found}, not {wanted}: "
                    "use another QA_MILVUS_PREFIX, or drop them and index again"
                )
            return
        create_collections(self.client, self.prefix, dim)
        self._set("manifest", json.dumps(wanted))

    def epoch(self) -> str:
        rows = self.client.get(self.names["meta"], ids=["epoch"], output_fields=["value"])
        return rows[0]["value"] if rows else ""

    def _set(self, name: str, value: str) -> None:
        row = {"name": name, "value": value, "_v": PLACEHOLDER}
        self.client.upsert(self.names["meta"], [row])

    def bump(self) -> None:
        """Tell the replicas that the heads changed."""
        self._set("epoch", uuid.uuid4().hex)

    def heads(self, filter: str = "part == 0") -> list[Head]:
        rows = self._query("documents", filter, list(Head.__dataclass_fields__))
        return [
            Head(
                r["key"],
                r["doc_id"],
                r["state"],
                int(r["committed_at"]),
                r["title"],
                r["sha256"],
                bool(r["uploaded"]),
                r["added_by"] or None,
                r["added_at"] or None,
                int(r["chars"]),
                int(r["sentences"]),
                int(r["passages"]),
            )
            for r in rows
        ]

    def _query(self, kind: str, filter: str, fields: list[str]) -> list[dict]:
        it = self.client.query_iterator(
            self.names[kind], batch_size=2000, filter=filter, output_fields=fields
        )
        out: list[dict] = []
        try:
            while batch := it.next():
                out.extend(batch)
        finally:
            it.close()
        return out

    # -- writes -------------------------------------------------------------------------

    def put(self, index: StoredIndex, doc_ids: Iterable[str] | None = None) -> list[str]:
        """Write the documents of ``index`` (all, or those named), each one committed once
        all its rows are in; replaced versions are retired. Returns the keys written."""
        self.ensure(index.model, index.dim, index.chunking)
        wanted = set(doc_ids) if doc_ids is not None else None
        s_vecs, p_vecs = vectors_of(index.sentence_vectors), vectors_of(index.passage_vectors)
        n = len(index.documents)
        s_bounds = np.searchsorted(index.sentences[:, 0], np.arange(n + 1))
        p_bounds = np.searchsorted(index.passages[:, 0], np.arange(n + 1))
        live = {h.key: h for h in self.heads() if h.state == "live"}
        keys = []
        for d, doc in enumerate(index.documents):
            if wanted is not None and doc.doc_id not in wanted:
                continue
            key = document_key(doc, index.model, index.chunking)
            s_rows = range(s_bounds[d], s_bounds[d + 1])
            p_rows = range(p_bounds[d], p_bounds[d + 1])
            if key not in live:  # else its rows are all in: only the head changes
                self._write_rows(index, d, key, s_rows, p_rows, s_vecs, p_vecs)
            self._commit(doc, key, len(s_rows), len(p_rows))
            keys.append(key)
        self.retire(
            doc_ids=[index.documents[d].doc_id for d in range(n)]
            if wanted is None
            else sorted(wanted),
            keep=set(keys),
        )
        return keys

    def _head_rows(self, doc: IndexedDocument, key: str, state: str, counts: tuple[int, int]):
        parts = [
            doc.text[i : i + DOCUMENT_PART_CHARS]
            for i in range(0, max(len(doc.text), 1), DOCUMENT_PART_CHARS)
        ]
        base = {
            "key": key,
            "doc": doc_hash(doc.doc_id),
            "doc_id": doc.doc_id,
            "parts": len(parts),
            "state": state,
            "committed_at": time.time_ns() if state == "live" else 0,
            "title": doc.title,
            "sha256": doc.sha256,
            "uploaded": doc.uploaded,
            "added_by": doc.added_by or "",
            "added_at": doc.added_at or "",
            "chars": len(doc.text),
            "sentences": counts[0],
            "passages": counts[1],
            "_v": PLACEHOLDER,
        }
        return [{**base, "id": f"{key}:{p}", "part": p, "text": t} for p, t in enumerate(parts)]

    def _write_rows(self, index, d, key, s_rows, p_rows, s_vecs, p_vecs) -> None:
        doc = index.documents[d]
        head = self._head_rows(doc, key, "writing", (len(s_rows), len(p_rows)))
        self.client.upsert(self.names["documents"], head)
        self.bump()  # replicas learn of the key before any row of it can be found
        base = s_rows.start
        sentences = []
        for seq, i in enumerate(s_rows):
            _, start, end = (int(x) for x in index.sentences[i])
            text = doc.text[start:end]
            sentences.append(
                {
                    "id": row_id(key, "s", seq),
                    "key": key,
                    "doc": doc_hash(doc.doc_id),
                    "seq": seq,
                    "start": start,
                    "end": end,
                    "text": text,
                    "terms": encode_terms(terms(text)),
                    "flagged": bool(index.flagged[i]),
                    "vector": s_vecs[i].tolist(),
                }
            )
        passages = []
        for seq, j in enumerate(p_rows):
            _, first, last = (int(x) for x in index.passages[j])
            start, end = int(index.sentences[first][1]), int(index.sentences[last - 1][2])
            text = passage_input(doc.title, doc.text[start:end])
            passages.append(
                {
                    "id": row_id(key, "p", seq),
                    "key": key,
                    "doc": doc_hash(doc.doc_id),
                    "seq": seq,
                    "first": first - base,
                    "last": last - base,
                    "start": start,
                    "end": end,
                    "text": text,
                    "terms": encode_terms(terms(text)),
                    "vector": p_vecs[j].tolist(),
                }
            )
        for kind, rows in (("sentences", sentences), ("passages", passages)):
            for b in range(0, len(rows), BATCH):
                self.client.upsert(self.names[kind], rows[b : b + BATCH])

    def _commit(self, doc: IndexedDocument, key: str, n_s: int, n_p: int) -> None:
        # part 0 alone: one row, so the switch to live is one write
        self.client.upsert(
            self.names["documents"], self._head_rows(doc, key, "live", (n_s, n_p))[:1]
        )
        self.bump()

    def retire(
        self,
        doc_ids: Iterable[str] = (),
        keep: set[str] = frozenset(),
        everything_but: bool = False,
    ) -> list[str]:
        """Hide, then delete, every version of ``doc_ids`` not in ``keep`` (with
        ``everything_but``: of every document not in ``doc_ids``). Returns the ids gone."""
        docs = {doc_hash(i) for i in doc_ids}
        heads = self.heads()
        doomed = [
            h
            for h in heads
            if h.key not in keep
            and (doc_hash(h.doc_id) in docs) != everything_but
            and h.state != "writing"
        ]
        if not doomed:
            return []
        gone = [
            {**r, "state": "gone"}
            for r in self._query(
                "documents", f"id in {quoted(h.key + ':0' for h in doomed)}", ["*"]
            )
        ]
        self.client.upsert(self.names["documents"], gone)
        self.bump()
        self.sweep([h.key for h in doomed])
        still = {h.doc_id for h in self.heads() if h.state == "live"}
        return sorted({h.doc_id for h in doomed} - still)

    def sweep(self, keys: list[str] | None = None) -> None:
        """Delete the rows of retired keys (all "gone" heads when none are named), the
        heads last: a sweep cut short is finished by the next."""
        if keys is None:
            keys = [h.key for h in self.heads('part == 0 and state == "gone"')]
        for b in range(0, len(keys), 100):
            batch = quoted(keys[b : b + 100])
            for kind in ("sentences", "passages", "documents"):
                self.client.delete(self.names[kind], filter=f"key in {batch}")

    def drop(self) -> None:
        for name in self.names.values():
            if self.client.has_collection(name):
                self.client.drop_collection(name)

    # -- reads --------------------------------------------------------------------------

    def live_heads(self) -> dict[str, Head]:
        """Per document the live key committed last."""
        best: dict[str, Head] = {}
        for h in self.heads('part == 0 and state == "live"'):
            if h.doc_id not in best or h.committed_at > best[h.doc_id].committed_at:
                best[h.doc_id] = h
        return best

    def text(self, key: str) -> str:
        rows = self._query("documents", f'key == "{key}"', ["part", "text"])
        return "".join(r["text"] for r in sorted(rows, key=lambda r: r["part"]))

    def units(self, kind: str, keys: list[str], fields: list[str]) -> Iterator[dict]:
        for b in range(0, len(keys), 100):
            yield from self._query(kind, f"key in {quoted(keys[b : b + 100])}", fields)
