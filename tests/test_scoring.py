"""BM25 and score fusion on small known texts."""

from __future__ import annotations

import math

import numpy as np
import pytest

from qa.lexical import LexicalIndex
from qa.retriever import _rrf, _z_score

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


def test_question_words_are_not_terms() -> None:
    index = LexicalIndex([*TEXTS, '"What did he do?" she asked. "What were they doing, and how did it happen?"',
                          "Chainalysis said it worked with the FBI."])
    assert index.terms("What did Chainalysis do?") == ["chainalysi"]
    assert int(np.argmax(index.scores("What did Chainalysis do?"))) == 4


def test_idf_counts_the_passages_holding_a_term_once_each() -> None:
    index = LexicalIndex([*TEXTS, "Talks, talks and more talks in Doha."])
    passages = len(TEXTS) + 1
    assert index.idf("doha") == pytest.approx(math.log((passages + 1) / 2.5))  # two passages, one of them thrice
    assert index.idf("rawalpindi") == pytest.approx(math.log((passages + 1) / 1.5))
    assert index.idf("zebra") > index.idf("rawalpindi") > index.idf("doha")
    assert index.terms_many(["Fighting", "the", "Doha?"]) == [["fight"], [], ["doha"]]
    assert index.terms_many([]) == [] and LexicalIndex([]).idf("doha") == 0.0


def test_z_score_standardises_each_row_and_zeroes_flat_rows() -> None:
    scores = np.array([[1.0, 3.0, 2.0], [5.0, 5.0, 5.0]], dtype=np.float32)
    spread = np.sqrt(2 / 3)
    assert np.allclose(_z_score(scores), [[-1 / spread, 1 / spread, 0.0], [0.0, 0.0, 0.0]])


def test_hybrid_fusion_weighs_standardised_scores() -> None:
    from types import SimpleNamespace

    from qa.retriever import Retriever

    dense = np.array([[0.9, 0.5, 0.1]], dtype=np.float32)
    lexical = np.array([[0.0, 6.0, 0.0]], dtype=np.float32)
    expected = 0.7 * _z_score(dense) + 0.3 * _z_score(lexical)
    store = SimpleNamespace(passages=[1, 2, 3], lexical_scores=lambda qs, rows=None: lexical)
    fake = SimpleNamespace(settings=SimpleNamespace(method="hybrid", dense_weight=0.7, batch_size=32),
                           store=store, embedder=SimpleNamespace(encode=lambda qs, batch_size: None),
                           dense_scores=lambda vectors: dense)
    assert np.allclose(Retriever.score_many(fake, ["q"]), expected)
    assert np.allclose(Retriever.score_many(fake, ["q"], method="bm25"), lexical)


def test_rrf_uses_ranks_not_scores() -> None:
    fused = _rrf(np.array([[10.0, 0.5, 3.0]], dtype=np.float32))
    assert np.allclose(fused, [[1 / 61, 1 / 63, 1 / 62]])
