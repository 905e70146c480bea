"""The answer pipeline: question checks, follow-ups, candidates, scoring, abstention, composition."""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from ..question import check_question
from ..records import Answer
from .candidates import Pool, gather, search_query
from .compose import Choice, Writer, answer_order, number, reading_order, select, written
from .crossencoder import CrossEncoder, shared
from .features import ASKS_FOR_LIST, holds_list, question_basics, question_features, sentence_features
from .followup import about_last_answer, context_questions, follows_an_abstention, history_questions
from .params import ReaderParams, load_params
from .reading import PassageWords, read

if TYPE_CHECKING:
    from ..retriever import Retriever

log = logging.getLogger(__name__)

NO_ANSWER = "The articles don't say."
FOLLOWS_AN_ABSTENTION = "The question it follows up is not answered by them either."

# A judge tells how likely it is that the evidence answers the question, 0..1 (contract with qa/llm:
# ReadingModel.judge); `Combine` merges the learned probability with the judge's, which is None where the
# judge was not asked (the learned probability reached the reader's `judge_below`).
Judge = Callable[[str, Sequence[str]], float]
Combine = Callable[[float, "float | None"], float]


def _addresses_a_model(quotes: Iterable[str]) -> bool:
    """Whether any quote talks to a reading model (see qa/llm/prompts.py): then no model reads them."""
    from ..llm.prompts import reads_as_instructions  # light: no model

    return any(reads_as_instructions(quote) for quote in quotes)


def mean_logit(learned: float, judged: float | None) -> float:
    """The two probabilities' mean on the logit scale: neither can overrule a confident other alone."""
    if judged is None:
        return learned

    def logit(p: float) -> float:
        p = min(max(p, 1e-6), 1 - 1e-6)
        return math.log(p / (1 - p))

    return 1.0 / (1.0 + math.exp(-(logit(learned) + logit(judged)) / 2))


@dataclass(frozen=True, slots=True)
class Scoring:
    """What the scoring stage found for one question: the candidates and how likely each holds the answer,
    and how likely the articles answer the question at all."""

    pool: Pool
    features: dict[str, np.ndarray]  # sentence features, one value per sentence of the pool
    logits: np.ndarray  # the ranker's logit per sentence
    question: dict[str, float]  # question features
    probability: float  # the abstainer's P(the articles answer it)

    @property
    def probabilities(self) -> np.ndarray:
        return 1.0 / (1.0 + np.exp(-self.logits))


