"""The lexical side of retrieval: BM25 (bm25s) over stemmed words, English stop words removed."""

from __future__ import annotations

import logging
import math
import threading
from collections import Counter
from collections.abc import Sequence

import bm25s
import numpy as np
import Stemmer

# bm25s sets its own logger to DEBUG when imported, which would print index-building chatter wherever the
# application lets debug records through; put it back to the usual default.
logging.getLogger("bm25s").setLevel(logging.WARNING)


class LexicalIndex:
    """BM25 scores of every passage for a query; rebuilt in memory from the passage texts (it is fast)."""

    def __init__(self, texts: Sequence[str]) -> None:
        self._stemmer = Stemmer.Stemmer("english")
        self._lock = threading.Lock()  # PyStemmer objects are not safe to share between threads
        self._size = len(texts)
        self._bm25 = bm25s.BM25()
        if texts:
            tokens = bm25s.tokenize(list(texts), stopwords="en", stemmer=self._stemmer, show_progress=False)
            self._bm25.index(tokens, show_progress=False)
            self._vocabulary = set(self._bm25.vocab_dict)
            names = {number: term for term, number in tokens.vocab.items()}
            self._frequency = Counter(names[number] for ids in tokens.ids for number in set(ids))

    def __len__(self) -> int:
        return self._size

    def terms(self, text: str) -> list[str]:
        """The stemmed, stop-word-free terms of `text` that BM25 matches on."""
        with self._lock:
            return bm25s.tokenize([text], stopwords="en", stemmer=self._stemmer, show_progress=False,
                                  return_ids=False)[0]

    def terms_many(self, texts: Sequence[str]) -> list[list[str]]:
        """`terms` of several texts in one pass."""
        if not texts:
            return []
        with self._lock:
            return bm25s.tokenize(list(texts), stopwords="en", stemmer=self._stemmer, show_progress=False,
                                  return_ids=False)

    def idf(self, term: str) -> float:
        """The term's inverse document frequency over the passages: log((N + 1) / (df + 0.5)); a term found
        nowhere weighs most."""
        return math.log((self._size + 1) / (self._frequency.get(term, 0) + 0.5)) if self._size else 0.0

    def scores(self, query: str) -> np.ndarray:
        """One BM25 score per passage (zeros when no query term occurs in the corpus)."""
        if not self._size:
            return np.zeros(0, dtype=np.float32)
        known = [term for term in self.terms(query) if term in self._vocabulary]
        if not known:
            return np.zeros(self._size, dtype=np.float32)
        return np.asarray(self._bm25.get_scores(known), dtype=np.float32)
