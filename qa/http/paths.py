"""Paths as HTTP clients are shown them: never the server's absolute folders (they tell a
stranger how the machine is laid out), only where the thing is relative to the working
directory the server was started in, or, outside it, the folder's name."""

from __future__ import annotations

from pathlib import Path


def shown(path: Path | str | None) -> str | None:
    if path is None:
        return None
    path = Path(path)
    if not path.is_absolute():
        return path.as_posix()
    try:
        return path.relative_to(Path.cwd()).as_posix()
    except ValueError:
        return path.name


def without_folders(message: str | None, *paths: Path | str | None) -> str | None:
    """``message`` with each of ``paths`` written as ``shown`` writes it."""
    if message is None:
        return None
    for path in paths:
        if path is not None and str(path) in message:
            message = message.replace(str(path), shown(path) or "")
    return message
