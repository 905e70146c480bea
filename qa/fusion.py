"""Score fusion: the hybrid's standard scores and RRF, over every passage or over a candidate union.

Over every passage (small corpora) the hybrid is `w * z(dense) + (1 - w) * z(bm25)`, each side standardised
per question. At scale no side scores every passage, so the union of both sides' candidates is fused instead:
each candidate is scored exactly on both sides and standardised with the statistics of the whole corpus —
BM25's exactly where its scores for all passages are cheap (a local store), the dense side's (and a server
store's BM25) from a fixed sample of passages — so a candidate gets very nearly the score it would get over
every passage.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache

import numpy as np

from .settings import Method
from .stores import Candidates, PassageStore

RRF_K = 60
CANDIDATES = 100  # passages per side fused at scale
SAMPLE = 4096  # passages whose dense scores estimate the corpus-wide mean and spread


def z_score(scores: np.ndarray) -> np.ndarray:
    """Each row as standard scores. On SQuAD dev this fused better than min-max (R@1 0.826 vs 0.821, paired
    wins 108 to 54), since one outlying score no longer squeezes all the others together."""
    mean = scores.mean(axis=1, keepdims=True)
    spread = scores.std(axis=1, keepdims=True)
    return np.where(spread > 0, (scores - mean) / np.where(spread > 0, spread, 1.0), 0.0).astype(np.float32)


def rrf(scores: np.ndarray) -> np.ndarray:
    ranks = np.argsort(np.argsort(-scores, axis=1, kind="stable"), axis=1) + 1
    return (1.0 / (RRF_K + ranks)).astype(np.float32)


@lru_cache(maxsize=4)
def sample_rows(passages: int, size: int = SAMPLE) -> np.ndarray:
    """A fixed, evenly spread sample of passage rows: the same array for every question, so a store may keep
    the sample's vectors at hand."""
    rows = np.arange(passages, dtype=np.int64) if passages <= size else \
        np.unique(np.linspace(0, passages - 1, size).astype(np.int64))
    rows.setflags(write=False)
    return rows


def fuse_candidates(store: PassageStore, questions: Sequence[str], vectors: np.ndarray | None, method: Method,
                    dense_weight: float, k: int, pool: int = CANDIDATES,
                    allowed: np.ndarray | None = None) -> list[Candidates]:
    """The k best passages per question, from each side's `pool` candidates (see the module docstring);
    `allowed`, a boolean mask over passage rows, keeps only those rows (search filters)."""
    pool = max(pool, k)
    lexical = store.lexical_search(questions, pool, allowed) if method != "dense" else None
    dense = store.dense_search(vectors, pool, allowed) if method != "bm25" and vectors is not None else None
    if method == "bm25":
        return [_first(c, k) for c in lexical]
    if method == "dense":
        return [_first(c, k) for c in dense]
    sample = sample_rows(len(store.passages))
    found = []
    for i, question in enumerate(questions):
        rows = np.union1d(lexical[i].rows, dense[i].rows).astype(np.int64)
        if not len(rows):
            found.append(Candidates.empty())
            continue
        if method == "rrf":
            fused = _rrf_from(lexical[i], rows, pool) + _rrf_from(dense[i], rows, pool)
        else:
            population = store.lexical_scores([question], None if store.local else sample)[0]
            lexical_z = _standardise(store.lexical_scores([question], rows)[0], population)
            dense_z = _standardise(store.dense_scores(vectors[i : i + 1], rows)[0],
                                   store.dense_scores(vectors[i : i + 1], sample)[0])
            fused = dense_weight * dense_z + (1.0 - dense_weight) * lexical_z
        order = np.lexsort((rows, -fused))[:k]
        found.append(Candidates(rows[order], fused[order].astype(np.float32)))
    return found


def _standardise(values: np.ndarray, population: np.ndarray) -> np.ndarray:
    spread = float(population.std())
    return (values - float(population.mean())) / spread if spread > 0 else np.zeros_like(values)


def _rrf_from(candidates: Candidates, rows: np.ndarray, pool: int) -> np.ndarray:
    """RRF terms of `rows` from one side's ranked candidates; a row it did not return ranks just past them."""
    ranks = np.full(len(rows), pool + 1, dtype=np.float64)
    position = {int(r): n for n, r in enumerate(candidates.rows, start=1)}
    for j, row in enumerate(rows):
        ranks[j] = position.get(int(row), pool + 1)
    return 1.0 / (RRF_K + ranks)


def _first(candidates: Candidates, k: int) -> Candidates:
    return Candidates(candidates.rows[:k], candidates.scores[:k])
