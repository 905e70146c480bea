"""The embedded store (the default): an index folder of files (`qa.index`), BM25 memory-mapped from it, and
exact best-sentence dense scoring."""

from __future__ import annotations

import hashlib
import logging
import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from ..ann import ANN_MIN_SENTENCES, ApproximateIndex
from ..ann import build as build_approximate
from ..articles import Article
from ..embedding import Embedder, ModelSource
from ..index import APPROXIMATE, BM25, COMMIT_EVERY, VECTORS, IndexContents, IndexReadOnlyError, IndexStore, SyncReport
from ..lexical import LexicalIndex, lexical_text  # noqa: F401  (lexical_text: used by other stores)
from ..passages import Passage
from ..prefetch import prefetch
from ..threads import single_blas_thread
from ..vectorfile import CAN_PREAD, VectorFile
from .base import Candidates, Progress

log = logging.getLogger(__name__)

SENTENCE_CANDIDATES = 256  # sentences the approximate index proposes per question; their passages are scored exactly
RAM_VECTORS = 320 << 20  # bytes: up to this size the vectors are held in memory as float32, beyond it read mapped
BLOCK = 1 << 16  # sentence vectors converted from float16 at a time when they are read mapped
SCORE_CELLS = 1 << 24  # question x sentence scores computed at once: bounds the intermediate matrix


def fallback_folder(corpus: Path, cache_dir: Path) -> Path:
    """Where the index of a read-only corpus folder lives: a per-user cache folder named after the corpus."""
    absolute = str(Path(corpus).expanduser().resolve())
    return cache_dir / "indexes" / f"{Path(absolute).name or 'root'}-{hashlib.sha256(absolute.encode()).hexdigest()[:12]}"


