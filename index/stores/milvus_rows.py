"""The rows of an index in Milvus and how they are written so that no reader ever sees half
of a document, whichever process dies when.

A document version is identified by its ``key``: a hash of its id, then of its text and of
how it was cut and embedded, so the same write run again writes the same rows (same ids) and
converges. ``add`` writes a batch in three steps:

1. every new version's head (part 0 of its ``documents`` rows) with ``state`` "writing" and
   the batch id, then its text parts, sentences and passages;
2. one row ``batch:ID`` in ``meta``, naming the documents the change removes: from this
   write on, the whole change is visible at once;
3. each head rewritten "live" with the batch's time, the removed documents retired ("gone"),
   the batch row deleted, then every older version of the added documents retired likewise.
   Retired rows are deleted a minute later (by the next write or ``compact``): a question
   being answered may still read them.

Readers (index.stores.milvus) see, per document, the live (or committed-batch) head of the
latest time and keep only rows of such keys. A writer dead after 1 left invisible rows that
``compact`` deletes; dead after 2, a batch that ``compact`` finishes."""

from __future__ import annotations

import hashlib
import json
import time
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from index.build import passage_input
from index.chunk import Chunking
from index.injection import VERSION as FLAGS_VERSION
from index.stores.interface import NewDocument
from index.stores.milvus_schema import DOCUMENT_PART_CHARS, encode_terms, names
from index.tokens import terms

BATCH_ROWS = 512  # rows per upsert call
PLACEHOLDER = [0.0, 0.0]
STALE_WRITE_NS = 3600 * 10**9  # an uncommitted write this old was abandoned
GRACE_NS = 60 * 10**9  # retired rows are kept this long for questions still reading them


def row_id(key: str, kind: str, seq: int) -> int:
    """A row's id: the same at every run of the same write (so a rerun overwrites it)."""
    digest = hashlib.sha256(f"{key}:{kind}:{seq}".encode()).digest()
    return int.from_bytes(digest[:8], "big") >> 1


def doc_hash(doc_id: str) -> str:
    """A document id as a hex string, safe to quote in a filter expression."""
    return hashlib.sha256(doc_id.encode("utf-8")).hexdigest()[:32]


def extra_json(doc: NewDocument) -> str:
    """What a version has of places and tags, as JSON ("" when nothing)."""
    extra = {"places": doc.places.as_json(), "tags": list(doc.tags)}
    return json.dumps(extra, ensure_ascii=False) if any(extra.values()) else ""


def document_key(doc_id: str, sha256: str, model: str, chunking: Chunking) -> str:
    version = f"{sha256}|{model}|{chunking.sentences}|{chunking.overlap}|{FLAGS_VERSION}"
    return doc_hash(doc_id) + hashlib.sha256(version.encode()).hexdigest()[:16]


def quoted(values: Iterable) -> str:
    return "[" + ",".join(json.dumps(v) for v in values) + "]"


@dataclass(frozen=True)
class Batch:
    at: int  # when committed
    delete: tuple[str, ...]  # the documents it removes


@dataclass(frozen=True)
class Head:
    key: str
    doc_id: str
    state: str  # writing | live | gone
    batch: str
    committed_at: int  # live: when committed; writing: when started
    title: str
    sha256: str
    uploaded: bool
    added_by: str | None
    added_at: str | None
    chars: int
    sentences: int
    passages: int
    flagged: int


HEAD_FIELDS = list(Head.__dataclass_fields__)


