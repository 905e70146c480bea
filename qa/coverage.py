"""How much of a question a piece of evidence speaks to: each of the question's content words is matched to its
closest word of the evidence (by contextual word vectors, so "captives" can meet "prisoners"), and the matches
are averaged with the words' weights. A question whose key word (born, university, replaced) has no counterpart
in the best passage is one the passage does not answer, however close the topic."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from .embedding import WordVectors


def soft_coverage(question: WordVectors, evidence: WordVectors, weight_of: Callable[[str], float]) -> float:
    """The weighted mean, over the question's words of positive weight (content words), of each one's best
    cosine to a content word of the evidence; 0.0 when either side has none."""
    weights = np.array([weight_of(word) for word in question.words], dtype=np.float32)
    keep = weights > 0
    evident = np.array([weight_of(word) > 0 for word in evidence.words], dtype=bool)
    if not keep.any() or not evident.any():
        return 0.0
    best = (question.vectors[keep] @ evidence.vectors[evident].T).max(axis=1)
    return float((best * weights[keep]).sum() / weights[keep].sum())


def joined(parts: Sequence[WordVectors]) -> WordVectors:
    """Several texts' words as those of one text (the texts joined by spaces)."""
    text, spans, at = " ".join(part.text for part in parts), [], 0
    for part in parts:
        spans.extend((start + at, end + at) for start, end in part.spans)
        at += len(part.text) + 1
    vectors = [part.vectors for part in parts if len(part.spans)]
    return WordVectors(text, tuple(spans), np.vstack(vectors) if vectors else np.zeros((0, 0), dtype=np.float32))
