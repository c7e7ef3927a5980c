"""Word documents for the tests, written with python-docx (the library that reads them)."""

from __future__ import annotations

import io

from docx import Document


def word_document(
    title: str, paragraphs: list[str], table: list[list[str]] | None = None, after: str = ""
) -> bytes:
    """A .docx: a heading, paragraphs, an optional table (rows of cells), a last paragraph."""
    document = Document()
    document.add_heading(title, level=1)
    for paragraph in paragraphs:
        document.add_paragraph(paragraph)
    if table:
        grid = document.add_table(rows=len(table), cols=len(table[0]))
        for cells, row in zip(table, grid.rows):
            for text, cell in zip(cells, row.cells):
                cell.text = text
    if after:
        document.add_paragraph(after)
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()
