"""The approximate index of the dense side: which sentence vectors to score exactly when there are too many to
score them all (faiss IVF with product codes, memory-mapped from the index folder).

Brute force reads every sentence vector for every question: at 335,000 sentences (50,000 passages) that is
about 0.1 s a question, on the whole 1.8-million-sentence archive most of a second. The IVF index groups the
vectors around `lists` centroids and scans only the `probes` groups nearest to the question; the passages of
the sentences it finds are then scored exactly from the float16 vectors (see `qa.stores.embedded`).
"""

from __future__ import annotations

import logging
import math
from pathlib import Path

import numpy as np

from .threads import single_thread

log = logging.getLogger(__name__)

ANN_MIN_SENTENCES = 200_000  # below this, exact scoring of every sentence is fast enough (< 20 ms)
TRAIN_PER_LIST = 40  # training vectors per centroid (faiss asks for at least 39)
PROBES = 24  # centroid groups scanned per question
# Product codes of PQ_BYTES bytes per vector (8-bit codes of 8-dimension pieces for MiniLM's 384): a search
# scans an eighth of what 8-bit scalar codes take, and the exact scores of the found sentences decide the
# order anyway. On SQuAD's sentence vectors both found the same share of the 10 nearest among 256 (0.91-0.96).
PQ_BYTES = 48
PQ_TRAIN = 256 * 40  # training vectors product codes need (256 centroids per piece)
BLOCK = 1 << 16


def lists_for(sentences: int) -> int:
    """About 2 x sqrt(sentences) groups, a power of two: 1,024 for the whole archive."""
    return max(16, 2 ** round(math.log2(2 * math.sqrt(max(sentences, 1)))))


def build(vectors: np.ndarray, path: Path, seed: int = 0) -> None:
    """Train and fill an IVF index over `vectors` (float16 or float32 unit rows) and write it to `path`."""
    import faiss

    count, dimension = vectors.shape
    lists = lists_for(count)
    rng = np.random.default_rng(seed)
    sample = np.sort(rng.choice(count, size=min(count, max(lists * TRAIN_PER_LIST, PQ_TRAIN)), replace=False))
    quantizer = faiss.IndexFlatIP(dimension)
    if count >= PQ_TRAIN and dimension % PQ_BYTES == 0:
        index = faiss.IndexIVFPQ(quantizer, dimension, lists, PQ_BYTES, 8, faiss.METRIC_INNER_PRODUCT)
        index.by_residual = False  # one distance table per question, not one per group scanned
    else:  # too few vectors to train product codes: 8-bit scalar codes
        index = faiss.IndexIVFScalarQuantizer(quantizer, dimension, lists, faiss.ScalarQuantizer.QT_8bit,
                                              faiss.METRIC_INNER_PRODUCT)
    log.info("training the approximate index: %d groups over %d sentence vectors", lists, count)
    index.train(np.ascontiguousarray(vectors[sample], dtype=np.float32))
    for begin in range(0, count, BLOCK):
        index.add(np.ascontiguousarray(vectors[begin : begin + BLOCK], dtype=np.float32))
    faiss.write_index(index, str(path))


class ApproximateIndex:
    """A written IVF index, memory-mapped: `search` gives the ids of sentences likely nearest a question."""

    def __init__(self, path: Path, probes: int = PROBES) -> None:
        import faiss

        self._index = faiss.read_index(str(path), faiss.IO_FLAG_MMAP | faiss.IO_FLAG_READ_ONLY)
        self._index.nprobe = probes

    def search(self, question_vectors: np.ndarray, count: int) -> np.ndarray:
        """(questions x count) sentence ids, nearest first; -1 where fewer were found."""
        with single_thread():  # one question: more threads would only fight torch's (qa/threads.py)
            _, ids = self._index.search(np.ascontiguousarray(question_vectors, dtype=np.float32), count)
        return ids
