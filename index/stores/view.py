"""One version of a segment index as read: its segments, which of their rows are live, and
ids over all of them."""

from __future__ import annotations

import numpy as np

from index.postings import Part, part
from index.segment import KINDS, Segment
from index.stores.interface import Counts, Kind


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
        self.counts = Counts(
            len(self.docs),
            int(sum(x.sum() for x in self.live["sentence"])),
            int(sum(x.sum() for x in self.live["passage"])),
        )

    def locate(self, kind: Kind, ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Segment and unit number of global ids."""
        s = np.searchsorted(self.base[kind], ids, side="right") - 1
        return s, ids - self.base[kind][s]

    def deleted_share(self) -> float:
        total = sum(len(x) for x in self.live["sentence"])
        return 1 - self.counts.sentences / total if total else 0.0
