"""Scoping a question to chosen documents: by their ids, by their tags, or both (the
documents named and every document carrying one of the tags). The scope narrows the search
itself (``index.stores.interface.Store``'s ``only``), so a scoped question reads as many
passages as any other, all from those documents."""

from __future__ import annotations

from collections.abc import Sequence

from index.stores.interface import DocumentEntry, Scope
from qa.errors import BadQuestion, UnknownScope

MAX_TAG_CHARS = 64


def check_tag(tag: str) -> str:
    """A tag as stored: stripped; BadQuestion when it is empty, too long or holds control
    characters."""
    name = tag.strip()
    if not name or len(name) > MAX_TAG_CHARS or any(ord(c) < 32 or c == "\x7f" for c in name):
        raise BadQuestion(
            f"a tag is 1 to {MAX_TAG_CHARS} characters without control characters, not {tag!r}"
        )
    return name


def resolve_scope(
    held: Sequence[DocumentEntry], documents: Sequence[str] = (), tags: Sequence[str] = ()
) -> Scope | None:
    """The doc_ids a question names (``documents``, and those tagged one of ``tags``);
    None when it names none (the whole collection). UnknownScope names every id no
    document has and every tag no document carries."""
    if not documents and not tags:
        return None
    ids = {d.doc_id for d in held}
    unknown = [f"no document {d!r}" for d in dict.fromkeys(documents) if d not in ids]
    tagged = {t: [d.doc_id for d in held if t in d.tags] for t in dict.fromkeys(tags)}
    unknown += [f"no document is tagged {t!r}" for t, found in tagged.items() if not found]
    if unknown:
        raise UnknownScope("; ".join(unknown))
    return frozenset(documents) | {d for found in tagged.values() for d in found}
