"""Compose a short extractive answer from retrieved passages, each sentence cited, or abstain."""

from __future__ import annotations

import logging
import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from .passages import split_sentences
from .records import Answer, AnswerCitation, AnswerSentence, Citation, Hit
from .retriever import check_question

if TYPE_CHECKING:
    from .retriever import Retriever

log = logging.getLogger(__name__)

NO_ANSWER = "The articles don't say."
PASSAGES = 8  # passages searched for answer sentences
CLOSEST = 3  # passages shown when abstaining
MIN_WORDS = 4  # shorter "sentences" are headings and labels
# A sentence's score: cosine to the question, plus the idf-weighted share of question terms it holds,
# plus the retrieval score of its passage (hybrid scores lie in 0..1).
OVERLAP_WEIGHT = 0.35
PASSAGE_WEIGHT = 0.10
THRESHOLD = 0.55  # best score below which the articles are taken not to answer
CONFIDENCE_SCALE = 0.08  # how fast confidence rises around the threshold
EXTRA_MARGIN = 0.06  # a 2nd/3rd sentence must score within this of the best
DUPLICATE = 0.92  # cosine at or above which two sentences say the same thing
NOVELTY = 0.80  # cosine at or above which a sentence adds nothing to one already chosen
PRONOUNS = frozenset("he him his she her hers it its they them their theirs there that this those these".split())


@dataclass(frozen=True, slots=True)
class Candidate:
    """A sentence of a retrieved passage and how well it answers the question."""

    text: str
    citation: Citation  # the sentence's own span
    passage: Citation
    score: float
    terms: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class Choice:
    """A sentence picked for the answer, with its near-duplicates in other articles."""

    candidate: Candidate
    also: tuple[Citation, ...] = ()


def compose_answer(retriever: Retriever, question: str, history: Sequence[Any] | None = None) -> Answer:
    """A 1-3 sentence answer quoted from the articles with numbered citations, or an abstention."""
    question = check_question(question)
    context = context_query(question, turns(history), retriever._lexical.terms)
    hits = retriever.search(context or question, k=PASSAGES)
    candidates, vectors = score_candidates(retriever, question, context, hits)
    best = max((c.score for c in candidates), default=0.0)
    confidence = confidence_of(best)
    if confidence < 0.5:
        return Answer(question, NO_ANSWER, (), (), True, confidence, tuple(hits[:CLOSEST]))
    choices = select_sentences(candidates, vectors @ vectors.T)
    text, sentences, citations = number_choices(reading_order(choices))
    return Answer(question, text, sentences, citations, False, confidence)


def confidence_of(best: float) -> float:
    """Confidence in 0..1 from the best sentence score; 0.5 at the abstention threshold."""
    return 1.0 / (1.0 + math.exp(-(best - THRESHOLD) / CONFIDENCE_SCALE))


# --- follow-ups ---------------------------------------------------------------------------------------------


def turns(history: Sequence[Any] | None) -> list[tuple[str, str]]:
    """Earlier turns as (question, answer text): from strings, Answers, (question, answer) pairs or dicts."""
    result: list[tuple[str, str]] = []
    for item in history or ():
        if isinstance(item, Answer):
            result.append((item.question, "" if item.abstained else item.text))
        elif isinstance(item, str):
            result.append((item, ""))
        elif isinstance(item, Mapping):
            result.append((str(item.get("question", "")), str(item.get("answer", "") or "")))
        elif isinstance(item, (tuple, list)) and len(item) == 2:
            result.append((str(item[0]), str(item[1] or "")))
        else:
            log.debug("ignored a history item of type %s", type(item).__name__)
    return [(q.strip(), re.sub(r"\s*\[\d+\]", "", a).strip()) for q, a in result if q.strip()]


def context_query(question: str, history: Sequence[tuple[str, str]], terms: Callable[[str], list[str]]) -> str:
    """The question widened with the previous turn when it leans on it (pronouns, few terms), else ""."""
    if not history:
        return ""
    words = set(re.findall(r"[a-z]+", question.lower()))
    if not (words & PRONOUNS or len(terms(question)) <= 3):
        return ""
    previous_question, previous_answer = history[-1]
    wanted = set(terms(question)) | set(terms(previous_question))
    extra = [t for t in dict.fromkeys(terms(previous_answer)) if t not in wanted][:6]
    return " ".join([previous_question, question, *extra])


# --- candidates and scores -----------------------------------------------------------------------------------


