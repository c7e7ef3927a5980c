"""The index in Milvus (a cluster, a server, or Milvus Lite in this process): any number of
`qa serve` replicas read and write the same collections and hold nothing of their own but a
cache of the document heads, read again whenever the epoch in Milvus changes.

Searches run in Milvus (dense: FLAT inner product; BM25: Milvus's own full-text search over
the stemmed terms); every hit is checked against the visible heads, so rows of a version being
written or retired are never returned (index.stores.milvus_rows says how writes stay whole)."""

from __future__ import annotations

import copy
import json
import logging
import threading
from collections import OrderedDict
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np

from index.chunk import Chunking
from index.errors import IndexError_, IndexMismatch, IndexNotFound
from index.places import Places
from index.split import Span
from index.stores.interface import (
    Counts,
    DocumentEntry,
    DocumentText,
    Hit,
    Kind,
    NewDocument,
    Nominees,
    Scope,
    StoredPassage,
    StoredSentence,
)
from index.stores.milvus_rows import Head, MilvusRows, quoted, row_id
from index.stores.milvus_schema import create_collections, encode_terms, load_collections
from index.stores.milvus_stats import KINDS, KeyStats, Statistics

log = logging.getLogger(__name__)

GRPC_OPTIONS = {"grpc.keepalive_time_ms": 310_000, "grpc.keepalive_permit_without_calls": 0}
SLACK = 16  # extra hits asked for, in case some belong to a version not visible here
CACHED_ROWS = 100_000  # sentence or passage rows kept in memory, per kind
_COMMON = ["id", "key", "seq", "start", "end", "text", "terms", "vector"]
UNIT_FIELDS = {"sentence": [*_COMMON, "flagged"], "passage": [*_COMMON, "first", "last"]}


def connect(uri: str, token: str | None = None):
    """A client of the Milvus at ``uri`` (a path ending in .db: Milvus Lite in-process)."""
    try:
        from pymilvus import MilvusClient
        from pymilvus.exceptions import MilvusException
    except ImportError as exc:
        raise IndexError_(
            "QA_STORE=milvus needs the milvus extra: pip install 'qa[milvus]'"
        ) from exc
    # every query_iterator on Milvus Lite warns that it reads no timestamp from the server
    # (the client's time then bounds the query, which is as strong); set here, after the
    # logging configuration pymilvus applies when imported
    logging.getLogger("pymilvus.client.iterator.query_iterator").setLevel(logging.ERROR)
    try:
        # no keepalive pings on idle connections: `milvus-lite server` answers pymilvus's
        # (every 10 s) with GOAWAY "too_many_pings", after which the channel fails for a
        # while; a call on a dead connection reconnects anyway
        return MilvusClient(uri, token=token or "", grpc_options=GRPC_OPTIONS)
    except MilvusException as exc:
        raise IndexError_(f"cannot reach Milvus at {uri}: {exc}") from exc


@dataclass(frozen=True)
class _View:
    """What one epoch shows: per document its visible head, and the word statistics."""

    epoch: str | None
    heads: dict[str, Head]  # doc_id -> visible head, in the order committed
    by_key: dict[str, Head]
    hidden: frozenset[str]  # keys whose rows exist but are not visible
    stats: Statistics
    # places and tags by key, of the visible versions that have any, and the head time
    # at which each visible version's were read (read again when its head changes)
    extras: dict[str, dict]
    read_at: dict[str, int]


