"""One writer at a time for an index directory.

Every writer (``qa index``, a server's upload or delete) holds a file lock beside the index
while it reads the generation it builds on and saves the next one, so no write is ever based
on an index older than the one on disk. The lock is an ``flock``, released by the kernel when
its holder dies, even by ``kill -9``. Temporaries such a death leaves behind are removed by
the next holder."""

from __future__ import annotations

import logging
import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from filelock import FileLock, Timeout

from index.errors import IndexBusy

log = logging.getLogger(__name__)


def lock_path(index_dir: Path) -> Path:
    index_dir = index_dir.resolve()
    return index_dir.with_name(f".{index_dir.name}.lock")


def _acquire(index_dir: Path, timeout: float) -> FileLock | None:
    path = lock_path(index_dir)
    path.parent.mkdir(parents=True, exist_ok=True)
    # one lock object per path in a process, held per thread: a thread that holds it may
    # take it again (``qa index`` holds it around the store's own writes), another waits
    lock = FileLock(str(path), is_singleton=True)
    try:
        lock.acquire(timeout=timeout)
    except Timeout:
        return None
    return lock


@contextmanager
def writing(index_dir: Path, timeout: float = -1) -> Iterator[None]:
    """Hold the index's writer lock (waiting at most ``timeout`` seconds; -1: for ever)."""
    lock = _acquire(index_dir, timeout)
    if lock is None:
        raise IndexBusy(
            f"another process is writing the index at {index_dir}; try again when it is done"
        )
    try:
        remove_temporaries(index_dir)
        yield
    finally:
        lock.release()


@contextmanager
def try_writing(index_dir: Path) -> Iterator[bool]:
    """The writer lock if it is free now (True), else nothing (False; also where the lock
    cannot be created, e.g. an index on a read-only disk, which no one writes)."""
    try:  # nothing is created for it: no folder, nothing to clean
        lock = _acquire(index_dir, 0) if lock_path(index_dir).parent.is_dir() else None
    except OSError:
        lock = None
    if lock is None:
        yield False
        return
    try:
        remove_temporaries(index_dir)
        yield True
    finally:
        lock.release()


def remove_temporaries(index_dir: Path) -> None:
    """Remove what a writer that died mid-save left: ``.NAME.tmp-*`` beside the index.
    Only the lock's holder may call this (another writer's temporary is in use)."""
    index_dir = index_dir.resolve()
    if not index_dir.parent.is_dir():
        return
    for tmp in index_dir.parent.glob(f".{index_dir.name}.tmp-*"):
        log.warning("removing %s, left by a writer that stopped mid-save", tmp)
        shutil.rmtree(tmp, ignore_errors=True)


def stamp(index_dir: Path) -> tuple[int, int, int] | None:
    """Cheap to take and different whenever a new index is swapped in (the manifest is a
    new file each time): compare two to know whether to reload."""
    try:
        st = os.stat(index_dir / "manifest.json")
    except OSError:
        return None
    return st.st_ino, st.st_mtime_ns, st.st_size