@dataclass(frozen=True)
class Reader:
    """Answers questions from a retriever's articles with quoted, cited sentences, or abstains.

    `judge` (optional) also weighs the chosen evidence, unless the learned probability reaches `judge_below`;
    `combine` merges its probability with the learned one and `threshold` (default: the fitted one) decides. `writer` (optional) adds own-words sentences that cite
    the quotes; the quotes always stay."""

    name: str = "extractive"
    params: ReaderParams = field(default_factory=load_params)
    judge: Judge | None = None
    writer: Writer | None = None
    combine: Combine = mean_logit
    judge_below: float = math.inf  # the learned probability from which the reader answers without the judge
    threshold: float | None = None
    parts: tuple[Any, ...] = ()  # objects behind judge/writer, asked for their `format_errors` count
    _words: PassageWords = field(default_factory=PassageWords, repr=False, compare=False)

    def answer(self, retriever: Retriever, question: str, history: Iterable[Any] | None = None) -> Answer:
        """A 1-2 sentence answer quoted from the articles with numbered citations, or an abstention.
        `history` holds the earlier turns, oldest first: Answers, question strings or (question, answer) pairs."""
        question = check_question(question)
        if follows_an_abstention(question, history, retriever.terms):  # nothing to read: show what search found
            context = context_questions(question, history_questions(history), retriever.terms)
            return Answer(question, f"{NO_ANSWER} {FOLLOWS_AN_ABSTENTION}", (), (), True, 0.0,
                          tuple(retriever.search(search_query(question, context), k=self.params.closest)),
                          reader=self.name)
        scoring = self.score(retriever, question, history)
        read_as = scoring.pool.question  # "Who said that?" is read with the quote it points at
        choices = self.choose(read_as, scoring)
        confidence, answers = self.decide(read_as, scoring, choices)
        if not answers:
            return Answer(question, abstention_text(retriever.unknown_words(question)), (), (), True, confidence,
                          scoring.pool.hits[: self.params.closest], reader=self.name)
        text, sentences, citations = number(answer_order(choices))
        writer = self.writer if self.writer is None or not _addresses_a_model(s.text for s in sentences) else None
        return Answer(question, text, sentences, citations, False, confidence,
                      written=written(writer, read_as, sentences), reader=self.name,
                      unsure=scoring.probability < self.params.unsure)

    def score(self, retriever: Retriever, question: str, history: Iterable[Any] | None = None) -> Scoring:
        """Follow-up resolution, candidates and scoring: the stages before any decision."""
        about = about_last_answer(question, history, retriever.terms)  # "Who said that?": that quote
        if about is not None and _addresses_a_model([about]):  # article text that talks to a model stays out
            about = None
        context = [] if about is not None else context_questions(question, history_questions(history), retriever.terms)
        pool = gather(retriever, about or question, context, self.params)
        if not pool.candidates:
            return Scoring(pool, {}, np.full(len(pool.sentences), -np.inf), {}, 0.0)
        reading = read(retriever, pool, self._words, self._cross_encoder(retriever))
        columns = sentence_features(pool, reading, self.params)
        logits = self.params.ranker.logits(self.params.ranker.select(columns))
        quotable = np.array([s.quotable for s in pool.sentences])
        logits[~quotable] = -np.inf
        row = question_features(question_basics(pool, reading), columns, logits, quotable)
        probability = float(self.params.abstainer.probabilities(self.params.abstainer.select(row))[0])
        return Scoring(pool, columns, logits, row, probability)

    def prepare(self, retriever: Retriever) -> None:
        """Load what reading needs now, not at the first question: the cross-encoder, where it is used."""
        cross = self._cross_encoder(retriever)
        if cross is not None:
            cross.load()

    def _cross_encoder(self, retriever: Retriever) -> CrossEncoder | None:
        """The cross-encoder, where the fitted models read its scores and it was fitted for this embedding model."""
        if not any("cross" in name for name in self.params.ranker.names + self.params.abstainer.names):
            return None
        source = retriever.embedder.source
        return shared(source.folder, source.fingerprint)

    def choose(self, question: str, scoring: Scoring) -> list[Choice]:
        """Composition: the one or two sentences to quote, before any decision to abstain."""
        pool = scoring.pool
        lists = [holds_list(s.text, question) for s in pool.sentences] if ASKS_FOR_LIST.search(question) else None
        return select(pool.sentences, scoring.probabilities, pool.vectors @ pool.vectors.T,
                      limit=self.params.max_sentences, second=self.params.second,
                      duplicate=self.params.duplicate, lists=lists)

    def decide(self, question: str, scoring: Scoring, choices: Sequence[Choice]) -> tuple[float, bool]:
        """Abstention: the chance that the articles answer the question (with the judge's view of the chosen
        evidence, when there is a judge), and whether it reaches the threshold."""
        if not choices:
            return 0.0, False
        probability = scoring.probability
        if self.judge is not None:
            quotes = evidence(scoring.pool, choices)
            if _addresses_a_model(quotes):
                # Article text that addresses a model could steer its verdict either way: the learned reader
                # decides alone, by its own threshold, as the extractive reader would.
                log.warning("a quote reads as instructions to a model, so the %s reader's model was not asked",
                            self.name)
                return probability, probability >= self.params.threshold
            judged = None
            if probability < self.judge_below:
                judged = float(self.judge(question, quotes))
            probability = self.combine(probability, judged)
        threshold = self.params.threshold if self.threshold is None else self.threshold
        return probability, probability >= threshold

    def format_errors(self) -> int:
        """How many outputs of the reading models behind this reader could not be read (0 without any)."""
        return sum(int(getattr(part, "format_errors", 0)) for part in self.parts)


def abstention_text(unknown: Sequence[str], most: int = 5) -> str:
    """NO_ANSWER, and the question's words that no article holds, when there are any: a misspelt name or a
    question in another language is then plain to see ("No article holds “Khalilzd”.")."""
    if not unknown:
        return NO_ANSWER
    quoted = [f"“{word}”" for word in unknown[:most]] + ([f"{len(unknown) - most} more"] if len(unknown) > most else [])
    listed = quoted[0] if len(quoted) == 1 else f"{', '.join(quoted[:-1])} or {quoted[-1]}"
    return f"{NO_ANSWER} No article holds {listed}."


def evidence(pool: Pool, choices: Sequence[Choice]) -> list[str]:
    """The chosen sentences as a judge reads them, in reading order: each with the sentence before it in its
    passage, unless that one is chosen too."""
    chosen = {choice.sentence.citation for choice in choices}
    texts = []
    for choice in reading_order(choices):
        before = choice.sentence.previous
        lead = pool.sentences[before] if before is not None else None
        texts.append(choice.sentence.text if lead is None or lead.citation in chosen
                     else f"{lead.text} {choice.sentence.text}")
    return texts
