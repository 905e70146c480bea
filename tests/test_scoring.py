"""BM25 and score fusion on small known texts."""

from __future__ import annotations

import numpy as np

from qa.lexical import LexicalIndex
from qa.retriever import _min_max, _rrf

TEXTS = [
    "The envoy flew to Doha for talks with the Taliban.",
    "Pakistan's army chief met the American delegation in Rawalpindi.",
    "Fighting intensified in the western provinces after the airstrikes.",
]


def test_bm25_ranks_the_passage_with_the_rare_terms_first() -> None:
    index = LexicalIndex(TEXTS)
    assert int(np.argmax(index.scores("who met the army chief in Rawalpindi?"))) == 1
    assert int(np.argmax(index.scores("airstrike fights"))) == 2  # stemming: airstrikes/airstrike, fighting/fights


def test_bm25_scores_zero_for_unknown_or_stop_words() -> None:
    index = LexicalIndex(TEXTS)
    assert not index.scores("zebra quantum").any()
    assert not index.scores("the of and").any()


def test_min_max_maps_each_row_to_unit_range() -> None:
    scores = np.array([[1.0, 3.0, 2.0], [5.0, 5.0, 5.0]], dtype=np.float32)
    assert np.allclose(_min_max(scores), [[0.0, 1.0, 0.5], [0.0, 0.0, 0.0]])


def test_rrf_uses_ranks_not_scores() -> None:
    fused = _rrf(np.array([[10.0, 0.5, 3.0]], dtype=np.float32))
    assert np.allclose(fused, [[1 / 61, 1 / 63, 1 / 62]])
