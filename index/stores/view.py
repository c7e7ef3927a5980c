"""One version of a segment index as read: its segments, which of their rows are live, and
ids over all of them."""

from __future__ import annotations

import numpy as np

from index.postings import Part, part
from index.segment import KINDS, Segment
from index.split import Span
from index.stores.interface import Counts, Kind, NewDocument, Scope

MAX_SEGMENTS = 8  # past this many, the small ones are merged
MAX_DELETED = 0.25  # past this share of deleted rows, everything is merged
SCOPES_KEPT = 16  # scopes whose units a view keeps (a conversation asks over one)


class View:
    """The segments of one manifest with their tombstones, and global ids over them:
    unit ``i`` of segment ``s`` is ``base[kind][s] + i``. Never changed once built."""

    def __init__(self, manifest: dict, segments: list[Segment]) -> None:
        self.manifest = manifest
        self.segments = segments
        deleted = manifest.get("deleted", {})
        self.live: dict[str, list[np.ndarray]] = {k: [] for k in KINDS}
        self.parts: dict[str, list[Part]] = {k: [] for k in KINDS}
        self.base: dict[str, np.ndarray] = {}
        self.docs: dict[str, tuple[int, int]] = {}
        self.order: list[tuple[int, int]] = []
        for s, seg in enumerate(segments):
            gone = sorted(set(deleted.get(seg.name, [])))
            for kind in KINDS:
                live = np.ones(seg.size(kind), dtype=bool)
                live[seg.units_of(kind, gone)] = False
                self.live[kind].append(live)
                self.parts[kind].append(part(seg.postings[kind], live))
            dead = set(gone)
            for d, doc in enumerate(seg.documents):
                if d not in dead:
                    self.docs[doc.entry.doc_id] = (s, d)
                    self.order.append((s, d))
        for kind in KINDS:
            sizes = [seg.size(kind) for seg in segments]
            self.base[kind] = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)
        self._scopes: dict[tuple[Kind, Scope], tuple[list, np.ndarray]] = {}
        self.counts = Counts(
            len(self.docs),
            int(sum(x.sum() for x in self.live["sentence"])),
            int(sum(x.sum() for x in self.live["passage"])),
        )

    def _scope(self, kind: Kind, only: Scope) -> tuple[list, np.ndarray]:
        found = self._scopes.get((kind, only))
        if found is None:
            chosen: dict[int, list[int]] = {}
            for doc_id in only:
                where = self.docs.get(doc_id)
                if where is not None:
                    chosen.setdefault(where[0], []).append(where[1])
            per = [
                np.sort(seg.units_of(kind, chosen[s])) if s in chosen else None
                for s, seg in enumerate(self.segments)
            ]
            ids = [self.base[kind][s] + u for s, u in enumerate(per) if u is not None]
            found = (per, np.concatenate(ids) if ids else np.zeros(0, np.int64))
            if len(self._scopes) >= SCOPES_KEPT:
                self._scopes.clear()
            self._scopes[(kind, only)] = found
        return found

    def scoped(self, kind: Kind, only: Scope) -> list[np.ndarray | None]:
        """Per segment, the (live) units of the documents ``only``; None where it holds
        none of them."""
        return self._scope(kind, only)[0]

    def scoped_ids(self, kind: Kind, only: Scope) -> np.ndarray:
        """The global ids of the units of the documents ``only``, ascending."""
        return self._scope(kind, only)[1]

    def locate(self, kind: Kind, ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Segment and unit number of global ids."""
        s = np.searchsorted(self.base[kind], ids, side="right") - 1
        return s, ids - self.base[kind][s]

    def deleted_share(self) -> float:
        total = sum(len(x) for x in self.live["sentence"])
        return 1 - self.counts.sentences / total if total else 0.0

    def needs_merge(self) -> bool:
        return len(self.segments) > MAX_SEGMENTS or self.deleted_share() > MAX_DELETED

    def mergeable(self) -> list[int]:
        """The segments to merge: all when many rows are deleted, else the small ones (each
        under a tenth of the rows), so a merge costs about what the small segments hold."""
        if self.deleted_share() > MAX_DELETED:
            return list(range(len(self.segments)))
        sizes = [int(x.sum()) for x in self.live["sentence"]]
        small = [s for s, n in enumerate(sizes) if n <= 0.1 * sum(sizes)]
        return small if len(small) > 1 else list(range(len(self.segments)))

    def new_document(self, s: int, d: int) -> NewDocument:
        """Document ``d`` of segment ``s`` as a store takes it (to merge it elsewhere)."""
        seg = self.segments[s]
        doc = seg.documents[d]
        e = doc.entry
        srows = np.asarray(seg.sentences[doc.first_sentence : doc.first_sentence + e.sentences])
        prows = np.asarray(seg.passages[doc.first_passage : doc.first_passage + e.passages])
        return NewDocument(
            e.doc_id,
            e.title,
            seg.document_text(d),
            e.sha256,
            tuple(Span(int(a), int(b)) for _, a, b in srows),
            tuple((int(a) - doc.first_sentence, int(b) - doc.first_sentence) for _, a, b in prows),
            np.asarray(
                seg.vectors["sentence"][doc.first_sentence : doc.first_sentence + e.sentences]
            ),
            np.asarray(seg.vectors["passage"][doc.first_passage : doc.first_passage + e.passages]),
            np.asarray(seg.flagged[doc.first_sentence : doc.first_sentence + e.sentences]),
            e.uploaded,
            e.added_by,
            e.added_at,
            e.places,
            e.tags,
        )
