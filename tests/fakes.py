"""Small stand-ins for tests that need no real model."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np

from qa.embedding import WORD, ModelSource, WordVectors


class CountingEmbedder:
    """Deterministic bag-of-words vectors; counts how many texts it was asked to encode."""

    def __init__(self, name: str = "fake-model", dimension: int = 64) -> None:
        self.source = ModelSource(name, Path("/nonexistent"), f"fingerprint-of-{name}")
        self.dimension = dimension
        self.encoded = 0

    def encode(self, texts, batch_size=32, progress=None) -> np.ndarray:
        self.encoded += len(texts)
        vectors = np.zeros((len(texts), self.dimension), dtype=np.float32)
        for row, text in enumerate(texts):
            for word in text.lower().split():
                vectors[row, int(hashlib.md5(word.encode()).hexdigest(), 16) % self.dimension] += 1.0
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        if progress:
            progress(len(texts), len(texts))
        # Values a float16 index stores exactly, so every store holds the very same vectors.
        return (vectors / np.where(norms > 0, norms, 1.0)).astype(np.float16).astype(np.float32)

    def word_vectors(self, texts) -> list[WordVectors]:
        """Each word's vector is its own bag-of-words vector: a word matches itself and nothing else."""
        result = []
        for text in texts:
            spans = tuple(match.span() for match in WORD.finditer(text))
            vectors = self.encode([text[start:end] for start, end in spans])
            self.encoded -= len(spans)  # counts sentence encodes only
            result.append(WordVectors(text, spans, vectors))
        return result
