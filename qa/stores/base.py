"""The storage-backend interface: where passages and sentence vectors live, and how candidates are found.

The Retriever talks to its store through `PassageStore` alone, so the embedded store (files in an index
folder, the default) and a search server (e.g. Milvus) are interchangeable. Rows are passage numbers
`0 .. len(store.passages) - 1`, stable from one `sync` to the next call of `sync`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol, runtime_checkable

import numpy as np

if TYPE_CHECKING:
    from ..articles import Article
    from ..embedding import Embedder
    from ..index import SyncReport
    from ..passages import Passage

Progress = Callable[[int, int], None]


@dataclass(frozen=True, slots=True)
class Candidates:
    """Passages found for one question, best first: passage rows and their scores (higher is better)."""

    rows: np.ndarray  # int64
    scores: np.ndarray  # float32, same length

    @classmethod
    def empty(cls) -> Candidates:
        return cls(np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32))


@runtime_checkable
class PassageStore(Protocol):
    """A corpus's passages, their sentence vectors and a BM25 index; what the Retriever indexes into and
    searches. Implementations: `qa.stores.embedded.EmbeddedStore` (files, the default) and
    `qa.stores.milvus.MilvusStore` (a Milvus server)."""

    #: Whether scoring every passage (`dense_scores`/`lexical_scores` without rows) is cheap: local arrays
    #: rather than a request to a server. When it is not, search always fuses candidates (`qa.fusion`).
    local: bool

    def sync(self, articles: Sequence[Article], embedder: Embedder, *, batch_size: int = 32,
             progress: Progress | None = None) -> SyncReport:
        """Bring the store in line with `articles`: keep unchanged ones (same `content_hash`), split new or
        changed ones and embed their sentences (one unit vector per passage sentence; a changed article keeps
        the saved vector of each sentence whose text it still holds: a vector depends on the text alone), drop
        the others. `progress(done, total)` counts passages. Must leave the previous contents readable if it
        fails or is interrupted."""
        ...

    @property
    def passages(self) -> Sequence[Passage]:
        """Every passage, indexed by row."""
        ...

    def sentence_vectors(self, row: int) -> np.ndarray:
        """The unit vectors of passage `row`'s sentences, one row per sentence (float32)."""
        ...

    def dense_search(self, question_vectors: np.ndarray, k: int,
                     allowed: np.ndarray | None = None) -> list[Candidates]:
        """Per question vector, up to k passages by their best sentence's cosine, best first; exact cosines
        (an approximate index may choose the candidates and which of their sentences are read, but the
        cosines it returns are exact ones). `allowed`, a boolean mask over rows, restricts the result to
        those rows."""
        ...

    def lexical_search(self, questions: Sequence[str], k: int,
                       allowed: np.ndarray | None = None) -> list[Candidates]:
        """Per question, up to k passages by BM25 over title + passage text, best first; rows scoring 0 are
        left out."""
        ...

    def dense_scores(self, question_vectors: np.ndarray, rows: np.ndarray | None = None) -> np.ndarray:
        """Exact best-sentence cosines, (questions x rows); `rows=None` means every passage."""
        ...

    def lexical_scores(self, questions: Sequence[str], rows: np.ndarray | None = None) -> np.ndarray:
        """BM25 scores, (questions x rows); `rows=None` means every passage."""
        ...

    def terms_many(self, texts: Sequence[str]) -> list[list[str]]:
        """The BM25 terms (stemmed, stop words removed) of each text."""
        ...

    def idf(self, term: str) -> float:
        """The term's inverse document frequency over the passages: log((N + 1) / (df + 0.5))."""
        ...
