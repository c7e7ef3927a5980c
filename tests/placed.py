"""Documents whose answers stand somewhere a reader can find in the file: a PDF with the
answer on its third page, Markdown and Word files with headings, and two notes that
answer the same question differently (for scoped questions)."""

from __future__ import annotations

import io
from pathlib import Path

from tests.pdf import column, laid_out_pdf

BREAKWATER = "The new breakwater cost 4.2 million pounds and was finished in 2019."
REPORT_PAGES = [
    (
        "The harbour of Port Ellen was dug in 1821 by the island's fishermen. "
        "Its first quay was built of oak and stood for sixty years."
    ),
    "The fishing fleet grew to forty boats by 1900. Most fished for herring in the summer.",
    f"{BREAKWATER} It shelters the ferry berth from the winter storms.",
]
TIDES = "The spring tide rises nine metres at the harbour mouth."
NOTES_MD = (
    "# Field notes\n\n"
    "## Birds\n\n"
    "The puffins nest on the western cliffs from April.\n\n"
    "## Tides\n\n"
    f"{TIDES}\n"
)
TICKET = "An adult ticket for the ferry costs twelve euros."
FERRY_EARLY = (
    "Timetable of 2019\n\n"
    "The island ferry departs at nine o'clock in the morning. "
    "It returns from the island in the late afternoon."
)
FERRY_LATE = (
    "Timetable of 2024\n\n"
    "The island ferry departs at half past seven in the morning. "
    "On Sundays there is no ferry at all."
)


def report_pdf(labels: bool = False) -> bytes:
    """Three pages of a harbour report; the breakwater's cost is on the third (``labels``:
    numbered as a book's front matter is, i, ii, iii)."""
    catalog = b"/PageLabels << /Nums [0 << /S /r >>] >> " if labels else b""
    return laid_out_pdf([column(text) for text in REPORT_PAGES], catalog)


def guide_docx() -> bytes:
    """A Word guide whose ticket price falls under the heading "Costs"."""
    from docx import Document

    document = Document()
    document.add_heading("Ferry guide", 0)
    document.add_heading("Staff", 1)
    document.add_paragraph("The captain of the ferry is Ann Grey.")
    document.add_heading("Costs", 2)
    document.add_paragraph(TICKET)
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def write_folder(folder: Path) -> dict[str, bytes]:
    """The placed documents as files in ``folder``; returns their bytes by name."""
    files = {
        "report.pdf": report_pdf(),
        "notes.md": NOTES_MD.encode(),
        "guide.docx": guide_docx(),
        "ferry-2019.txt": FERRY_EARLY.encode(),
        "ferry-2024.txt": FERRY_LATE.encode(),
    }
    folder.mkdir(parents=True, exist_ok=True)
    for name, data in files.items():
        (folder / name).write_bytes(data)
    return files
