"""Benchmark: reading PDFs as pypdf extracts them against qa's reader (PDFium lines rebuilt
into paragraphs), on a folder of PDFs: time, sentences, and sentences cut at a line break.

    .venv/bin/python bench/pdf_read.py [--docs ../shared/data/real-pdfs] [--repeat 5]

A sentence is counted as cut when it ends with no closing punctuation and is not a short
end of its paragraph (a heading, table row, list or contents entry: tests/test_pdf_reading.py); ligatures (ﬁ) and words
left split at a line-end hyphen (the two halves make a word the document spells whole
elsewhere) are counted in the text. The best of ``--repeat`` times is printed, one thread.

Prints figures; asserts nothing."""

from __future__ import annotations

import argparse
import io
import re
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bench.machine import print_cpu
from index.extract import extract
from index.split import split_sentences

_ENDS = re.compile(r"[.!?:;…][\"'”’)\]]*$")


def pypdf_text(data: bytes) -> str:
    """The reading before: pypdf's text of every page, pages apart (index/extract.py)."""
    from pypdf import PdfReader

    pages = [page.extract_text() or "" for page in PdfReader(io.BytesIO(data)).pages]
    return "\n\n".join(p.strip() for p in pages if p.strip())


def faults(text: str) -> tuple[int, int, int, int]:
    """(sentences, cut at a line break, ligatures, split words) of ``text``."""
    spans = split_sentences(text)
    cut = 0
    for span in spans:
        sentence = text[span.start : span.end]
        ends_paragraph = span.end == len(text) or text.startswith("\n\n", span.end)
        short = ends_paragraph and len(sentence.split()) <= 12
        if not _ENDS.search(sentence) and not short:
            cut += 1
    ligatures = len(re.findall("[\ufb00-\ufb06]", text))
    words = {w.lower() for w in re.findall(r"[^\W\d_]+", text)}
    split = sum(
        (a + b).lower() in words for a, b in re.findall(r"([^\W\d_]+)-\s*\n\s*([^\W\d_]+)", text)
    )
    return len(spans), cut, ligatures, split


def best_ms(read, data: bytes, repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        started = time.perf_counter()
        read(data)
        best = min(best, time.perf_counter() - started)
    return best * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--docs", type=Path, default=Path("../shared/data/real-pdfs"))
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    print_cpu()
    readers = {
        "pypdf": pypdf_text,
        "qa": lambda data: extract(data, "file.pdf").text,
    }
    print("| file | reader | ms | sentences | cut at a line break | ligatures | split words |")
    print("|---|---|---|---|---|---|---|")
    totals = {name: [0.0, 0, 0, 0, 0] for name in readers}
    for path in sorted(args.docs.glob("*.pdf")):
        data = path.read_bytes()
        for name, read in readers.items():
            ms = best_ms(read, data, args.repeat)
            figures = faults(read(data))
            row = [ms, *figures]
            totals[name] = [t + r for t, r in zip(totals[name], row, strict=True)]
            print(f"| {path.name} | {name} | {ms:.0f} | " + " | ".join(map(str, figures)) + " |")
    for name, (ms, *figures) in totals.items():
        print(f"| all | {name} | {ms:.0f} | " + " | ".join(str(f) for f in figures) + " |")


if __name__ == "__main__":
    main()
