"""Reading: the model's word vectors of the question and of the top passages, weighted by term rarity."""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import TYPE_CHECKING

import numpy as np

from ..embedding import WordVectors
from .candidates import Pool
from .crossencoder import CrossEncoder, CrossScores
from .features import Reading, Words

if TYPE_CHECKING:
    from ..retriever import Retriever

CACHED_PASSAGES = 512  # passages whose word vectors are kept: a conversation keeps returning to the same ones


class PassageWords:
    """Word vectors of passages, read once each (a pass of the model over the passage) and kept a while."""

    def __init__(self, size: int = CACHED_PASSAGES) -> None:
        self._size = size
        self._kept: OrderedDict[tuple[int, str], WordVectors] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, retriever: Retriever, texts: list[str]) -> list[WordVectors]:
        owner = id(retriever.embedder)
        with self._lock:  # one reader at a time: the model itself reads one batch at a time anyway
            missing = list(dict.fromkeys(t for t in texts if (owner, t) not in self._kept))
            if missing:
                self._kept.update(((owner, t), w) for t, w in zip(missing, retriever.embedder.word_vectors(missing)))
            found = []
            for text in texts:
                self._kept.move_to_end((owner, text))
                found.append(self._kept[(owner, text)])
            while len(self._kept) > self._size:
                self._kept.popitem(last=False)
        return found


def weights_of(retriever: Retriever, words: list[str]) -> np.ndarray:
    """Each word's inverse document frequency (of its BM25 term); 0 for stop words and punctuation."""
    if not words:
        return np.zeros(0, dtype=np.float32)
    return np.array([retriever.idf(terms[0]) if terms else 0.0 for terms in retriever.terms_many(words)],
                    dtype=np.float32)


def content(words: WordVectors, weights: np.ndarray, keep: np.ndarray | None = None) -> Words:
    """The content words (weight > 0) of `words`, optionally only those flagged in `keep`."""
    mask = weights > 0 if keep is None else (weights > 0) & keep
    vectors = words.vectors[mask] if len(words.spans) else words.vectors
    return Words(np.asarray(vectors, dtype=np.float32), weights[mask] if len(words.spans) else weights[:0])


def read(retriever: Retriever, pool: Pool, cache: PassageWords, cross: CrossEncoder | None = None) -> Reading:
    """Encode the question, read the top passages word by word and weigh every word by its rarity.

    A follow-up's earlier questions only decide where to look (the passages were found with the widened
    query); the sentences are read against the question itself, as the ranker was fitted. Reading them against
    the widened query favoured the sentence that answered the earlier question: on the seed set's 15
    follow-ups the answer held the gold one for 8 that way and for 13 this way."""
    query_vectors = retriever.embedder.encode([pool.question])
    passages: dict[int, tuple[int, str]] = {}  # rank -> (start in the article, text)
    for sentence in pool.sentences:
        if sentence.rank not in passages:
            cited = sentence.passage
            passages[sentence.rank] = (cited.start, retriever.article(cited.doc_id).text[cited.start : cited.end])
    ranks = list(passages)
    passage_vectors = cache.get(retriever, [passages[r][1] for r in ranks])
    (question,) = retriever.embedder.word_vectors([pool.question])
    every = list(dict.fromkeys(w for text in [question, *passage_vectors] for w in text.words))
    weight = dict(zip(every, weights_of(retriever, every).tolist()))

    def weighed(words: WordVectors) -> np.ndarray:
        return np.array([weight[w] for w in words.words], dtype=np.float32)

    passage_words: dict[int, Words] = {}
    by_rank: dict[int, tuple[WordVectors, np.ndarray, np.ndarray]] = {}
    for rank, words in zip(ranks, passage_vectors):
        weights = weighed(words)
        starts = np.array([a for a, _ in words.spans], dtype=np.int64) + passages[rank][0]
        by_rank[rank] = (words, weights, starts)
        passage_words[rank] = content(words, weights)
    sentence_words = []
    for sentence in pool.sentences:
        words, weights, starts = by_rank[sentence.rank]
        inside = (starts >= sentence.citation.start) & (starts < sentence.citation.end)
        sentence_words.append(content(words, weights, inside))
    question_terms = {t: retriever.idf(t) for t in dict.fromkeys(retriever.terms(pool.question))}
    sentence_terms = [frozenset(t) for t in retriever.terms_many([s.text for s in pool.sentences])]
    none = np.zeros(len(pool.sentences), dtype=np.float32)
    before = [pool.sentences[s.previous].text if s.previous is not None else "" for s in pool.sentences]
    scores = (cross.scores(pool.question, [s.text for s in pool.sentences], before) if cross is not None
              else CrossScores(none, none))
    return Reading(np.atleast_2d(query_vectors), content(question, weighed(question)), question_terms,
                   sentence_terms, sentence_words, passage_words, scores.logits, scores.spans)
