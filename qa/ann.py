"""The approximate index of the dense side: which sentence vectors to score exactly when there are too many to
score them all (usearch HNSW over 8-bit copies of the vectors, memory-mapped from the index folder).

Brute force reads every sentence vector for every question: at 335,000 sentences (50,000 passages) that is
about 0.1 s a question, on the whole 2-million-sentence archive most of a second. A graph index walks from
sentence to nearer sentence instead; the passages of the sentences it finds are then scored exactly from the
float16 vectors (see `qa.stores.embedded`). Chosen by measurement (`bench/bench_ann.py`, 120,000 real archive
sentence vectors): of each question's 10 nearest sentences, the 256 it proposes held 0.99 in 0.57 ms a
question, where faiss IVF scanning the share of groups the archive could afford (1.2 %) held 0.75.
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np

log = logging.getLogger(__name__)

ANN_MIN_SENTENCES = 200_000  # below this, exact scoring of every sentence is fast enough (< 20 ms)
CONNECTIVITY = 16  # graph edges per sentence
BUILD_BREADTH = 128  # candidates weighed when a sentence is linked in
SEARCH_BREADTH = 256  # candidates a search keeps: at least the 256 sentences asked for
BLOCK = 1 << 16  # vectors converted from float16 and added at a time


def build(vectors: np.ndarray, path: Path, threads: int | None = None) -> None:
    """Build an HNSW index over `vectors` (float16 or float32 unit rows; keys are row numbers), write it to
    `path`."""
    from usearch.index import Index

    from .threads import usable_cores

    count, dimension = vectors.shape
    index = Index(ndim=dimension, metric="ip", dtype="i8", connectivity=CONNECTIVITY, expansion_add=BUILD_BREADTH)
    log.info("building the approximate index over %d sentence vectors", count)
    for begin in range(0, count, BLOCK):
        block = np.ascontiguousarray(vectors[begin : begin + BLOCK], dtype=np.float32)
        index.add(np.arange(begin, begin + len(block), dtype=np.uint64), block, threads=threads or usable_cores())
    index.save(str(path))


class ApproximateIndex:
    """A written HNSW index, memory-mapped: `search` gives the ids of sentences likely nearest a question."""

    def __init__(self, path: Path, breadth: int = SEARCH_BREADTH) -> None:
        from usearch.index import Index

        self._index = Index.restore(str(path), view=True)
        self._breadth = breadth

    def search(self, question_vectors: np.ndarray, count: int) -> np.ndarray:
        """(questions x count) sentence ids, nearest first; -1 where fewer were found."""
        self._index.expansion_search = max(self._breadth, count)
        questions = np.ascontiguousarray(question_vectors, dtype=np.float32).reshape(len(question_vectors), -1)
        ids = np.full((len(questions), count), -1, dtype=np.int64)
        for row, question in enumerate(questions):  # one thread: more would only fight torch's (qa/threads.py)
            found = self._index.search(question, count, threads=1)
            keys = np.asarray(found.keys, dtype=np.int64)[: len(found)]
            ids[row, : len(keys)] = keys
        return ids
