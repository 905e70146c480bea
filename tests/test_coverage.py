"""Soft coverage of a question by a piece of evidence, on hand-made word vectors."""

from __future__ import annotations

import numpy as np
import pytest

from qa.coverage import joined, soft_coverage
from qa.embedding import WordVectors

STOP = {"where", "was", "the", "in", "?", "."}


def words(text: str, vectors: dict[str, list[float]]) -> WordVectors:
    spans, rows, at = [], [], 0
    for word in text.split():
        start = text.index(word, at)
        spans.append((start, start + len(word)))
        at = start + len(word)
        row = np.array(vectors.get(word.lower(), [0.0, 0.0, 1.0]), dtype=np.float32)
        rows.append(row / np.linalg.norm(row))
    return WordVectors(text, tuple(spans), np.array(rows))


VECTORS = {"khalilzad": [1, 0, 0], "born": [0, 1, 0], "birthplace": [0, 0.9, 0.1], "envoy": [0.8, 0, 0.2]}


def weight(word: str) -> float:
    return 0.0 if word.lower() in STOP else {"born": 2.0}.get(word.lower(), 1.0)


def test_every_key_word_met_covers_fully() -> None:
    question = words("Where was Khalilzad born ?", VECTORS)
    assert soft_coverage(question, words("Khalilzad born in Mazar .", VECTORS), weight) == pytest.approx(1.0)


def test_a_near_synonym_covers_almost_as_well() -> None:
    question = words("Where was Khalilzad born ?", VECTORS)
    near = soft_coverage(question, words("Khalilzad birthplace .", VECTORS), weight)
    assert 0.9 < near < 1.0


def test_a_missing_key_word_pulls_coverage_down_by_its_weight() -> None:
    question = words("Where was Khalilzad born ?", VECTORS)
    # Khalilzad met exactly (weight 1); born (weight 2) meets only the envoy/other words, at cosine 0.
    assert soft_coverage(question, words("Khalilzad the envoy .", VECTORS), weight) == pytest.approx(1 / 3)


def test_stop_words_and_empty_sides_count_for_nothing() -> None:
    question = words("Where was Khalilzad born ?", VECTORS)
    assert soft_coverage(question, words("the was in", VECTORS), weight) == 0.0
    assert soft_coverage(words("where was the", VECTORS), words("Khalilzad born", VECTORS), weight) == 0.0


def test_joined_words_keep_their_own_text_and_vectors() -> None:
    first, second = words("Khalilzad born", VECTORS), words("the envoy .", VECTORS)
    both = joined([first, second])
    assert both.text == "Khalilzad born the envoy ."
    assert both.words == ["Khalilzad", "born", "the", "envoy", "."]
    assert np.array_equal(both.vectors, np.vstack([first.vectors, second.vectors]))
    question = words("Where was Khalilzad born ?", VECTORS)
    assert soft_coverage(question, both, weight) == pytest.approx(1.0)
    assert joined([]).spans == () and soft_coverage(question, joined([]), weight) == 0.0
