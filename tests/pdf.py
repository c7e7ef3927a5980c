"""A one-page PDF with a real text layer, written by hand so tests need no PDF writer."""

from __future__ import annotations


def tiny_pdf(lines: list[str]) -> bytes:
    def escape(line: str) -> str:
        return line.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")

    ops = ["BT", "/F1 12 Tf", "14 TL", "72 720 Td"]
    ops += [f"({escape(line)}) Tj T*" for line in lines] + ["ET"]
    stream = "\n".join(ops).encode("latin-1")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        (
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
            b"/Resources << /Font << /F1 5 0 R >> >> >>"
        ),
        b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    return assemble(objects)


def flooded_pdf(operators: int, pages: int = 1) -> bytes:
    """A few kilobytes of PDF whose every page draws ``operators`` pieces of text: content
    streams are deflated, so the file stays tiny while the work to read it does not."""
    import zlib

    ops = b"BT /F1 12 Tf 72 720 Td " + b"(a) Tj " * operators + b"ET"
    stream = zlib.compress(ops, 9)
    kids = b" ".join(b"%d 0 R" % (4 + p) for p in range(pages))
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [%s] /Count %d >>" % (kids, pages),
        b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(stream) + stream + b"\nendstream",
    ]
    page = (
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 3 0 R "
        b"/Resources << /Font << /F1 << /Type /Font /Subtype /Type1 /BaseFont /Helvetica >> "
        b">> >> >>"
    )
    objects += [page] * pages
    return assemble(objects)


def assemble(objects: list[bytes]) -> bytes:
    """A PDF file of these numbered objects (the first is the catalogue), with its xref."""
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\n" % (len(objects) + 1)
    out += b"startxref\n%d\n%%%%EOF\n" % xref
    return bytes(out)


# (x, y, font size, text): a line of text set at x, y (points from the page's lower left)
Placed = tuple[float, float, float, str]


def laid_out_pdf(pages: list[list[Placed]], catalog: bytes = b"") -> bytes:
    """A PDF whose pages set each line where it says, in Courier (every character 0.6 of
    the size wide, so a test knows how full a line is), drawn in the order given;
    ``catalog``: more entries of its catalogue (``/PageLabels ...``)."""

    def escape(line: str) -> bytes:
        raw = line.encode("cp1252")
        return raw.replace(b"\\", b"\\\\").replace(b"(", b"\\(").replace(b")", b"\\)")

    count = len(pages)
    kids = b" ".join(b"%d 0 R" % (4 + 2 * p) for p in range(count))
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R %s>>" % catalog,
        b"<< /Type /Pages /Kids [%s] /Count %d >>" % (kids, count),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Courier /Encoding /WinAnsiEncoding >>",
    ]
    for number, lines in enumerate(pages):
        ops = b"".join(
            b"BT /F1 %g Tf %g %g Td (%s) Tj ET\n" % (size, x, y, escape(text))
            for x, y, size, text in lines
        )
        objects.append(
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents %d 0 R "
            b"/Resources << /Font << /F1 3 0 R >> >> >>" % (5 + 2 * number)
        )
        objects.append(b"<< /Length %d >>\nstream\n" % len(ops) + ops + b"\nendstream")
    return assemble(objects)


def column(
    text: str,
    *,
    x: float = 72,
    top: float = 720,
    size: float = 10,
    width: int = 60,
    leading: float = 12,
) -> list[Placed]:
    """``text`` wrapped at ``width`` characters as a column of lines from ``top`` down;
    a blank line in ``text`` leaves one line's space empty."""
    import textwrap

    placed: list[Placed] = []
    y = top
    for paragraph in text.split("\n\n"):
        for line in textwrap.wrap(paragraph, width, break_on_hyphens=False):
            placed.append((x, y, size, line))
            y -= leading
        y -= leading
    return placed
