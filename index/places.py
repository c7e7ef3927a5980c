"""Where the parts of a document's text stand in its file: the PDF page of every character
(and the page's printed label, where the PDF has labels) and the heading every part of a
Markdown, HTML or Word document falls under. Stored with the document, so a citation can
say "page 3" or "under Costs" beside its offsets into the text."""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass


@dataclass(frozen=True)
class Places:
    # (offset, page): where each page's text starts, 1-based pages, offsets into the text
    pages: tuple[tuple[int, int], ...] = ()
    # printed page numbers, one per page of the file (page n's is labels[n - 1]); empty
    # when the PDF has none
    labels: tuple[str, ...] = ()
    # (offset, heading): where the text under each heading starts
    sections: tuple[tuple[int, str], ...] = ()

    def page_at(self, offset: int) -> int | None:
        """The page of the character at ``offset``; None for a document without pages."""
        if not self.pages:
            return None
        at = bisect_right([start for start, _ in self.pages], offset) - 1
        return self.pages[max(at, 0)][1]

    def label_at(self, offset: int) -> str | None:
        """The printed label of that page, where the PDF gives one."""
        page = self.page_at(offset)
        if page is None or not 0 < page <= len(self.labels):
            return None
        return self.labels[page - 1] or None

    def section_at(self, offset: int) -> str | None:
        """The heading the character at ``offset`` falls under; None before any heading."""
        at = bisect_right([start for start, _ in self.sections], offset) - 1
        return self.sections[at][1] if at >= 0 else None

    def as_json(self) -> dict:
        """Only what there is (most documents have nothing to store)."""
        out: dict = {}
        if self.pages:
            out["pages"] = [list(p) for p in self.pages]
        if self.labels:
            out["labels"] = list(self.labels)
        if self.sections:
            out["sections"] = [list(s) for s in self.sections]
        return out

    @classmethod
    def of(cls, row: dict | None) -> Places:
        """From ``as_json``'s dict; nothing (an index written before places were kept)
        gives no places."""
        row = row or {}
        return cls(
            tuple((int(a), int(b)) for a, b in row.get("pages", ())),
            tuple(str(x) for x in row.get("labels", ())),
            tuple((int(a), str(b)) for a, b in row.get("sections", ())),
        )


NOWHERE = Places()
