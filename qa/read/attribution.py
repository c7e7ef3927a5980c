"""Who says what a sentence reports: "..., the NIS said." / "according to X" /
"X said ...". Used to set conflicting figures side by side with their sources."""

from __future__ import annotations

import re

_NAME = r"((?:the\s+)?[A-Z][\w’'.\-]*(?:\s+(?:of\s+|the\s+)?[A-Z][\w’'.\-]*){0,5})"
_PATTERNS = [
    re.compile(r"according to ([^,.;]{3,60})"),
    re.compile(rf",\s*{_NAME}\s+(?:said|says|added|reported|claimed|stated|estimated)\b"),
    re.compile(rf"{_NAME}\s+(?:also\s+)?(?:said|says|reported|claimed|accused|estimated)\b"),
    re.compile(
        r",\s*((?:the\s+)?[\w’'\- ]{3,40}?(?:agency|office|ministry|service|officials?))\s+said\b"
    ),
]


def source_of(sentence: str) -> str | None:
    for pattern in _PATTERNS:
        m = pattern.search(sentence)
        if m:
            return m.group(1).strip()
    return None
