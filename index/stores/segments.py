"""The default store: an index folder of immutable segments, as Lucene keeps one.

Layout of ``index_dir``::

    manifest.json     format version, generation, model, chunking, the segments in order
                      and, per segment, its deleted documents (tombstones)
    seg-<gen>-<rand>/ one folder per segment (index.segment)

A change writes a new segment folder, then a new manifest that lists it (written beside
and renamed over the old one): a segment is visible only once whole, and a killed writer
leaves the last manifest, whose segments are all complete. Replacing a document is adding
it again and tombstoning the old one in the same manifest. Writers hold the lock of
``index.lock`` (re-reading the manifest under it, so no change is lost); readers never
lock. A merge (``compact``) rewrites some segments as one; it runs on ``qa index
--compact`` and after a change that leaves too many segments or too many deleted rows."""

from __future__ import annotations

import copy
import heapq
import json
import logging
import os
import shutil
import threading
from collections.abc import Sequence
from dataclasses import dataclass, replace
from functools import lru_cache
from pathlib import Path

import numpy as np

from index.ann import search
from index.chunk import Chunking
from index.errors import raise_disk_full
from index.lock import stamp, writing
from index.postings import bm25_scores, document_frequencies
from index.segment import Segment, fsync_folder, write_segment
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
    nominate_in_turn,
)
from index.stores.manifest import (
    check_manifest,
    new_manifest,
    read_manifest,
    segment_name,
    write_manifest,
)
from index.stores.view import View

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Options:
    """How large segments are searched (see index.ann) and how long a writer waits."""

    ann: str = "IVF{nlist},SQ8"  # FAISS factory string; "Flat": always exact
    ann_above: int = 50_000  # units of one kind in a segment
    write_wait: float = -1  # seconds to wait for the writer lock; -1: for ever