class MilvusRows:
    """The collections under one prefix, row by row."""

    def __init__(self, client, prefix: str) -> None:
        self.client = client
        self.names = names(prefix)

    def query(self, kind: str, filter: str, fields: list[str]) -> list[dict]:
        it = self.client.query_iterator(
            self.names[kind], batch_size=4000, filter=filter, output_fields=fields
        )
        out: list[dict] = []
        try:
            while batch := it.next():
                out.extend(batch)
        finally:
            it.close()
        return out

    def meta(self, name: str) -> str | None:
        rows = self.client.get(self.names["meta"], ids=[name], output_fields=["value"])
        return rows[0]["value"] if rows else None

    def set_meta(self, name: str, value: str) -> None:
        self.client.upsert(self.names["meta"], [{"name": name, "value": value, "_v": PLACEHOLDER}])

    def bump(self) -> None:
        """Tell every reader that what is visible changed."""
        self.set_meta("epoch", uuid.uuid4().hex)

    def heads(self, filter: str = "part == 0") -> list[Head]:
        return [
            Head(**{f: r[f] for f in HEAD_FIELDS})
            for r in self.query("documents", filter, HEAD_FIELDS)
        ]

    def batches(self) -> dict[str, Batch]:
        """Committed batches whose heads may not all say live yet (nor their deletions
        gone), by id."""
        rows = self.query("meta", 'name like "batch:%"', ["name", "value"])
        out = {}
        for r in rows:
            value = json.loads(r["value"])
            out[r["name"][6:]] = Batch(int(value["at"]), tuple(value["delete"]))
        return out

    # -- writing -----------------------------------------------------------------------

    def add(
        self,
        docs: Sequence[NewDocument],
        model: str,
        chunking: Chunking,
        delete: Sequence[str] = (),
    ) -> None:
        """Write ``docs`` and remove the documents ``delete``: one change, visible at once."""
        batch = uuid.uuid4().hex[:16]
        committed = self.batches()
        done = {h.key for h in self.heads() if h.state == "live" or h.batch in committed}
        keys = [document_key(d.doc_id, d.sha256, model, chunking) for d in docs]
        started = time.time_ns()
        for doc, key in zip(docs, keys, strict=True):
            if key not in done:  # else all its rows are in: only its head changes
                self._upsert("documents", self._head_rows(doc, key, "writing", batch, started))
                self._write_units(doc, key)
            else:  # the same text again: its places and tags may be new, or none now
                self.client.delete(self.names["documents"], filter=f'key == "{key}" and part < 0')
            self._upsert("documents", self._extra_rows(doc, key, batch, started))
        at = time.time_ns()
        self.set_meta(f"batch:{batch}", json.dumps({"at": at, "delete": list(delete)}))
        self.bump()
        heads = [
            self._head_rows(d, k, "live", batch, at)[0] for d, k in zip(docs, keys, strict=True)
        ]
        self.finish(batch, heads, delete)
        self.retire([d.doc_id for d in docs], keep=set(keys))

    def finish(self, batch: str, heads: list[dict], delete: Sequence[str]) -> None:
        """After a batch's commit: its heads marked live and its deletions done, then the
        batch forgotten (in this order, so readers see the same all along)."""
        self._upsert("documents", heads)
        self.retire(delete)
        self.client.delete(self.names["meta"], ids=[f"batch:{batch}"])

    def retire(self, doc_ids: Iterable[str], keep: set[str] = frozenset()) -> None:
        """Hide every version of ``doc_ids`` not in ``keep`` (a write still in progress,
        another writer's, is left to finish); rows retired a while ago are deleted."""
        docs = [doc_hash(d) for d in doc_ids]
        if not docs:
            return
        committed = self.batches()
        doomed = [
            r
            for r in self.query("documents", f"part == 0 and doc in {quoted(set(docs))}", ["*"])
            if r["key"] not in keep and (r["state"] == "live" or r["batch"] in committed)
        ]
        if doomed:
            now = time.time_ns()
            self._upsert("documents", [{**r, "state": "gone", "committed_at": now} for r in doomed])
            self.bump()
        self.sweep_retired()

    def sweep_retired(self, grace_ns: int = GRACE_NS) -> None:
        """Delete the rows of versions retired more than ``grace_ns`` ago: a reader in the
        middle of a question (index.stores.milvus's snapshot) may still read newer ones."""
        before = time.time_ns() - grace_ns
        self.sweep(
            [h.key for h in self.heads('part == 0 and state == "gone"') if h.committed_at <= before]
        )

    def sweep(self, keys: list[str]) -> None:
        """Delete the rows of hidden keys, their heads last (a sweep cut short is finished
        by the next)."""
        for b in range(0, len(keys), 100):
            batch = quoted(keys[b : b + 100])
            for kind in ("sentences", "passages", "documents"):
                self.client.delete(self.names[kind], filter=f"key in {batch}")

    def flush(self) -> None:
        """Seal what was written: Milvus then keeps each sealed segment's BM25 statistics
        whatever a search filters (Milvus Lite scores its unsealed rows over the filtered
        ones only)."""
        for kind in ("sentences", "passages"):
            self.client.flush(self.names[kind])

    def _upsert(self, kind: str, rows: list[dict]) -> None:
        for b in range(0, len(rows), BATCH_ROWS):
            self.client.upsert(self.names[kind], rows[b : b + BATCH_ROWS])

    def _head_rows(self, doc: NewDocument, key: str, state: str, batch: str, at: int):
        text = doc.text
        parts = [
            text[i : i + DOCUMENT_PART_CHARS]
            for i in range(0, max(len(text), 1), DOCUMENT_PART_CHARS)
        ]
        base = {
            "key": key, "doc": doc_hash(doc.doc_id), "doc_id": doc.doc_id, "parts": len(parts),
            "state": state, "batch": batch, "committed_at": at, "title": doc.title,
            "sha256": doc.sha256, "uploaded": doc.uploaded, "added_by": doc.added_by or "",
            "added_at": doc.added_at or "", "chars": len(text),
            "sentences": len(doc.sentences), "passages": len(doc.passages),
            "flagged": int(doc.flagged.sum()), "_v": PLACEHOLDER,
        }  # fmt: skip
        return [{**base, "id": f"{key}:{p}", "part": p, "text": t} for p, t in enumerate(parts)]

    def _extra_rows(self, doc: NewDocument, key: str, batch: str, at: int) -> list[dict]:
        """A version's places and tags as JSON, in parts numbered -1, -2, ... beside its
        text's (no head reads them: heads are part 0)."""
        extra = extra_json(doc)
        if not extra:
            return []
        head = self._head_rows(doc, key, "extra", batch, at)[0]
        parts = [
            extra[i : i + DOCUMENT_PART_CHARS] for i in range(0, len(extra), DOCUMENT_PART_CHARS)
        ]
        return [
            {**head, "id": f"{key}:x{p}", "part": -1 - p, "parts": len(parts), "text": t}
            for p, t in enumerate(parts)
        ]

    def extras(self, keys: Sequence[str]) -> dict[str, dict]:
        """The places and tags of the versions ``keys`` that have any, by key."""
        parts: dict[str, list[tuple[int, str]]] = {}
        for b in range(0, len(keys), 100):
            where = f"part < 0 and key in {quoted(list(keys[b : b + 100]))}"
            for r in self.query("documents", where, ["key", "part", "text"]):
                parts.setdefault(r["key"], []).append((-r["part"], r["text"]))
        return {k: json.loads("".join(t for _, t in sorted(v))) for k, v in parts.items()}

    def set_extra(self, key: str, extra: dict) -> None:
        """Replace the places and tags of the version ``key`` and stamp its head anew, so
        that every reader reads them again (index.stores.milvus caches them by the head's
        time)."""
        rows = self.client.get(self.names["documents"], ids=[f"{key}:0"], output_fields=["*"])
        if not rows:
            return
        head = dict(rows[0])
        text = json.dumps(extra, ensure_ascii=False)
        parts = [
            text[i : i + DOCUMENT_PART_CHARS] for i in range(0, len(text), DOCUMENT_PART_CHARS)
        ]
        self.client.delete(self.names["documents"], filter=f'key == "{key}" and part < 0')
        self._upsert(
            "documents",
            [
                {**head, "id": f"{key}:x{p}", "part": -1 - p, "parts": len(parts), "text": t,
                 "state": "extra"}
                for p, t in enumerate(parts)
            ],
        )  # fmt: skip
        self._upsert("documents", [{**head, "committed_at": time.time_ns()}])
        self.bump()

    def _write_units(self, doc: NewDocument, key: str) -> None:
        dh = doc_hash(doc.doc_id)
        sentences = []
        for seq, span in enumerate(doc.sentences):
            text = doc.text[span.start : span.end]
            sentences.append({
                "id": row_id(key, "s", seq), "key": key, "doc": dh, "seq": seq,
                "start": span.start, "end": span.end, "text": text,
                "terms": encode_terms(terms(text)), "flagged": bool(doc.flagged[seq]),
                "vector": doc.sentence_vectors[seq].tolist(),
            })  # fmt: skip
        passages = []
        for seq, (first, last) in enumerate(doc.passages):
            start, end = doc.sentences[first].start, doc.sentences[last - 1].end
            text = doc.text[start:end]
            passages.append({
                "id": row_id(key, "p", seq), "key": key, "doc": dh, "seq": seq,
                "first": first, "last": last, "start": start, "end": end, "text": text,
                "terms": encode_terms(terms(passage_input(doc.title, text))),
                "vector": doc.passage_vectors[seq].tolist(),
            })  # fmt: skip
        self._upsert("sentences", sentences)
        self._upsert("passages", passages)

    # -- upkeep ------------------------------------------------------------------------

    def compact(self, grace_ns: int = GRACE_NS) -> None:
        """Finish batches whose writer died after committing, delete the rows of versions
        retired more than ``grace_ns`` ago and of writes abandoned long ago, then let Milvus
        compact."""
        committed = self.batches()
        heads = self.query("documents", "part == 0", ["*"])
        for batch, b in committed.items():
            mine = [
                {**r, "state": "live", "committed_at": b.at} for r in heads if r["batch"] == batch
            ]
            self.finish(batch, mine, b.delete)
        now = time.time_ns()
        if committed:
            self.retire({r["doc_id"] for r in heads if r["batch"] in committed},
                        keep={r["key"] for r in heads if r["batch"] in committed})  # fmt: skip
        self.sweep([
            r["key"]
            for r in heads
            if r["state"] == "writing" and r["batch"] not in committed
            and now - r["committed_at"] > STALE_WRITE_NS
        ])  # fmt: skip
        self.sweep_retired(grace_ns)
        for name in self.names.values():
            self.client.compact(name)
