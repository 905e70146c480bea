"""The lexical side of retrieval: BM25 (bm25s) over stemmed words, English stop words removed."""

from __future__ import annotations

import json
import logging
import math
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import bm25s
import numpy as np
import Stemmer

# bm25s sets its own logger to DEBUG when imported, which would print index-building chatter wherever the
# application lets debug records through; put it back to the usual default.
logging.getLogger("bm25s").setLevel(logging.WARNING)


# bm25s's longer English list (NLTK's 179 words): besides articles and prepositions it drops the question words
# and auxiliaries ("what", "did", "do", "how", "were"), which otherwise score passages that happen to hold them.
STOP_WORDS = "en_plus"
# Written instead of bm25s's files when no passage holds a searchable word: how many passages there are.
WORDLESS = "wordless.json"


def lexical_text(text: str, title: str) -> str:
    """What BM25 reads of a passage: its article's title, then its text."""
    return f"{title}\n{text}" if title and not text.startswith(title) else text


class LexicalIndex:
    """BM25 scores of every passage for a query: built from the passage texts, or loaded (memory-mapped)
    from a folder written by `save`, so opening a large index does not rebuild it."""

    def __init__(self, texts: Sequence[str] = (), *, bm25: bm25s.BM25 | None = None, wordless: int = 0) -> None:
        self._stemmer = Stemmer.Stemmer("english")
        self._lock = threading.Lock()  # PyStemmer objects are not safe to share between threads
        if bm25 is None:
            bm25 = bm25s.BM25()
            tokens = self._tokenize(texts, return_ids=True) if texts else None
            if tokens is not None and tokens.vocab:
                bm25.index(tokens, show_progress=False)
            elif texts:  # only stop words and punctuation: bm25s cannot index that, and no query can match it
                wordless = len(texts)
        self._bm25 = bm25
        self._size = int(bm25.scores["num_docs"]) if getattr(bm25, "scores", None) else wordless
        self._vocabulary = bm25.vocab_dict if getattr(bm25, "scores", None) else {}
        # The score matrix is column-compressed by term: a term's document frequency is its column's length.
        self._frequency = np.diff(bm25.scores["indptr"]) if self._vocabulary else np.zeros(0, dtype=np.int64)

    @classmethod
    def load(cls, folder: Path) -> LexicalIndex:
        """The index `save` wrote in `folder`, its arrays memory-mapped."""
        if (folder / WORDLESS).is_file():
            return cls(wordless=int(json.loads((folder / WORDLESS).read_text(encoding="utf-8"))["passages"]))
        if not (folder / "params.index.json").is_file():
            return cls()
        return cls(bm25=bm25s.BM25.load(folder, mmap=True, load_corpus=False))

    def save(self, folder: Path) -> None:
        """Write the index into `folder` (plain .npy arrays and JSON, no pickle)."""
        folder.mkdir(parents=True, exist_ok=True)
        if self._vocabulary:
            self._bm25.save(folder, show_progress=False)
        elif self._size:
            (folder / WORDLESS).write_text(json.dumps({"passages": self._size}), encoding="utf-8")

    def __len__(self) -> int:
        return self._size

    def terms(self, text: str) -> list[str]:
        """The stemmed, stop-word-free terms of `text` that BM25 matches on."""
        return self._tokenize([text])[0]

    def terms_many(self, texts: Sequence[str]) -> list[list[str]]:
        """`terms` of several texts in one pass."""
        if not texts:
            return []
        return self._tokenize(texts)

    def _tokenize(self, texts: Sequence[str], return_ids: bool = False) -> Any:
        """bm25s's tokens of `texts` (ids and vocabulary with `return_ids`, else the terms themselves)."""
        with self._lock:
            return bm25s.tokenize(list(texts), stopwords=STOP_WORDS, stemmer=self._stemmer, show_progress=False,
                                  return_ids=return_ids)

    def idf(self, term: str) -> float:
        """The term's inverse document frequency over the passages: log((N + 1) / (df + 0.5)); a term found
        nowhere weighs most."""
        if not self._size:
            return 0.0
        number = self._vocabulary.get(term)
        frequency = int(self._frequency[number]) if number is not None and number < len(self._frequency) else 0
        return math.log((self._size + 1) / (frequency + 0.5))

    def scores(self, query: str) -> np.ndarray:
        """One BM25 score per passage (zeros when no query term occurs in the corpus)."""
        if not self._size:
            return np.zeros(0, dtype=np.float32)
        known = [term for term in self.terms(query) if term in self._vocabulary]
        if not known:
            return np.zeros(self._size, dtype=np.float32)
        return np.asarray(self._bm25.get_scores(known), dtype=np.float32)
