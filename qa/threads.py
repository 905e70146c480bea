"""Thread pools on small machines: keep numpy's BLAS and torch's OpenMP threads from fighting over the cores.

On a 2-core machine the query encode (torch, OpenMP) right after the dense product (numpy, OpenBLAS) ran
4-8x slower: both libraries keep busy-waiting threads, and they spin against each other. The dense product of
one question is memory-bound, so one BLAS thread loses nothing; and one short text encodes faster on one
torch thread than on several that wait on each other when other processes load the machine.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

SMALL_ENCODE = 16  # texts: up to this many are encoded on one torch thread

_controller: Any = None
_controller_lock = threading.Lock()
_torch_lock = threading.Lock()


def _blas_controller() -> Any:
    global _controller
    with _controller_lock:
        if _controller is None:
            from threadpoolctl import ThreadpoolController

            _controller = ThreadpoolController()  # inspects the loaded libraries once (a few ms)
        return _controller


@contextmanager
def single_blas_thread() -> Iterator[None]:
    """Run numpy's BLAS (OpenBLAS, MKL) on one thread inside the block."""
    with _blas_controller().limit(limits=1, user_api="blas"):
        yield


@contextmanager
def single_thread() -> Iterator[None]:
    """Run every BLAS and OpenMP pool (faiss's too) on one thread inside the block."""
    with _blas_controller().limit(limits=1):
        yield


@contextmanager
def torch_threads_for(texts: int) -> Iterator[None]:
    """Encode a few texts on one torch thread; leave larger batches on torch's own setting."""
    if texts > SMALL_ENCODE:
        yield
        return
    import torch

    with _torch_lock:
        before = torch.get_num_threads()
        if before != 1:
            torch.set_num_threads(1)
        try:
            yield
        finally:
            if before != 1:
                torch.set_num_threads(before)


def usable_cores() -> int:
    """The cores this process may run on (its CPU affinity where the system tells it)."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1
