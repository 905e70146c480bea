"""The embedded store (the default): an index folder of files, BM25 in process, exact dense scoring."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from ..articles import Article
from ..embedding import Embedder, ModelSource
from ..index import IndexStore, SyncReport
from ..lexical import LexicalIndex
from ..passages import Passage
from .base import Candidates, Progress

SCORE_CHUNK = 256  # questions scored at once: bounds the (questions x sentences) intermediate matrix


class EmbeddedStore:
    """Passages and sentence vectors in an index folder (see `qa.index`); BM25 kept in memory."""

    def __init__(self, folder: Path, model: ModelSource, min_words: int, max_words: int) -> None:
        self.folder = folder
        self._index = IndexStore(folder, model.name, model.fingerprint, min_words, max_words)
        self._passages: list[Passage] = []
        self._vectors = np.zeros((0, 0), dtype=np.float32)
        self._starts = np.zeros(0, dtype=np.int64)
        self._lexical = LexicalIndex([])

    # --- indexing ---------------------------------------------------------------------------------------

    def sync(self, articles: Sequence[Article], embedder: Embedder, *, batch_size: int = 32,
             progress: Progress | None = None) -> SyncReport:
        contents, report = self._index.sync(list(articles), embedder, batch_size, progress)
        titles = {a.doc_id: a.title for a in articles}
        self._passages = contents.passages
        self._vectors = contents.vectors
        self._starts = contents.offsets[:-1]
        self._lexical = LexicalIndex([lexical_text(p.text, titles.get(p.doc_id, "")) for p in self._passages])
        return report

    # --- reading ----------------------------------------------------------------------------------------

    @property
    def passages(self) -> Sequence[Passage]:
        return self._passages

    @property
    def lexical(self) -> LexicalIndex:
        return self._lexical

    def sentence_vectors(self, row: int) -> np.ndarray:
        first = int(self._starts[row])
        return self._vectors[first : first + len(self._passages[row].sentences)]

    def dense_scores(self, question_vectors: np.ndarray, rows: np.ndarray | None = None) -> np.ndarray:
        """Each passage scores as its best sentence: a question usually matches one sentence, and a
        whole-passage embedding dilutes that match with the passage's other sentences."""
        question_vectors = np.asarray(question_vectors, dtype=np.float32)
        if not len(self._passages):
            return np.zeros((len(question_vectors), 0 if rows is None else len(rows)), dtype=np.float32)
        if len(question_vectors) > SCORE_CHUNK:
            return np.vstack([self.dense_scores(question_vectors[i : i + SCORE_CHUNK], rows)
                              for i in range(0, len(question_vectors), SCORE_CHUNK)])
        scores = np.maximum.reduceat(question_vectors @ self._vectors.T, self._starts, axis=1)
        return scores if rows is None else scores[:, rows]

    def lexical_scores(self, questions: Sequence[str], rows: np.ndarray | None = None) -> np.ndarray:
        if not questions:
            return np.zeros((0, len(self._passages) if rows is None else len(rows)), dtype=np.float32)
        scores = np.vstack([self._lexical.scores(q) for q in questions])
        return scores if rows is None else scores[:, rows]

    def dense_search(self, question_vectors: np.ndarray, k: int,
                     allowed: np.ndarray | None = None) -> list[Candidates]:
        return [top_k(row, k, allowed) for row in self.dense_scores(question_vectors)]

    def lexical_search(self, questions: Sequence[str], k: int,
                       allowed: np.ndarray | None = None) -> list[Candidates]:
        return [top_k(row, k, allowed, positive=True) for row in self.lexical_scores(questions)]

    def terms_many(self, texts: Sequence[str]) -> list[list[str]]:
        return self._lexical.terms_many(texts)

    def idf(self, term: str) -> float:
        return self._lexical.idf(term)


def lexical_text(text: str, title: str) -> str:
    """What BM25 reads of a passage: its article's title, then its text."""
    return f"{title}\n{text}" if title and not text.startswith(title) else text


def top_k(scores: np.ndarray, k: int, allowed: np.ndarray | None = None, positive: bool = False) -> Candidates:
    """The k best rows of a score vector, best first (ties by row), optionally only allowed or positive ones."""
    keep = np.ones(len(scores), dtype=bool) if allowed is None else np.asarray(allowed, dtype=bool).copy()
    if positive:
        keep &= scores > 0
    rows = np.flatnonzero(keep)
    if not len(rows) or k <= 0:
        return Candidates.empty()
    values = scores[rows]
    if k < len(rows):
        part = np.argpartition(-values, k - 1)[:k]
        rows, values = rows[part], values[part]
    order = np.lexsort((rows, -values))[:k]
    return Candidates(rows[order].astype(np.int64), values[order].astype(np.float32))