def score_candidates(retriever: Retriever, question: str, context: str,
                     hits: Sequence[Hit]) -> tuple[list[Candidate], np.ndarray]:
    """Every sentence of the hits, scored; and their unit vectors (one batch encode with the question)."""
    spans: list[tuple[str, Citation, Hit]] = []
    for hit in hits:
        passage = hit.citation
        text = retriever.article(passage.doc_id).text
        for span in split_sentences(text, passage.start, passage.end):
            sentence = text[span.start : span.end]
            if len(sentence.split()) >= MIN_WORDS:
                cited = Citation(passage.doc_id, passage.title, passage.path, span.start, span.end)
                spans.append((sentence, cited, hit))
    if not spans:
        return [], np.zeros((0, 0), dtype=np.float32)
    queries = [question, context] if context else [question]
    vectors = retriever.embedder.encode(queries + [s for s, _, _ in spans])
    similarity = vectors[len(queries):] @ vectors[:len(queries)].T
    similarity = similarity.mean(axis=1) if context else similarity[:, 0]
    terms = retriever._lexical.terms
    weights = term_weights(terms(context or question), retriever._lexical.scores)
    candidates = []
    for (sentence, cited, hit), cosine in zip(spans, similarity):
        held = frozenset(terms(sentence))
        score = float(cosine) + OVERLAP_WEIGHT * overlap(weights, held) + PASSAGE_WEIGHT * hit.score
        candidates.append(Candidate(sentence, cited, hit.citation, score, held))
    return candidates, vectors[len(queries):]


def term_weights(terms: Sequence[str], scores: Callable[[str], np.ndarray]) -> dict[str, float]:
    """Inverse document frequency of each question term over the passages (terms absent weigh most)."""
    weights = {}
    for term in dict.fromkeys(terms):
        row = scores(term)
        weights[term] = math.log((len(row) + 1) / (np.count_nonzero(row) + 0.5))
    return weights


def overlap(weights: Mapping[str, float], held: frozenset[str]) -> float:
    """The weighted share of the question's terms that a sentence holds."""
    total = sum(weights.values())
    return sum(w for t, w in weights.items() if t in held) / total if total > 0 else 0.0


# --- selection and numbering (pure) --------------------------------------------------------------------------


def normalized(text: str) -> str:
    return " ".join(re.findall(r"\w+", text.lower()))


def select_sentences(candidates: Sequence[Candidate], similarity: np.ndarray | None = None, *, limit: int = 3,
                     margin: float = EXTRA_MARGIN) -> list[Choice]:
    """The best sentence, plus up to limit-1 more that score within `margin` of it and add something new;
    a near-duplicate of a chosen sentence is dropped, and listed in `also` when in another article."""
    keys = [normalized(c.text) for c in candidates]

    def near(i: int, j: int, level: float) -> bool:
        return keys[i] == keys[j] or (similarity is not None and similarity[i, j] >= level)

    order = sorted(range(len(candidates)), key=lambda i: -candidates[i].score)
    chosen: list[int] = []
    used: set[int] = set()
    for i in order:
        if i in used:
            continue
        if chosen:
            if len(chosen) >= limit or candidates[i].score < candidates[chosen[0]].score - margin:
                break
            known = frozenset().union(*(candidates[j].terms for j in chosen))
            if any(near(i, j, NOVELTY) for j in chosen) or len(candidates[i].terms - known) < 2:
                continue
        chosen.append(i)
        used.update(j for j in range(len(candidates)) if near(i, j, DUPLICATE))
    choices = []
    for i in chosen:
        doc = candidates[i].citation.doc_id
        others: dict[str, Citation] = {}
        for j in order:
            other = candidates[j].citation
            if j != i and other.doc_id != doc and other.doc_id not in others and near(i, j, DUPLICATE):
                others[other.doc_id] = other
        choices.append(Choice(candidates[i], tuple(others.values())))
    return choices


def reading_order(choices: Sequence[Choice]) -> list[Choice]:
    """Articles in the order of their best sentence; sentences of one article in the article's order."""
    first = {}
    for rank, choice in enumerate(choices):
        first.setdefault(choice.candidate.citation.doc_id, rank)
    return sorted(choices, key=lambda c: (first[c.candidate.citation.doc_id], c.candidate.citation.start))


def number_choices(choices: Sequence[Choice]) -> tuple[str, tuple[AnswerSentence, ...], tuple[AnswerCitation, ...]]:
    """The answer text, its sentences and their citations, numbered 1.. in order of first use."""
    numbers: dict[Citation, int] = {}
    sentences: list[AnswerSentence] = []
    citations: list[AnswerCitation] = []
    for choice in choices:
        cited = choice.candidate.citation
        if cited not in numbers:
            numbers[cited] = len(numbers) + 1
            citations.append(AnswerCitation(numbers[cited], cited, choice.candidate.passage, choice.also))
        sentences.append(AnswerSentence(choice.candidate.text, numbers[cited]))
    text = " ".join(f"{s.text} [{s.number}]" for s in sentences)
    return text, tuple(sentences), tuple(citations)
