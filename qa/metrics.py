"""Ranking metrics over one ranked list of relevance judgements (best first): Recall@k, MRR@k, nDCG@k."""

from __future__ import annotations

import math
from collections.abc import Sequence


def recall_at_k(ranked: Sequence[bool], k: int) -> float:
    """1.0 when any of the top `k` results is relevant, else 0.0.

    This is "success@k" (hit rate), which is what QA retrieval papers (DPR and after) report as Recall@k or
    top-k accuracy; it is not the IR fraction of all relevant passages found in the top k.
    """
    _check_k(k)
    return 1.0 if any(ranked[:k]) else 0.0


def reciprocal_rank(ranked: Sequence[bool], k: int = 10) -> float:
    """1 / rank of the first relevant result within the top `k`, or 0.0 when none is (MRR@k per query)."""
    _check_k(k)
    for rank, relevant in enumerate(ranked[:k], start=1):
        if relevant:
            return 1.0 / rank
    return 0.0


def ndcg_at_k(ranked: Sequence[bool], relevant_count: int, k: int = 10) -> float:
    """nDCG@k with binary gains: DCG = sum of 1/log2(rank + 1) over relevant results in the top `k`,
    divided by the ideal DCG of `relevant_count` relevant passages (capped at `k`) ranked first.

    `relevant_count` is the number of relevant passages in the whole corpus, not just among the results;
    with none, the score is 0.0.
    """
    _check_k(k)
    top = ranked[:k]
    found = sum(1 for relevant in top if relevant)
    if relevant_count < found:
        raise ValueError(f"{found} relevant results in the top {k} but relevant_count is {relevant_count}")
    if relevant_count == 0:
        return 0.0
    dcg = sum(1.0 / math.log2(rank + 1) for rank, relevant in enumerate(top, start=1) if relevant)
    ideal = sum(1.0 / math.log2(rank + 1) for rank in range(1, min(relevant_count, k) + 1))
    return dcg / ideal


def _check_k(k: int) -> None:
    if k < 1:
        raise ValueError(f"k must be at least 1, not {k}")
