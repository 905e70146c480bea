"""Score fusion: the hybrid's standard scores and RRF, over every passage or over a candidate union.

Over every passage (small corpora) the hybrid is `w * z(dense) + (1 - w) * z(bm25)`, each side standardised
per question. At scale no side scores every passage, so the union of both sides' candidates is fused instead:
each candidate is scored exactly on both sides and standardised with the statistics of the whole corpus —
BM25's exactly where its scores for all passages are cheap (a local store), the dense side's (and a server
store's BM25) from a fixed sample of passages — so a candidate gets very nearly the score it would get over
every passage.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import Executor, Future
from functools import lru_cache
from typing import Any

import numpy as np

from .settings import Method
from .stores import Candidates, PassageStore

RRF_K = 60
CANDIDATES = 100  # passages per side fused at scale
SAMPLE = 1024  # passages whose dense scores estimate the corpus-wide mean and spread


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


def fuse_candidates(store: PassageStore, questions: Sequence[str],
                    vectors: np.ndarray | Callable[[], np.ndarray] | None, method: Method, dense_weight: float,
                    k: int, pool: int = CANDIDATES, allowed: np.ndarray | None = None,
                    side: Executor | None = None) -> list[Candidates]:
    """The k best passages per question, from each side's `pool` candidates (see the module docstring);
    `allowed`, a boolean mask over passage rows, keeps only those rows (search filters).

    `vectors` may be a function that encodes the questions: with a `side` executor, the work that needs no
    vectors (the lexical side) then runs there while they are encoded, and the dense sample's scores while
    the dense side searches. On two cores this took a fifth off a whole-archive search."""
    pool = max(pool, k)
    run = side.submit if side is not None else _at_once
    lexical = run(store.lexical_search, questions, pool, allowed) if method != "dense" else None
    vectors = vectors() if callable(vectors) else vectors
    sample = sample_rows(len(store.passages))
    spread = run(store.dense_scores, vectors, sample) if method == "hybrid" and vectors is not None else None
    dense = store.dense_search(vectors, pool, allowed) if method != "bm25" and vectors is not None else None
    lexical = lexical.result() if lexical is not None else None
    if method == "bm25":
        return [_first(c, k) for c in lexical]
    if method == "dense":
        return [_first(c, k) for c in dense]
    samples = spread.result() if spread is not None else None
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
            dense_z = _standardise(_dense_of(store, vectors[i : i + 1], rows, dense[i]), samples[i])
            fused = dense_weight * dense_z + (1.0 - dense_weight) * lexical_z
        order = np.lexsort((rows, -fused))[:k]
        found.append(Candidates(rows[order], fused[order].astype(np.float32)))
    return found


def _at_once(function: Callable[..., Any], *args: Any) -> Future:
    """`Executor.submit` without an executor: run now, hand back the finished future."""
    future: Future = Future()
    future.set_result(function(*args))
    return future


def _dense_of(store: PassageStore, vector: np.ndarray, rows: np.ndarray, known: Candidates) -> np.ndarray:
    """Exact dense scores of `rows`, taking those the dense side's candidates already hold (exact too)."""
    scores = np.empty(len(rows), dtype=np.float32)
    held = np.isin(rows, known.rows)
    if held.any():
        order = np.argsort(known.rows)
        scores[held] = known.scores[order][np.searchsorted(known.rows[order], rows[held])]
    if (~held).any():
        scores[~held] = store.dense_scores(vector, rows[~held])[0]
    return scores


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
