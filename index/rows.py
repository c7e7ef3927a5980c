"""Rows of a vector file read on demand, for segments searched approximately.

A large segment's vectors are read only for the few hundred candidates its approximate
index proposes. Read through a memory mapping, every row touched maps its whole
neighbourhood into the process (the kernel's fault-around, 64 KiB a fault), so after a few
hundred questions most of a multi-gigabyte file counted as the server's resident memory.
Read with ``pread``, the rows pass through the page cache (shared, dropped under pressure)
and the process holds only what it copied."""

from __future__ import annotations

import os
import weakref
from pathlib import Path

import numpy as np


class Rows:
    """The rows of a 2-D ``.npy`` file (C order), indexed like the array: ``rows[i]``,
    ``rows[a:b]``, ``rows[array_of_ints]``; each read is a ``pread`` into a new array."""

    def __init__(self, path: Path) -> None:
        with open(path, "rb") as f:
            version = np.lib.format.read_magic(f)
            header = (
                np.lib.format.read_array_header_1_0
                if version == (1, 0)
                else np.lib.format.read_array_header_2_0
            )
            shape, fortran, dtype = header(f)
            self._offset = f.tell()
        if fortran or len(shape) != 2:
            raise ValueError(f"{path}: not a 2-D C-order array")
        self.shape: tuple[int, int] = shape
        self.dtype = np.dtype(dtype)
        self._row = self.dtype.itemsize * shape[1]
        self._fd = os.open(path, os.O_RDONLY)
        weakref.finalize(self, os.close, self._fd)

    def __len__(self) -> int:
        return self.shape[0]

    def __getitem__(self, key: int | slice | np.ndarray) -> np.ndarray:
        if isinstance(key, slice):
            start, stop, step = key.indices(len(self))
            if step != 1:
                return self[np.arange(start, stop, step)]
            return self._read(start, max(stop - start, 0))
        if np.isscalar(key):
            i = int(key)  # type: ignore[arg-type]
            return self._read(i + len(self) if i < 0 else i, 1)[0]
        ids = np.asarray(key, dtype=np.int64)
        if len(ids) and not (0 <= ids.min() and ids.max() < len(self)):
            raise IndexError(f"rows {ids.min()}..{ids.max()} of {len(self)}")
        size, fd, offset = self._row, self._fd, self._offset
        data = b"".join([os.pread(fd, size, offset + i * size) for i in ids.tolist()])
        if len(data) != len(ids) * size:
            raise OSError("short read")
        return np.frombuffer(data, dtype=self.dtype).reshape(len(ids), self.shape[1])

    def _read(self, start: int, count: int) -> np.ndarray:
        if not 0 <= start <= len(self) or start + count > len(self):
            raise IndexError(f"rows {start}:{start + count} of {len(self)}")
        data = os.pread(self._fd, count * self._row, self._offset + start * self._row)
        if len(data) != count * self._row:
            raise OSError("short read")
        return np.frombuffer(data, dtype=self.dtype).reshape(count, self.shape[1])