class EmbeddedStore:
    """Passages and sentence vectors in an index folder; BM25 and vectors memory-mapped from it."""

    local = True

    def __init__(self, folder: Path, model: ModelSource, min_words: int, max_words: int,
                 fallback: Path | None = None, *, commit_every: int = COMMIT_EVERY) -> None:
        self.folder = folder
        self._commit_every = commit_every
        self._model = model
        self._sizes = (min_words, max_words)
        self._fallback = fallback
        self._vectors = np.zeros((0, 0), dtype=np.float32)
        self._in_memory = True
        self._offsets = np.zeros(1, dtype=np.int64)
        self._passages: Sequence[Passage] = []
        self._lexical = LexicalIndex()
        self._approximate: ApproximateIndex | None = None
        self._kept: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None  # a sample's rows, vectors, firsts
        self._last_bm25: tuple[str, np.ndarray] | None = None

    # --- indexing ---------------------------------------------------------------------------------------

    def index_store(self, folder: Path | None = None) -> IndexStore:
        return IndexStore(folder or self.folder, self._model.name, self._model.fingerprint, *self._sizes,
                          commit_every=self._commit_every)

    def sync(self, articles: Sequence[Article], embedder: Embedder, *, batch_size: int = 32,
             progress: Progress | None = None) -> SyncReport:
        try:
            contents, report = self.index_store().sync(articles, embedder, batch_size, progress)
        except IndexReadOnlyError:
            if self._fallback is None:
                raise
            log.warning("%s cannot be written: keeping the index in %s", self.folder, self._fallback)
            seed, self.folder = self.folder, self._fallback
            # what the read-only index holds is copied, not embedded again: only new and changed articles are
            contents, report = self.index_store().sync(articles, embedder, batch_size, progress, seed=seed)
        self._take(contents)
        return report

    def _take(self, contents: IndexContents) -> None:
        self._passages = contents.passages
        self._kept = self._last_bm25 = None
        self._offsets = contents.offsets
        self._lexical = contents.lexical
        vectors = contents.vectors
        self._in_memory = vectors.size * 4 <= RAM_VECTORS
        if self._in_memory:
            self._vectors = np.asarray(vectors, dtype=np.float32)
        elif CAN_PREAD and contents.folder is not None:
            self._vectors = VectorFile(contents.folder / VECTORS)  # see qa/vectorfile.py: scattered reads
        else:
            self._vectors = vectors
        self._approximate = self._approximate_index(contents)
        if self._approximate is not None and contents.folder is not None:  # see qa/prefetch.py
            prefetch([contents.folder / APPROXIMATE, contents.folder / VECTORS, *sorted((contents.folder / BM25).glob("*"))])

    def _approximate_index(self, contents: IndexContents) -> ApproximateIndex | None:
        """The generation's approximate index; built now when a large index lacks it (one written before the
        approximate index was a graph), or None: then every sentence is scored exactly."""
        if contents.folder is None:
            return None
        path = contents.folder / APPROXIMATE
        if not path.is_file():
            if len(contents.vectors) < ANN_MIN_SENTENCES:
                return None
            log.warning("building the approximate dense index of %s (once; a few minutes for a million sentences)",
                        self.folder)
            partial = path.with_name(f".{path.name}.{os.getpid()}")
            try:  # written aside and renamed: a reader never sees half an index
                build_approximate(contents.vectors, partial)
                os.replace(partial, path)
            except OSError as error:
                partial.unlink(missing_ok=True)
                log.warning("could not write the approximate index (%s): every sentence is scored exactly", error)
                return None
        return ApproximateIndex(path)

    # --- reading ----------------------------------------------------------------------------------------

    @property
    def passages(self) -> Sequence[Passage]:
        return self._passages

    @property
    def lexical(self) -> LexicalIndex:
        return self._lexical

    def sentence_vectors(self, row: int) -> np.ndarray:
        return np.asarray(self._vectors[int(self._offsets[row]) : int(self._offsets[row + 1])], dtype=np.float32)

    def dense_scores(self, question_vectors: np.ndarray, rows: np.ndarray | None = None) -> np.ndarray:
        """Each passage scores as its best sentence: a question usually matches one sentence, and a
        whole-passage embedding dilutes that match with the passage's other sentences."""
        questions = np.asarray(question_vectors, dtype=np.float32).reshape(len(question_vectors), -1)
        if rows is not None:
            return self._dense_rows(questions, np.asarray(rows, dtype=np.int64))
        if not len(self._passages):
            return np.zeros((len(questions), 0), dtype=np.float32)
        step = max(1, SCORE_CELLS // max(len(self._vectors), 1))
        if len(questions) > step:
            return np.vstack([self.dense_scores(questions[i : i + step]) for i in range(0, len(questions), step)])
        with single_blas_thread():  # see qa/threads.py
            if self._in_memory:
                cosines = questions @ self._vectors.T
            else:
                cosines = np.empty((len(questions), len(self._vectors)), dtype=np.float32)
                for begin in range(0, len(self._vectors), BLOCK):
                    block = np.asarray(self._vectors[begin : begin + BLOCK], dtype=np.float32)
                    cosines[:, begin : begin + len(block)] = questions @ block.T
        return np.maximum.reduceat(cosines, self._offsets[:-1], axis=1)

    def _dense_rows(self, questions: np.ndarray, rows: np.ndarray) -> np.ndarray:
        """Exact best-sentence cosines of the given passages only (candidate re-scoring)."""
        if not len(rows):
            return np.zeros((len(questions), 0), dtype=np.float32)
        kept = self._kept  # read once: another thread may replace it
        if kept is not None and kept[0] is rows:  # the same (read-only) rows as last time
            vectors, firsts = kept[1], kept[2]
        else:
            starts, ends = self._offsets[rows], self._offsets[rows + 1]
            counts = ends - starts
            firsts = np.concatenate([[0], np.cumsum(counts)[:-1]])
            sentences = np.repeat(starts - firsts, counts) + np.arange(counts.sum())
            vectors = np.asarray(self._vectors[sentences], dtype=np.float32)
            if not rows.flags.writeable:  # a fixed sample (qa.fusion.sample_rows): keep its vectors at hand
                self._kept = (rows, vectors, firsts)
        with single_blas_thread():
            cosines = questions @ vectors.T
        return np.maximum.reduceat(cosines, firsts, axis=1)

    def lexical_scores(self, questions: Sequence[str], rows: np.ndarray | None = None) -> np.ndarray:
        if not questions:
            return np.zeros((0, len(self._passages) if rows is None else len(rows)), dtype=np.float32)
        scores = np.vstack([self._bm25(q) for q in questions])
        return scores if rows is None else scores[:, np.asarray(rows, dtype=np.int64)]

    def _bm25(self, question: str) -> np.ndarray:
        """BM25 scores of every passage; the last question's are kept, since fusion asks for them twice."""
        kept = self._last_bm25  # read once: another thread may replace it
        if kept is None or kept[0] != question:
            kept = (question, self._lexical.scores(question))
            self._last_bm25 = kept
        return kept[1]

    def dense_search(self, question_vectors: np.ndarray, k: int,
                     allowed: np.ndarray | None = None) -> list[Candidates]:
        if self._approximate is None:
            return [top_k(row, k, allowed) for row in self.dense_scores(question_vectors)]
        questions = np.asarray(question_vectors, dtype=np.float32).reshape(len(question_vectors), -1)
        found = []
        for question, ids in zip(questions, self._approximate.search(questions, max(SENTENCE_CANDIDATES, 2 * k))):
            ids = np.sort(ids[ids >= 0])  # in file order: fewer scattered reads
            owners = np.searchsorted(self._offsets, ids, side="right") - 1
            if allowed is not None:
                keep = np.asarray(allowed, dtype=bool)[owners]
                ids, owners = ids[keep], owners[keep]
                if len(np.unique(owners)) < k:  # a narrow filter: score every passage it allows exactly
                    rows = np.flatnonzero(allowed)
                    best = top_k(self._dense_rows(question[None, :], rows)[0], k)
                    found.append(Candidates(rows[best.rows], best.scores))
                    continue
            found.append(self._found_sentences(question, ids, owners, k))
        return found

    def _found_sentences(self, question: np.ndarray, ids: np.ndarray, owners: np.ndarray, k: int) -> Candidates:
        """The k best passages among those owning the sentences the approximate index found, each scored by
        the exact cosine of its best found sentence. (A passage's best sentence is nearer the question than
        any other of its sentences, so it is found whenever a worse one is, up to the index's approximation;
        reading only the found sentences' vectors keeps a search's scattered reads from the mapped file few.)"""
        if not len(ids):
            return Candidates.empty()
        with single_blas_thread():
            cosines = np.asarray(self._vectors[ids], dtype=np.float32) @ question
        starts = np.flatnonzero(np.r_[True, owners[1:] != owners[:-1]])  # owners ascend with ids
        rows, scores = owners[starts], np.maximum.reduceat(cosines, starts)
        best = top_k(scores, k)
        return Candidates(rows[best.rows], best.scores)

    def lexical_search(self, questions: Sequence[str], k: int,
                       allowed: np.ndarray | None = None) -> list[Candidates]:
        return [top_k(row, k, allowed, positive=True) for row in self.lexical_scores(questions)]

    def terms_many(self, texts: Sequence[str]) -> list[list[str]]:
        return self._lexical.terms_many(texts)

    def idf(self, term: str) -> float:
        return self._lexical.idf(term)


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
