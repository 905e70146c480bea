"""Ranking metrics against values computed by hand."""

from __future__ import annotations

import math

import pytest

from qa.metrics import ndcg_at_k, recall_at_k, reciprocal_rank

F, T = False, True


def test_recall_is_a_hit_rate_within_k() -> None:
    ranked = [F, F, T, T]
    assert recall_at_k(ranked, 1) == 0.0
    assert recall_at_k(ranked, 2) == 0.0
    assert recall_at_k(ranked, 3) == 1.0
    assert recall_at_k(ranked, 10) == 1.0  # k beyond the list
    assert recall_at_k([T], 1) == 1.0


def test_recall_without_relevant_results_is_zero() -> None:
    assert recall_at_k([F] * 10, 10) == 0.0
    assert recall_at_k([], 5) == 0.0


def test_reciprocal_rank_of_the_first_relevant_result() -> None:
    assert reciprocal_rank([T, F, T]) == 1.0
    assert reciprocal_rank([F, F, T, T]) == pytest.approx(1 / 3)
    assert reciprocal_rank([F] * 9 + [T]) == pytest.approx(0.1)


def test_reciprocal_rank_ignores_results_past_k() -> None:
    assert reciprocal_rank([F] * 10 + [T]) == 0.0  # rank 11 does not count for MRR@10
    assert reciprocal_rank([F, F, T], k=2) == 0.0
    assert reciprocal_rank([]) == 0.0


def test_ndcg_of_a_perfect_ranking_is_one() -> None:
    assert ndcg_at_k([T, F, F], relevant_count=1) == 1.0
    assert ndcg_at_k([T, T, F], relevant_count=2) == 1.0


def test_ndcg_single_relevant_at_rank_three() -> None:
    # DCG = 1/log2(4) = 0.5; IDCG = 1/log2(2) = 1.
    assert ndcg_at_k([F, F, T], relevant_count=1) == pytest.approx(0.5)


def test_ndcg_two_relevant_one_found_late() -> None:
    # DCG = 1/log2(3) ~= 0.6309; IDCG = 1 + 1/log2(3) ~= 1.6309.
    expected = (1 / math.log2(3)) / (1 + 1 / math.log2(3))
    assert ndcg_at_k([F, T, F], relevant_count=2) == pytest.approx(expected)
    assert expected == pytest.approx(0.38685, abs=1e-5)


def test_ndcg_ideal_is_capped_at_k() -> None:
    # 12 relevant passages but only 10 ranks: a list that is relevant all the way down is perfect.
    assert ndcg_at_k([T] * 10, relevant_count=12) == pytest.approx(1.0)
    # 3 relevant, k=2: IDCG = 1 + 1/log2(3), DCG at ranks 1 and 2 equal it.
    assert ndcg_at_k([T, T, T], relevant_count=3, k=2) == pytest.approx(1.0)


def test_ndcg_edge_cases() -> None:
    assert ndcg_at_k([F] * 10, relevant_count=0) == 0.0  # no relevant passage anywhere
    assert ndcg_at_k([F] * 10 + [T], relevant_count=1) == 0.0  # relevant only at rank 11
    assert ndcg_at_k([], relevant_count=3) == 0.0


def test_ndcg_rejects_more_found_than_exist() -> None:
    with pytest.raises(ValueError, match="relevant_count"):
        ndcg_at_k([T, T], relevant_count=1)


@pytest.mark.parametrize("metric", [lambda r, k: recall_at_k(r, k), lambda r, k: reciprocal_rank(r, k),
                                    lambda r, k: ndcg_at_k(r, 1, k)])
def test_k_must_be_positive(metric) -> None:
    with pytest.raises(ValueError, match="k must be"):
        metric([T], 0)