class MilvusStore:
    def __init__(self, client, prefix: str) -> None:
        self.client = client
        self.prefix = prefix
        self.rows = MilvusRows(client, prefix)
        manifest = self._manifest()
        if manifest is None:
            raise IndexNotFound(f"Milvus collections {prefix}_*")
        load_collections(client, prefix)
        self.model: str = manifest["model"]["name"]
        self.dim: int = manifest["model"]["dim"]
        self.chunking = Chunking.of(manifest["chunking"])
        self._lock = threading.Lock()
        # a question's four searches are four round trips: sent at once, not in turn
        self._searches = ThreadPoolExecutor(4, thread_name_prefix="milvus-search")
        self._view = _View(None, {}, {}, frozenset(), Statistics.empty(), {}, {})
        self._rows: dict[str, OrderedDict[int, dict]] = {k: OrderedDict() for k in KINDS}
        self.refresh()

    @classmethod
    def create(cls, client, prefix: str, model: str, dim: int, chunking: Chunking) -> MilvusStore:
        """The store under ``prefix``, its collections created if there are none."""
        wanted = {
            "model": {"name": model, "dim": dim},
            "chunking": chunking.as_dict(),
        }
        rows = MilvusRows(client, prefix)
        found = _manifest_of(client, rows)
        if found is None:
            create_collections(client, prefix, dim)
            rows.set_meta("manifest", json.dumps(wanted))
        elif {**found, "chunking": Chunking.of(found["chunking"]).as_dict()} != wanted:
            raise IndexMismatch(
                f"the Milvus collections {prefix}_* hold {found}, not {wanted}: use another "
                "QA_MILVUS_PREFIX, settings that match them (QA_PASSAGE_VECTORS=embedded for "
                "collections made before pooled passage vectors), or drop them and index again"
            )
        return cls(client, prefix)

    def _manifest(self) -> dict | None:
        return _manifest_of(self.client, self.rows)

    def drop(self) -> None:
        for name in self.rows.names.values():
            if self.client.has_collection(name):
                self.client.drop_collection(name)

    # -- what is visible -----------------------------------------------------------------

    def version(self) -> str:
        return self.rows.meta("epoch") or ""

    def refresh(self) -> bool:
        epoch = self.version()
        if epoch == self._view.epoch:
            return False
        with self._lock:
            if epoch != self._view.epoch:
                self._view = self._read_view(epoch, self._view)
        return True

    def _read_view(self, epoch: str, old: _View) -> _View:
        committed = self.rows.batches()
        heads = self.rows.heads()
        best: dict[str, tuple[int, Head]] = {}
        for h in heads:
            batch = committed.get(h.batch)
            at = h.committed_at if h.state == "live" else batch.at if batch else None
            if h.state == "gone" or at is None:
                continue
            if h.doc_id not in best or at > best[h.doc_id][0]:
                best[h.doc_id] = (at, h)
        for batch in committed.values():  # deletions committed, not all done yet
            for doc_id in batch.delete:
                if doc_id in best and best[doc_id][0] < batch.at:
                    del best[doc_id]
        visible = {h.doc_id: h for _, h in sorted(best.values(), key=lambda x: x[0])}
        by_key = {h.key: h for h in visible.values()}
        new = [k for k in by_key if k not in old.stats.by_key]
        added = {k: KeyStats() for k in new}
        for b in range(0, len(new), 100):
            where = f"key in {quoted(new[b : b + 100])}"
            for r in self.rows.query("sentences", where, ["key", "terms", "text"]):
                added[r["key"]].add_unit("sentence", r["terms"], r["text"])
            for r in self.rows.query("passages", where, ["key", "terms"]):
                added[r["key"]].add_unit("passage", r["terms"])
        read_at = {
            k: t for k, t in old.read_at.items() if k in by_key and by_key[k].committed_at == t
        }
        asked = [k for k in by_key if k not in read_at]
        extras = {k: v for k, v in old.extras.items() if k in read_at}
        extras.update(self.rows.extras(asked) if asked else {})
        read_at.update({k: by_key[k].committed_at for k in asked})
        return _View(
            epoch,
            visible,
            by_key,
            frozenset(h.key for h in heads) - by_key.keys(),
            old.stats.changed(by_key, added),
            extras,
            read_at,
        )

    def snapshot(self) -> MilvusStore:
        """This store with its view pinned (a row's id never changes: it names its version,
        so the ids of one call stay valid in the next)."""
        pinned = copy.copy(self)  # shares the client and the cache of rows
        pinned.refresh = lambda: False  # type: ignore[method-assign]
        return pinned

    def heads(self) -> list[Head]:
        """The visible documents' heads, in the order they were committed."""
        return list(self._view.heads.values())

    def counts(self) -> Counts:
        heads = self._view.heads.values()
        return Counts(len(heads), sum(h.sentences for h in heads), sum(h.passages for h in heads))

    # -- searching -----------------------------------------------------------------------

    def _search(
        self, kind: Kind, data, field_: str, metric: str, k: int, only: Scope | None = None
    ) -> list[dict]:
        """Milvus's best ``k`` visible units (a few more asked for, as some may belong to a
        version written since this view was read); ``only``: of these documents alone, a
        filter of the search itself."""
        view = self._view
        if k <= 0 or not view.by_key:
            return []
        if only is not None:
            keys = sorted(view.heads[d].key for d in only if d in view.heads)
            if not keys:
                return []
            where = f"key in {quoted(keys)}"
        else:
            where = f"key not in {quoted(sorted(view.hidden))}" if view.hidden else ""
        result = self.client.search(
            self.rows.names[f"{kind}s"],
            data=[data],
            anns_field=field_,
            limit=k + SLACK,
            filter=where,
            output_fields=["key"],
            search_params={"metric_type": metric},
        )
        return [r for r in result[0] if r["entity"]["key"] in view.by_key][:k]

    def dense_search(
        self, kind: Kind, vector: np.ndarray, k: int, only: Scope | None = None
    ) -> list[Hit]:
        vector = np.asarray(vector, np.float32).tolist()
        return [
            Hit(int(r["id"]), float(r["distance"]))
            for r in self._search(kind, vector, "vector", "IP", k, only)
        ]

    def nominate(
        self, vector: np.ndarray, terms: Sequence[str], k: int, only: Scope | None = None
    ) -> Nominees:
        asked = [
            self._searches.submit(self.dense_search, "passage", vector, k, only),
            self._searches.submit(self.dense_search, "sentence", vector, k, only),
            self._searches.submit(self.bm25_search, "passage", terms, k, only),
            self._searches.submit(self.bm25_search, "sentence", terms, k, only),
        ]
        return Nominees(*(f.result() for f in asked))

    def bm25_search(
        self, kind: Kind, terms: Sequence[str], k: int, only: Scope | None = None
    ) -> list[Hit]:
        """Milvus's full-text search finds the candidates (twice as many as asked: its
        statistics may differ a little from the whole collection's), scored here."""
        if not terms or k <= 0:
            return []
        found = self._search(kind, encode_terms(list(terms)), "sparse", "BM25", 2 * k, only)
        ids = [int(r["id"]) for r in found]
        hits = [Hit(i, float(s)) for i, s in zip(ids, self.bm25_scores(kind, terms, ids)) if s > 0]
        return sorted(hits, key=lambda h: -h.score)[:k]

    def bm25_scores(self, kind: Kind, terms: Sequence[str], ids: Sequence[int]) -> np.ndarray:
        query = encode_terms(list(terms)).split()
        rows = self._fetch(kind, ids)
        stats = self._view.stats
        return np.array([stats.bm25(kind, query, rows[int(i)]["terms"]) for i in ids], np.float32)

    # -- fetching ------------------------------------------------------------------------

    def _fetch(self, kind: Kind, ids: Sequence[int]) -> dict[int, dict]:
        """The rows ``ids``, from the cache of rows already read (a row never changes: its
        id names its document version), the others from Milvus."""
        cache = self._rows[kind]
        out = {}
        missing = []
        for i in ids:
            row = cache.get(int(i))
            if row is None:
                missing.append(int(i))
            else:
                out[int(i)] = row
        fields = UNIT_FIELDS[kind]
        for b in range(0, len(missing), 1000):
            for r in self.client.get(
                self.rows.names[f"{kind}s"], ids=missing[b : b + 1000], output_fields=fields
            ):
                r["vector"] = np.asarray(r["vector"], np.float32)
                out[int(r["id"])] = cache[int(r["id"])] = r
        while len(cache) > CACHED_ROWS:
            cache.popitem(last=False)
        return out

    def passages(self, ids: Sequence[int]) -> list[StoredPassage]:
        view = self._view
        rows = self._fetch("passage", ids)
        wanted = {
            row_id(r["key"], "s", s): None
            for r in rows.values()
            for s in range(r["first"], r["last"])
        }
        sentences = self._fetch("sentence", list(wanted))
        out = []
        for i in ids:
            r = rows[int(i)]
            head = view.by_key.get(r["key"]) or self._head(r["key"])
            members = tuple(
                _sentence(sentences[row_id(r["key"], "s", s)], head.doc_id)
                for s in range(r["first"], r["last"])
            )
            out.append(
                StoredPassage(
                    int(i), head.doc_id, head.title, int(r["start"]), int(r["end"]), r["text"],
                    r["vector"], members, Places.of(view.extras.get(r["key"], {}).get("places")),
                )
            )  # fmt: skip
        return out

    def _head(self, key: str) -> Head:
        heads = self.rows.heads(f'id == "{key}:0"')
        if not heads:
            raise IndexError_(f"document version {key} is gone from Milvus: ask again")
        return heads[0]

    def vectors(self, kind: Kind, ids: Sequence[int]) -> np.ndarray:
        rows = self._fetch(kind, ids)
        if not len(ids):
            return np.zeros((0, self.dim), np.float32)
        return np.stack([rows[int(i)]["vector"] for i in ids])

    def sentences_of(self, passage_ids: Sequence[int]) -> list[list[int]]:
        rows = self._fetch("passage", passage_ids)
        return [
            [row_id(r["key"], "s", s) for s in range(r["first"], r["last"])]
            for r in (rows[int(i)] for i in passage_ids)
        ]

    def passages_of_sentences(self, ids: Sequence[int]) -> list[list[int]]:
        rows = self._fetch("sentence", ids)
        step = self.chunking.sentences - self.chunking.overlap
        out = []
        for i in ids:
            r = rows[int(i)]
            head = self._view.by_key.get(r["key"]) or self._head(r["key"])
            seq, n = int(r["seq"]), head.passages
            first = max(0, -(-(seq - self.chunking.sentences + 1) // step))
            out.append(
                [row_id(r["key"], "p", j) for j in range(first, min(seq // step, n - 1) + 1)]
            )
        return out

    def document_frequencies(self, keys: Sequence[str]) -> tuple[list[int], int]:
        stats = self._view.stats
        return [stats.held.get(k, 0) for k in keys], stats.units["sentence"]

    def documents(self) -> list[DocumentEntry]:
        view = self._view
        return [_entry(h, view.extras.get(h.key)) for h in view.heads.values()]

    def document(self, doc_id: str) -> DocumentText | None:
        head = self._view.heads.get(doc_id)
        if head is None:
            return None
        parts = self.rows.query("documents", f'key == "{head.key}" and part >= 0', ["part", "text"])
        text = "".join(p["text"] for p in sorted(parts, key=lambda p: p["part"]))
        rows = sorted(
            self.rows.query(
                "sentences", f'key == "{head.key}"', ["seq", "start", "end", "flagged"]
            ),
            key=lambda r: r["seq"],
        )
        return DocumentText(
            _entry(head, self._view.extras.get(head.key)),
            text,
            tuple(Span(int(r["start"]), int(r["end"])) for r in rows),
            tuple(bool(r["flagged"]) for r in rows),
        )

    # -- writing -------------------------------------------------------------------------

    def add(self, documents: Sequence[NewDocument], delete: Sequence[str] = ()) -> None:
        if documents or delete:
            self.rows.add(documents, self.model, self.chunking, delete)
            self.rows.flush()
            self.refresh()

    def delete(self, doc_ids: Sequence[str]) -> None:
        self.rows.retire(doc_ids)
        self.rows.flush()
        self.refresh()

    def set_tags(self, doc_id: str, tags: Sequence[str]) -> bool:
        """The visible version's places and tags rewritten (its rows stay as they are)."""
        self.refresh()
        head = self._view.heads.get(doc_id)
        if head is None:
            return False
        extra = dict(self._view.extras.get(head.key, {}))
        extra["tags"] = list(tags)
        self.rows.set_extra(head.key, extra)
        self.refresh()
        return True

    def compact(self) -> None:
        self.rows.compact()
        self.refresh()


def has_store(client, prefix: str) -> bool:
    """Whether the collections under ``prefix`` hold an index (cheap)."""
    return _manifest_of(client, MilvusRows(client, prefix)) is not None


def _manifest_of(client, rows: MilvusRows) -> dict | None:
    if not client.has_collection(rows.names["meta"]):
        return None
    client.load_collection(rows.names["meta"])
    value = rows.meta("manifest")
    return json.loads(value) if value else None


def _sentence(r: dict, doc_id: str) -> StoredSentence:
    return StoredSentence(
        int(r["id"]), doc_id, int(r["start"]), int(r["end"]), r["text"],
        r["vector"], bool(r["flagged"]), int(r["seq"]) == 0,
    )  # fmt: skip


def _entry(h: Head, extra: dict | None = None) -> DocumentEntry:
    extra = extra or {}
    return DocumentEntry(
        h.doc_id, h.title, h.sha256, h.chars, h.sentences, h.passages, h.flagged,
        h.uploaded, h.added_by or None, h.added_at or None, Places.of(extra.get("places")),
        tuple(extra.get("tags", ())),
    )  # fmt: skip
