"""The manifest of a segment index: which segments, in order, and their tombstones. It is
replaced whole (written beside, renamed over), so a reader sees one or the other."""

from __future__ import annotations

import json
import os
import secrets
from pathlib import Path

from index.chunk import Chunking
from index.errors import IndexMismatch, IndexNotFound

FORMAT_VERSION = 2


def read_manifest(index_dir: Path) -> dict:
    path = index_dir / "manifest.json"
    if not path.is_file():
        raise IndexNotFound(str(index_dir))
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise IndexMismatch(f"{path} is not valid JSON ({exc}): rebuild with `qa index`") from exc


def check_manifest(index_dir: Path, manifest: dict, expect_model: str | None) -> None:
    if manifest.get("format_version") != FORMAT_VERSION:
        raise IndexMismatch(
            f"index at {index_dir} has format version {manifest.get('format_version')}, "
            f"this qa reads version {FORMAT_VERSION}: rebuild it with `qa index`"
        )
    model = manifest["model"]["name"]
    if expect_model is not None and model != expect_model:
        raise IndexMismatch(
            f"index at {index_dir} was built with model {model!r}, this service embeds "
            f"questions with {expect_model!r}: rebuild it with `qa index`"
        )


def write_manifest(index_dir: Path, manifest: dict) -> None:
    """Replace the manifest atomically (a new file renamed over the old: readers see the
    old one or the new one; its new inode is how other processes notice, index.lock.stamp)."""
    tmp = index_dir / f".manifest.{secrets.token_hex(4)}.tmp"
    try:
        with open(tmp, "w", encoding="utf-8") as f:
            json.dump(manifest, f, indent=1)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, index_dir / "manifest.json")
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def new_manifest(model: str, dim: int, chunking: Chunking) -> dict:
    return {
        "format_version": FORMAT_VERSION,
        "generation": 0,
        "model": {"name": model, "dim": dim},
        "chunking": chunking.as_dict(),
        "segments": [],
        "deleted": {},
        "counts": {"documents": 0, "sentences": 0, "passages": 0},
    }


def segment_name(generation: int) -> str:
    return f"seg-{generation:08d}-{secrets.token_hex(3)}"
