"""Rows of a large on-disk vector matrix (a .npy file), read with `pread` instead of a memory map.

A search reads a few hundred scattered sentence vectors. Through a memory map, each of those reads makes the
kernel map the 64 KB around the page it faults on (its "fault-around"; `madvise(MADV_RANDOM)` does not stop
it), so a question maps about 16 MB into the process and after a few dozen questions the whole 1.5 GB vector
file of a two-million-sentence archive counts in the process's resident memory. Read with `pread`, the same
rows stay in the page cache, shared and reclaimable, and the process holds only the rows it asked for.
"""

from __future__ import annotations

import os
import weakref
from pathlib import Path

import numpy as np

CAN_PREAD = hasattr(os, "pread")  # not on Windows: there the store keeps its memory map


class VectorFile:
    """A read-only (rows x dimension) matrix in a .npy file: `file[a:b]` and `file[ids]` as numpy would give
    them, each a fresh array."""

    def __init__(self, path: Path) -> None:
        mapped = np.load(path, mmap_mode="r", allow_pickle=False)  # numpy reads the header; the map is dropped
        if mapped.ndim != 2 or not mapped.flags.c_contiguous:
            raise ValueError(f"{path} does not hold a row-major matrix")
        self.shape: tuple[int, int] = (int(mapped.shape[0]), int(mapped.shape[1]))
        self.dtype = mapped.dtype
        self._start = int(mapped.offset)
        del mapped
        self.ndim = 2
        self._row_bytes = self.shape[1] * self.dtype.itemsize
        self._fd = os.open(path, os.O_RDONLY | getattr(os, "O_BINARY", 0))
        weakref.finalize(self, os.close, self._fd)

    def __len__(self) -> int:
        return self.shape[0]

    @property
    def size(self) -> int:
        return self.shape[0] * self.shape[1]

    def __getitem__(self, key: slice | np.ndarray) -> np.ndarray:
        if isinstance(key, slice):
            begin, end, step = key.indices(self.shape[0])
            if step != 1:
                raise IndexError("VectorFile reads contiguous slices only")
            return self._read(begin, max(end - begin, 0))
        ids = np.asarray(key, dtype=np.int64).reshape(-1)
        if len(ids) and (ids.min() < 0 or ids.max() >= self.shape[0]):
            raise IndexError(f"row ids outside 0..{self.shape[0] - 1}")
        result = np.empty((len(ids), self.shape[1]), dtype=self.dtype)
        if not len(ids):
            return result
        order = np.argsort(ids, kind="stable")
        ordered = ids[order]
        # one read per run of nearby rows (the sentences of a passage lie together; repeats share a read)
        firsts = np.flatnonzero(np.r_[True, np.diff(ordered) > 1])
        begins = ordered[firsts]
        counts = np.r_[ordered[firsts[1:] - 1], ordered[-1]] - begins + 1
        read = b"".join(self._bytes(int(b), int(c)) for b, c in zip(begins, counts))
        rows = np.frombuffer(read, dtype=self.dtype).reshape(-1, self.shape[1])
        starts = np.r_[0, np.cumsum(counts)[:-1]]  # where each run begins in `rows`
        sizes = np.diff(np.r_[firsts, len(ordered)])
        result[order] = rows[ordered - np.repeat(begins - starts, sizes)]
        return result

    def _read(self, begin: int, count: int) -> np.ndarray:
        return np.frombuffer(self._bytes(begin, count), dtype=self.dtype).reshape(count, self.shape[1])

    def _bytes(self, begin: int, count: int) -> bytes:
        wanted = count * self._row_bytes
        data = os.pread(self._fd, wanted, self._start + begin * self._row_bytes)
        if len(data) != wanted:
            raise OSError(f"short read from the vector file ({len(data)} of {wanted} bytes)")
        return data
