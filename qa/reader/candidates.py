"""Candidates: the retrieved passages for a question and their sentences, each with its neighbours."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from ..question import MAX_QUESTION_CHARS
from ..records import Citation, Hit
from .params import ReaderParams

if TYPE_CHECKING:
    from ..retriever import Retriever

# A story's credits: kept in its text (they say who reported it), never quoted as an answer. "Reporting by ..."
# opens sentences of stories too ("Reporting by the AP found ..."): only a line of its own is a credit.
CREDIT = re.compile(r"^\W*(?:contributing|contributors?|additional reporting)\b", re.I)
LINE_CREDIT = re.compile(r"^\W*(?:with )?(?:reporting|writing|editing|compiled|written|edited) by\b", re.I)
SUBHEADING_WORDS = 12  # a line alone, this short and without closing punctuation, heads a section
_CLOSING = (".", "!", "?", ";", "…", '"', "'", "”", "’", ")", "]", "»")


@dataclass(frozen=True, slots=True)
class Sentence:
    """A sentence of a retrieved passage."""

    text: str
    citation: Citation  # the sentence's own span
    passage: Citation
    rank: int  # its passage's rank among the hits, 1-based
    position: int  # its place in the passage, 0-based
    quotable: bool  # see `quotable`
    previous: int | None  # index of the sentence before it in the same passage
    following: int | None  # index of the sentence after it in the same passage


@dataclass(frozen=True, slots=True)
class Pool:
    """What the later stages read: the question, the hits and the sentences of the top passages."""

    question: str
    query: str  # the question widened by the earlier questions it leans on
    context: tuple[str, ...]
    hits: tuple[Hit, ...]  # the top `params.depth` passages, best first
    sentences: tuple[Sentence, ...]
    vectors: np.ndarray  # the sentences' stored unit vectors, one row each

    @property
    def candidates(self) -> list[int]:
        """Indices of the sentences that may be quoted."""
        return [i for i, s in enumerate(self.sentences) if s.quotable]


def quotable(text: str, title: str, min_words: int, *, alone_on_its_line: bool = False) -> bool:
    """Whether a sentence may be quoted as an answer: long enough, not the headline, and not itself a question
    (news pages break stories up with questions, "What happened in the Challenger launch?", that restate the
    reader's question and answer nothing), nor a subheading ("Top 10 happiest countries", "What Jimmy Kimmel
    said about Charlie Kirk", "## Reaction"), which names a topic and states nothing. Such sentences are still
    read as their neighbours' context."""
    stripped = text.strip()
    if stripped.startswith("#"):  # a Markdown heading
        return False
    if CREDIT.match(stripped) or (alone_on_its_line and LINE_CREDIT.match(stripped)):
        return False  # who reported the story, not what happened: "Contributing: Anne Godlasky, USA TODAY"
    return (len(stripped.split()) >= min_words and stripped != title.strip()
            and not stripped.rstrip("\"'”’)]»").endswith("?")
            and not (alone_on_its_line and _is_subheading(stripped)))


def _is_subheading(line: str) -> bool:
    """A short line with no closing punctuation and no "label: value" colon (a fact sheet's "Population: 5.5
    million" and a schedule's "7:30: Shania Twain" state something)."""
    return len(line.split()) <= SUBHEADING_WORDS and ":" not in line and not line.endswith(_CLOSING)


def search_query(question: str, context: Sequence[str]) -> str:
    """The question with the earlier questions it leans on in front, oldest dropped first to fit the limit."""
    parts = list(context)
    while parts and len(" ".join([*parts, question])) > MAX_QUESTION_CHARS:
        parts.pop(0)
    return " ".join([*parts, question])


def gather(retriever: Retriever, question: str, context: Sequence[str], params: ReaderParams) -> Pool:
    """Search with the widened question and collect the sentences of the best `params.passages` passages."""
    query = search_query(question, context)
    hits = tuple(retriever.search(query, k=params.depth))
    sentences: list[Sentence] = []
    stored: list[np.ndarray] = []
    for hit in hits[: params.passages]:
        spans, vectors = retriever.passage_sentences(hit.citation)
        article = retriever.article(hit.citation.doc_id)
        first = len(sentences)
        for position, span in enumerate(spans):
            text = article.text[span.start : span.end]
            alone = article.text[span.start - 1 : span.start] in ("", "\n") and \
                article.text[span.end : span.end + 1] in ("", "\n", "\r")
            sentences.append(Sentence(
                text, hit.citation.at(span.start, span.end),  # keeps the article's date, outlet and url
                hit.citation, hit.rank, position,
                quotable(text, article.title, params.min_words, alone_on_its_line=alone),
                first + position - 1 if position else None,
                first + position + 1 if position + 1 < len(spans) else None))
        stored.append(np.asarray(vectors, dtype=np.float32))
    dimension = stored[0].shape[1] if stored else 0
    matrix = np.vstack(stored) if stored else np.zeros((0, dimension), dtype=np.float32)
    return Pool(question, query, tuple(context), hits, tuple(sentences), matrix)