class SegmentStore:
    """An index folder of segments (see the module's docstring); implements
    ``index.stores.interface.Store``."""

    def __init__(
        self, index_dir: Path, expect_model: str | None = None, options: Options | None = None
    ) -> None:
        self.index_dir = index_dir
        self.expect_model = expect_model
        self.options = options or Options()
        self._open: dict[str, Segment] = {}
        self._write_lock = threading.Lock()
        self._view: View
        self._stamp: tuple | None = None
        self._load()

    # -- reading -------------------------------------------------------------------------
    def _load(self) -> None:
        """Read the manifest and open the segments it lists that are not open yet. A writer
        may replace the manifest (or a whole folder) meanwhile: then it is read again."""
        for attempt in range(5):
            before = stamp(self.index_dir)
            manifest = read_manifest(self.index_dir)
            check_manifest(self.index_dir, manifest, self.expect_model)
            try:
                segments = [self._segment(s["name"]) for s in manifest["segments"]]
            except OSError:
                if attempt < 4 and stamp(self.index_dir) != before:
                    continue  # a merge removed a segment between the two reads
                raise
            break
        self.model = manifest["model"]["name"]
        self.dim = manifest["model"]["dim"]
        self.chunking = Chunking.of(manifest["chunking"])
        self.generation = manifest.get("generation", 0)
        self._view = View(manifest, segments)
        self._stamp = before
        self._open = {seg.name: seg for seg in segments}
        self._bm25.cache_clear()

    def _segment(self, name: str) -> Segment:
        seg = self._open.get(name)
        if seg is None or seg.folder.parent != self.index_dir:
            seg = Segment(self.index_dir / name)
        return seg

    def snapshot(self) -> SegmentStore:
        pinned = copy.copy(self)  # shares the open segments; its view never changes
        pinned.refresh = lambda: False  # type: ignore[method-assign]
        return pinned

    def version(self) -> str:
        return repr(stamp(self.index_dir))

    def refresh(self) -> bool:
        if stamp(self.index_dir) == self._stamp:
            return False
        self._load()
        return True

    def counts(self) -> Counts:
        return self._view.counts

    def nominate(
        self, vector: np.ndarray, terms: Sequence[str], k: int, only: Scope | None = None
    ) -> Nominees:
        return nominate_in_turn(self, vector, terms, k, only)

    def dense_search(
        self, kind: Kind, vector: np.ndarray, k: int, only: Scope | None = None
    ) -> list[Hit]:
        view = self._view
        vector = np.asarray(vector, dtype=np.float32)
        best: list[tuple[float, int]] = []
        scoped = view.scoped(kind, only) if only is not None else None
        for s, seg in enumerate(view.segments):
            live = view.live[kind][s]
            ann = seg.ann.get(kind) if self.options.ann != "Flat" else None
            if scoped is not None:
                # a scope is searched exactly over its own rows: never fewer than k hits
                units = scoped[s]
                if units is None:
                    continue
                scores = np.asarray(seg.rows[kind][units]) @ vector
            elif ann is not None:
                units, scores = search(ann, seg.rows[kind], vector, k, live)
            else:
                scores = np.asarray(seg.vectors[kind]) @ vector
                units = np.flatnonzero(live)
                scores = scores[units]
            top = _top(scores, k)
            base = int(view.base[kind][s])
            best += [(float(scores[t]), base + int(units[t])) for t in top]
        return [Hit(i, score) for score, i in heapq.nlargest(k, best)]

    @lru_cache(maxsize=16)  # noqa: B019 (one store per index, cleared at every reload)
    def _bm25(self, kind: Kind, terms: tuple[str, ...]) -> tuple[np.ndarray, np.ndarray]:
        """Every unit scoring above 0 (global ids, ascending) and its score."""
        view = self._view
        per = bm25_scores(view.parts[kind], terms)
        ids = [view.base[kind][s] + units for s, (units, _) in enumerate(per)]
        return (
            np.concatenate(ids).astype(np.int64),
            np.concatenate([scores for _, scores in per]),
        )

    def bm25_search(
        self, kind: Kind, terms: Sequence[str], k: int, only: Scope | None = None
    ) -> list[Hit]:
        ids, scores = self._bm25(kind, tuple(terms))
        if only is not None:  # every unit scoring, narrowed to the scope's, then the best k
            keep = np.isin(ids, self._view.scoped_ids(kind, only))
            ids, scores = ids[keep], scores[keep]
        return [Hit(int(ids[t]), float(scores[t])) for t in _top(scores, k)]

    def bm25_scores(self, kind: Kind, terms: Sequence[str], ids: Sequence[int]) -> np.ndarray:
        found, scores = self._bm25(kind, tuple(terms))
        ids = np.asarray(ids, dtype=np.int64)
        at = np.clip(np.searchsorted(found, ids), 0, max(len(found) - 1, 0))
        hit = (found[at] == ids) if len(found) else np.zeros(len(ids), dtype=bool)
        return np.where(hit, scores[at] if len(found) else 0.0, 0.0).astype(np.float32)

    def vectors(self, kind: Kind, ids: Sequence[int]) -> np.ndarray:
        view = self._view
        segs, units = view.locate(kind, np.asarray(ids, dtype=np.int64))
        out = np.empty((len(units), self.dim), dtype=np.float32)
        for s in np.unique(segs).tolist():
            mine = segs == s
            out[mine] = view.segments[s].rows[kind][units[mine]]
        return out

    def sentences_of(self, passage_ids: Sequence[int]) -> list[list[int]]:
        view = self._view
        segs, units = view.locate("passage", np.asarray(passage_ids, dtype=np.int64))
        out = []
        for s, j in zip(segs.tolist(), units.tolist(), strict=True):
            _, first, last = view.segments[s].passages[j].tolist()
            base = int(view.base["sentence"][s])
            out.append(list(range(base + first, base + last)))
        return out

    def passages(self, ids: Sequence[int]) -> list[StoredPassage]:
        view = self._view
        segs, units = view.locate("passage", np.asarray(ids, dtype=np.int64))
        out = []
        for s, j in zip(segs.tolist(), units.tolist(), strict=True):
            seg = view.segments[s]
            d, first, last = seg.passages[j].tolist()
            doc = seg.documents[d]
            text = seg.document_text(d)
            base = int(view.base["sentence"][s])
            rows = seg.sentences[first:last].tolist()
            flags = seg.flagged[first:last].tolist()
            vectors = seg.rows["sentence"][first:last]
            sentences = tuple(
                StoredSentence(
                    base + i,
                    doc.entry.doc_id,
                    start,
                    end,
                    text[start:end],
                    vectors[k],
                    flags[k],
                    i == doc.first_sentence,
                )
                for k, (i, (_, start, end)) in enumerate(zip(range(first, last), rows, strict=True))
            )
            start, end = sentences[0].start, sentences[-1].end
            out.append(
                StoredPassage(
                    int(view.base["passage"][s]) + j,
                    doc.entry.doc_id,
                    doc.entry.title,
                    start,
                    end,
                    text[start:end],
                    seg.rows["passage"][j],
                    sentences,
                    doc.entry.places,
                )
            )
        return out

    def passages_of_sentences(self, ids: Sequence[int]) -> list[list[int]]:
        view = self._view
        segs, units = view.locate("sentence", np.asarray(ids, dtype=np.int64))
        lo, hi = np.zeros(len(units), np.int64), np.zeros(len(units), np.int64)
        for s in np.unique(segs).tolist():
            rows = view.segments[s].passages
            mine = segs == s
            # passages are in sentence order: those holding i start at or before it and
            # end after it
            base = view.base["passage"][s]
            lo[mine] = base + np.searchsorted(rows[:, 2], units[mine], side="right")
            hi[mine] = base + np.searchsorted(rows[:, 1], units[mine], side="right")
        return [list(range(a, b)) for a, b in zip(lo.tolist(), hi.tolist(), strict=True)]

    def document_frequencies(self, keys: Sequence[str]) -> tuple[list[int], int]:
        view = self._view
        return document_frequencies(view.parts["sentence"], keys), view.counts.sentences

    def documents(self) -> list[DocumentEntry]:
        view = self._view
        return [view.segments[s].documents[d].entry for s, d in view.order]

    def document(self, doc_id: str) -> DocumentText | None:
        view = self._view
        where = view.docs.get(doc_id)
        if where is None:
            return None
        seg = view.segments[where[0]]
        doc = seg.documents[where[1]]
        rows = np.asarray(
            seg.sentences[doc.first_sentence : doc.first_sentence + doc.entry.sentences]
        )
        flags = np.asarray(
            seg.flagged[doc.first_sentence : doc.first_sentence + doc.entry.sentences]
        )
        return DocumentText(
            doc.entry,
            seg.document_text(where[1]),
            tuple(Span(int(a), int(b)) for _, a, b in rows),
            tuple(bool(f) for f in flags),
        )

    # -- writing -------------------------------------------------------------------------
    def add(self, documents: Sequence[NewDocument], delete: Sequence[str] = ()) -> None:
        """Add (or replace) ``documents`` and remove ``delete``, in one atomic change."""
        self._change(documents, delete)

    def delete(self, doc_ids: Sequence[str]) -> None:
        self._change((), doc_ids)

    def set_tags(self, doc_id: str, tags: Sequence[str]) -> bool:
        """The document written again with its new tags (a segment of one document, its
        vectors copied: nothing is embedded)."""
        with self._write_lock, writing(self.index_dir, self.options.write_wait):
            self._load()
            where = self._view.docs.get(doc_id)
            if where is None:
                return False
            document = replace(self._view.new_document(*where), tags=tuple(tags))
            self._changed([document], ())
        return True

    def _change(self, documents: Sequence[NewDocument], delete: Sequence[str]) -> None:
        with self._write_lock, writing(self.index_dir, self.options.write_wait):
            self._load()  # the newest state: no change is based on an older one
            self._changed(documents, delete)

    def _changed(self, documents: Sequence[NewDocument], delete: Sequence[str]) -> None:
        """The change, under the locks, on the newest state."""
        manifest = json.loads(json.dumps(self._view.manifest))
        generation = manifest.get("generation", 0) + 1
        gone = {d.doc_id for d in documents} | set(delete)
        for doc_id in gone:
            where = self._view.docs.get(doc_id)
            if where is not None:
                name = self._view.segments[where[0]].name
                manifest["deleted"].setdefault(name, []).append(where[1])
        if not documents and not any(d in self._view.docs for d in gone):
            return  # nothing changes
        if documents:
            name = self._write(documents, generation)
            manifest["segments"].append({"name": name, "documents": len(documents)})
        self._commit(manifest, generation)
        if self._view.needs_merge():
            self._merge(self._view.mergeable())

    def compact(self) -> None:
        """Merge every segment into one, without the deleted rows."""
        with self._write_lock, writing(self.index_dir, self.options.write_wait):
            self._load()
            if len(self._view.segments) > 1 or self._view.manifest.get("deleted"):
                self._merge(list(range(len(self._view.segments))))

    def _write(self, documents: Sequence[NewDocument], generation: int) -> str:
        """Write a new segment (not listed yet: invisible until the manifest names it)."""
        name = segment_name(generation)
        tmp = self.index_dir / f".{name}.tmp"
        try:
            write_segment(tmp, documents, self.dim, self.options.ann, self.options.ann_above)
            os.rename(tmp, self.index_dir / name)
        except OSError as exc:
            shutil.rmtree(tmp, ignore_errors=True)
            raise_disk_full(exc, self.index_dir)
            raise
        return name

    def _commit(self, manifest: dict, generation: int) -> None:
        """Write ``manifest`` as ``generation``, open it, remove what it no longer lists."""
        manifest["generation"] = generation
        listed = {s["name"] for s in manifest["segments"]}
        manifest["deleted"] = {k: sorted(v) for k, v in manifest["deleted"].items() if k in listed}
        view = View(manifest, [self._segment(s["name"]) for s in manifest["segments"]])
        manifest["counts"] = {
            "documents": view.counts.documents,
            "sentences": view.counts.sentences,
            "passages": view.counts.passages,
        }
        try:
            write_manifest(self.index_dir, manifest)
        except OSError as exc:
            self._sweep()  # the new segment, which nothing lists
            raise_disk_full(exc, self.index_dir)
            raise
        self._load()
        self._sweep()

    def _sweep(self) -> None:
        """Remove segment folders no manifest lists (merged away, or left by a writer that
        died before its manifest): only the lock's holder may, as here."""
        listed = {s["name"] for s in self._view.manifest["segments"]}
        for path in self.index_dir.iterdir():
            if path.is_dir() and path.name not in listed and "seg-" in path.name:
                shutil.rmtree(path, ignore_errors=True)
            elif path.name.startswith(".manifest.") and path.name.endswith(".tmp"):
                path.unlink(missing_ok=True)

    def _merge(self, chosen: list[int]) -> None:
        """Rewrite the segments ``chosen`` (their live documents) as one, in the place of
        the first of them (called under the writer lock)."""
        view = self._view
        manifest = json.loads(json.dumps(view.manifest))
        generation = manifest.get("generation", 0) + 1
        docs = [view.new_document(s, d) for s, d in view.order if s in set(chosen)]
        name = self._write(docs, generation)
        names = [view.segments[s].name for s in chosen]
        kept = [s for s in manifest["segments"] if s["name"] not in names]
        at = min(chosen)
        before = [s for s in kept if manifest["segments"].index(s) < at]
        after = [s for s in kept if manifest["segments"].index(s) > at]
        manifest["segments"] = [*before, {"name": name, "documents": len(docs)}, *after]
        for n in names:
            manifest["deleted"].pop(n, None)
        log.info("merged %d segments into %s (%d documents)", len(chosen), name, len(docs))
        self._commit(manifest, generation)


def create_store(
    folder: Path,
    documents: Sequence[NewDocument],
    model: str,
    dim: int,
    chunking: Chunking,
    options: Options | None = None,
    generation: int = 1,
) -> None:
    """Write a whole new index of ``documents`` as one segment into ``folder`` (which must
    not exist; index.store.save_index renames it into place)."""
    options = options or Options()
    folder.mkdir(parents=True)
    manifest = new_manifest(model, dim, chunking)
    name = segment_name(generation)
    write_segment(folder / name, documents, dim, options.ann, options.ann_above)
    manifest["segments"].append({"name": name, "documents": len(documents)})
    manifest["generation"] = generation
    manifest["counts"] = {
        "documents": len(documents),
        "sentences": sum(len(d.sentences) for d in documents),
        "passages": sum(len(d.passages) for d in documents),
    }
    write_manifest(folder, manifest)
    fsync_folder(folder)


def _top(scores: np.ndarray, k: int) -> np.ndarray:
    """Positions of the ``k`` highest scores, best first."""
    k = min(k, len(scores))
    if k <= 0:
        return np.zeros(0, dtype=np.int64)
    top = np.argpartition(-scores, k - 1)[:k]
    return top[np.argsort(-scores[top], kind="stable")]
