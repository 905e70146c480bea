"""Compose a short extractive answer from retrieved passages, each sentence quoted and cited, or abstain."""

from __future__ import annotations

import logging
import math
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from .coverage import joined, soft_coverage
from .embedding import WordVectors
from .passages import Span
from .records import Answer, AnswerCitation, AnswerSentence, Citation, Hit
from .retriever import check_question

if TYPE_CHECKING:
    from .retriever import Retriever

log = logging.getLogger(__name__)

NO_ANSWER = "The articles don't say."
PASSAGES, CLOSEST = 8, 3  # passages searched for sentences; passages shown when abstaining
MIN_WORDS = 4  # shorter lines are labels, not answers
# relevance = cosine(sentence, question) + OVERLAP * the idf-weighted share of the question's terms it holds;
# rank score = relevance + COVERAGE * its soft_coverage of the question's words (lifted the gold sentence to the
# top from 0.65 to 0.71 of the seed questions and from 0.75 to 0.79 of SQuAD's) + PASSAGE * its passage's
# retrieval score scaled to 0..1 over the hits (whatever the retriever's scale) + KIND if it holds what the
# question asks for (a year, a date, a number, a name) beyond the question's own words.
OVERLAP, COVERAGE, PASSAGE, KIND = 0.5, 0.5, 0.05, 0.2
COVERED = 12  # sentences whose coverage is weighed: those ranking best without it
# Abstention. Best relevance below THRESHOLD: the question is not about the articles. Otherwise the articles
# answer it when Evidence.support, logistic(COVERAGE_WEIGHT * coverage + STANDOUT_WEIGHT * standout + SUPPORT_BIAS),
# reaches MIN_SUPPORT. Fitted on two sets at once, weighted equally (bench/calibrate_abstention.py): the seed
# eval set, and SQuAD dev with a quarter of its paragraphs held out so that their questions are unanswerable
# but on topic. The fit's probability is the answer's `confidence`.
THRESHOLD = 0.40
COVERAGE_WEIGHT, STANDOUT_WEIGHT, SUPPORT_BIAS, MIN_SUPPORT = 2.51, 0.34, -0.99, 0.525
MARGIN = 0.15  # a 2nd or 3rd sentence must rank within this of the best
DUPLICATE, NOVELTY = 0.9, 0.8  # cosines from which a sentence repeats / adds nothing to a chosen one
POINTING = re.compile(r"\b(?:he|him|his|she|her|its?|they|them|their|there|that|this|those|these)\b", re.I)
_MONTH = re.compile(r"(?:jan|febr)uary|march|april|may|june|july|august|(?:sept|nov|dec)ember|october", re.I)
_NUMBER = re.compile(r"\d[\d,.]*|(?:two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|twenty|thirty|forty"
                     r"|fifty|dozens?|hundreds?|thousands?|millions?|billions?)", re.I)
KINDS = (  # what a question asks for, by its wording
    ("year", re.compile(r"\b(?:what|which)\s+(?:\w+\s+)?year\b")),
    ("date", re.compile(r"\bwhen\b|\b(?:what|which)\s+(?:date|day|month)\b")),
    ("number", re.compile(r"\bhow\s+(?:many|much|old|long|far)\b")),
    ("names", re.compile(r"\b(?:which|what)\s+(?:\w+\s+){0,2}?(?:countries|cities|states|nations|capitals"
                         r"|provinces)\b")),
    ("name", re.compile(r"\bwho(?:m|se)?\b|\bwhere\b|\bwhich\s+(?:\w+\s+){0,2}?(?:city|country|province|town|place"
                        r"|state|person|official|minister|spokes\w+|commander|lawmaker|congressman|chief)\b")),
)
POINTS_BACK = re.compile(r"[\"'“‘(]*(?:They|These|Those|It|This|He|She|Such|Both)\b")
_LIST = re.compile(r"[A-Z][\w-]+(?:(?:,\s*|,?\s+and\s+)[A-Z][\w-]+)+")
_YEAR = re.compile(r"(?:1[89]|20)\d\d")


@dataclass(frozen=True, slots=True)
class Candidate:
    """A sentence of a retrieved passage, and how well it answers the question."""

    text: str
    citation: Citation  # the sentence's own span
    passage: Citation
    score: float  # ranks the sentences
    relevance: float = 0.0  # decides abstention
    terms: frozenset[str] = frozenset()
    lead: int | None = None  # the candidate just before, when this one points back to it ("They are ...")


@dataclass(frozen=True, slots=True)
class Choice:
    """A sentence picked for the answer, with the same sentence found in other articles."""

    candidate: Candidate
    also: tuple[Citation, ...] = ()


@dataclass(frozen=True, slots=True)
class Evidence:
    """What decides between answering and abstaining, for one question."""

    relevance: float  # the best sentence's relevance: low means the question is not about the articles
    coverage: float  # soft_coverage of the question by the passage of the leading sentence
    standout: float  # the top passage's lead over the second, in standard deviations of all passages' scores
    # A follow-up that leans on the conversation ("And what did he ask of him?") carries the topic of an earlier
    # question, and its own words are mostly pronouns: only the off-topic test applies to it.
    follow_up: bool = False

    @property
    def support(self) -> float:
        """The estimated chance, in 0..1, that the articles answer the question."""
        return 1.0 / (1.0 + math.exp(-(COVERAGE_WEIGHT * self.coverage + STANDOUT_WEIGHT * self.standout
                                       + SUPPORT_BIAS)))

    @property
    def on_topic(self) -> bool:
        return self.relevance >= THRESHOLD

    @property
    def answers(self) -> bool:
        return self.on_topic and (self.follow_up or self.support >= MIN_SUPPORT)

    @property
    def confidence(self) -> float:
        """The answer's confidence: its support, or 0 for a question that is not about the articles."""
        return self.support if self.on_topic else 0.0


@dataclass(frozen=True, slots=True)
class Gathered:
    """The retrieved passages for a question, their scored sentences and the evidence they give."""

    hits: list[Hit]
    candidates: list[Candidate]
    similarity: np.ndarray  # the candidates' cosines to one another
    evidence: Evidence


def compose_answer(retriever: Retriever, question: str, history: Iterable[Any] | None = None) -> Answer:
    """A 1-3 sentence answer quoted from the articles with numbered citations, or an abstention.

    `history` holds the earlier turns, oldest first: Answers, question strings or (question, answer) pairs.
    """
    question = check_question(question)
    found = gather(retriever, question, history)
    confidence = found.evidence.confidence
    if not found.evidence.answers:
        return Answer(question, NO_ANSWER, (), (), True, confidence, tuple(found.hits[:CLOSEST]))
    choices = select_sentences(found.candidates, found.similarity, margin=MARGIN)
    text, sentences, citations = number_choices(reading_order(choices))
    return Answer(question, text, sentences, citations, False, confidence)


def gather(retriever: Retriever, question: str, history: Iterable[Any] | None = None) -> Gathered:
    """Retrieve for `question` (widened by the conversation when it leans on it), score the sentences of the
    top passages and weigh the evidence."""
    context = context_questions(question, history_questions(history), retriever._lexical.terms)
    scores = retriever.score_many([" ".join([*context, question])])[0]
    hits = retriever._hits(scores, PASSAGES)
    scored = score_candidates(retriever, question, context, hits)
    candidates = scored.candidates
    if not candidates:
        return Gathered(hits, [], np.zeros((0, 0), dtype=np.float32), Evidence(0.0, 0.0, 0.0))
    coverage = max(soft_coverage(asked, scored.passage, scored.weights.__getitem__) for asked in scored.asked)
    evidence = Evidence(max(c.relevance for c in candidates), coverage, standout(scores), bool(context))
    return Gathered(hits, candidates, scored.vectors @ scored.vectors.T, evidence)


def standout(scores: np.ndarray) -> float:
    """How far the best score stands above the second best, in standard deviations of all the scores."""
    if len(scores) < 2:
        return 0.0
    first, second = np.partition(scores, len(scores) - 2)[-2:][::-1]
    spread = float(np.std(scores))
    return float(first - second) / spread if spread > 0 else 0.0


def word_weights(retriever: Retriever, texts: Iterable[WordVectors]) -> dict[str, float]:
    """Each word of `texts` with its weight for soft_coverage: the inverse document frequency of its term, 0 for
    stop words and punctuation (words with no term)."""
    words = list(dict.fromkeys(word for text in texts for word in text.words))
    lexical = retriever._lexical
    return {word: lexical.idf(terms[0]) if terms else 0.0 for word, terms in zip(words, lexical.terms_many(words))}


# --- follow-ups ---------------------------------------------------------------------------------------------


def history_questions(history: Iterable[Any] | None) -> list[str]:
    """The questions of earlier turns given as Answers, strings, (question, answer) pairs or mappings."""
    questions = []
    for turn in history or ():
        question = (turn.question if isinstance(turn, Answer) else turn if isinstance(turn, str)
                    else turn.get("question") if isinstance(turn, Mapping)
                    else turn[0] if isinstance(turn, (tuple, list)) and turn else None)
        if isinstance(question, str) and question.strip():
            questions.append(question.strip())
        else:
            log.debug("ignored a history turn without a question: %r", turn)
    return questions


def leans_on_context(question: str, terms: Callable[[str], list[str]]) -> bool:
    """Whether a question points back (he, it, there, that ...) or is too short to stand alone."""
    return bool(POINTING.search(question)) or len(terms(question)) <= 2


def context_questions(question: str, history: Sequence[str], terms: Callable[[str], list[str]]) -> list[str]:
    """The earlier questions (oldest first, at most 3) that a follow-up leans on: the last one, and the one
    before each question that itself leans on context; none for a question that stands alone.
    (Adding words of earlier answers was tried: on the eval set's follow-ups it hurt.)"""
    context: list[str] = []
    current = question
    for previous in reversed(history[-3:]):
        if not leans_on_context(current, terms):
            break
        context.insert(0, previous)
        current = previous
    return context


# --- candidates and their scores -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Scored:
    """The sentences of the top passages as candidates, with their vectors and words."""

    candidates: list[Candidate]
    vectors: np.ndarray  # one unit vector per candidate
    asked: list[WordVectors]  # the question's words, and the widened question's for a follow-up
    passage: WordVectors  # the words of the passage of the sentence that ranks best before coverage
    weights: dict[str, float]  # word_weights of all these words


def score_candidates(retriever: Retriever, question: str, context: Sequence[str], hits: Sequence[Hit]) -> Scored:
    """The sentences of the hits (headlines and labels left out), scored."""
    found: list[tuple[str, Citation, Hit, int | None]] = []  # text, span, passage, lead
    stored: list[np.ndarray] = []
    for hit in hits:
        spans, vectors = retriever.passage_sentences(hit.citation)
        article = retriever.article(hit.citation.doc_id)
        texts = [article.text[s.start : s.end] for s in spans]
        keep = [i for i, text in enumerate(texts) if len(text.split()) >= MIN_WORDS and text != article.title]
        for i in keep:
            lead = len(found) - 1 if i - 1 in keep and POINTS_BACK.match(texts[i]) else None
            found.append((texts[i], _narrowed(hit.citation, spans[i]), hit, lead))
        stored.append(vectors[keep])
    if not found:
        return Scored([], np.zeros((0, 0), dtype=np.float32), [], joined([]), {})
    queries = [question, " ".join([*context, question])] if context else [question]
    # The index keeps every sentence's vector: only the queries need encoding.
    vectors = np.vstack([retriever.embedder.encode(queries), *stored])
    sentences, asked = vectors[len(queries) :], vectors[: len(queries)]
    # A sentence that points back ("They are Qatar, ...") is read with the one before it, which it brings along.
    read = np.array([sentences[i] + (sentences[lead] if lead is not None else 0) for i, (*_, lead) in
                     enumerate(found)])
    read /= np.maximum(np.linalg.norm(read, axis=1, keepdims=True), 1e-9)
    # A follow-up's sentence ranks by the mean of its cosines to the follow-up and to the widened question,
    # and is as relevant as the better of the two.
    cosines = np.maximum(sentences @ asked.T, read @ asked.T)
    terms = retriever._lexical.terms
    weights = term_weights(terms(queries[-1]), retriever._lexical.idf)
    kind = expected_kind(question)
    held = [frozenset(found_terms) for found_terms in retriever._lexical.terms_many([text for text, *_ in found])]
    low, high = min(h.score for h in hits), max(h.score for h in hits)
    scores = []
    for (text, _, hit, lead), cosine, own in zip(found, cosines, held):
        shared = OVERLAP * overlap(weights, own | (held[lead] if lead is not None else frozenset()))
        standing = (hit.score - low) / (high - low) if high > low else 1.0
        scores.append((float(cosine.mean()) + shared + PASSAGE * standing + KIND * holds_kind(kind, text, question),
                       float(cosine.max()) + shared))
    # Word vectors cost a pass of the model over each sentence: only the leading sentences get them, and the
    # best sentence's passage-mates (for Evidence.coverage).
    leading = sorted(range(len(found)), key=lambda i: -scores[i][0])[:COVERED]
    best_passage = found[leading[0]][2].citation
    chosen = sorted(set(leading) | {i for i, (*_, hit, _) in enumerate(found) if hit.citation == best_passage})
    words = retriever.embedder.word_vectors([*queries, *(found[i][0] for i in chosen)])
    asked_words, said = words[: len(queries)], dict(zip(chosen, words[len(queries) :]))
    weight = word_weights(retriever, words)
    candidates = []
    for i, ((text, citation, hit, lead), own, (score, relevance)) in enumerate(zip(found, held, scores)):
        if i in leading:
            score += COVERAGE * max(soft_coverage(asked, said[i], weight.__getitem__) for asked in asked_words)
        candidates.append(Candidate(text, citation, hit.citation, score, relevance, own, lead))
    passage = joined([said[i] for i in chosen if found[i][2].citation == best_passage])
    return Scored(candidates, sentences, asked_words, passage, weight)


def _narrowed(passage: Citation, span: Span) -> Citation:
    return Citation(passage.doc_id, passage.title, passage.path, span.start, span.end)


def term_weights(terms: Iterable[str], idf: Callable[[str], float]) -> dict[str, float]:
    """Each distinct term's inverse document frequency over the passages (LexicalIndex.idf)."""
    return {term: idf(term) for term in dict.fromkeys(terms)}


def overlap(weights: Mapping[str, float], held: frozenset[str]) -> float:
    """The weighted share of the question's terms that a sentence holds."""
    total = sum(weights.values())
    return sum(w for t, w in weights.items() if t in held) / total if total > 0 else 0.0


def expected_kind(question: str) -> str | None:
    """What the question asks for: "year", "date", "number", "name", or None."""
    lowered = question.lower()
    return next((kind for kind, pattern in KINDS if pattern.search(lowered)), None)


def holds_kind(kind: str | None, sentence: str, question: str) -> bool:
    """Whether the sentence holds something of the asked-for kind that the question does not."""
    asked = set(re.findall(r"\w+", question.lower()))
    words = [w for w in re.findall(r"\w[\w,.]*\w|\w", sentence) if w.lower() not in asked]
    if kind == "year":
        return any(_YEAR.fullmatch(w) for w in words)
    if kind == "date":
        return any(_MONTH.fullmatch(w) or _YEAR.fullmatch(w) for w in words)
    if kind == "number":
        return any(_NUMBER.fullmatch(w) for w in words)
    if kind == "names":  # a list: "Qatar, Pakistan and Norway"
        return any(sum(n.lower() not in asked for n in re.findall(r"[A-Z][\w-]+", m.group())) >= 2
                   for m in _LIST.finditer(sentence))
    if kind == "name":  # a capitalised word that does not start the sentence
        return any(w[0].isupper() for w in words if not sentence.startswith(w))
    return False


# --- selection and numbering: pure functions of the candidates -----------------------------------------------


def select_sentences(candidates: Sequence[Candidate], similarity: np.ndarray | None = None, *, limit: int = 3,
                     margin: float = MARGIN) -> list[Choice]:
    """The best-scoring sentence, then up to limit-1 more that score within `margin` of it and add news: not
    a near-repeat of a chosen one (`similarity`: candidates' cosine matrix) and at least two new terms.
    A sentence repeated (same words, or cosine >= DUPLICATE) is quoted once; its copies in other articles
    go to `also`."""
    keys = [" ".join(re.findall(r"\w+", c.text.lower())) for c in candidates]

    def near(i: int, j: int, level: float) -> bool:
        return keys[i] == keys[j] or (similarity is not None and similarity[i, j] >= level)

    order = sorted(range(len(candidates)), key=lambda i: -candidates[i].score)
    chosen: list[int] = []  # the picked sentences and the leads they bring along
    picked: list[int] = []
    for i in (i for i in order if i not in chosen):
        group = [j for j in (candidates[i].lead, i) if j is not None and j not in chosen]  # a lead comes along
        if chosen:
            if candidates[i].score < candidates[order[0]].score - margin:
                break
            known = frozenset().union(*(candidates[j].terms for j in chosen))
            if (len(picked) >= limit or any(near(i, j, NOVELTY) for j in chosen)
                    or len(candidates[i].terms - known) < 2):
                continue
        chosen.extend(group)
        picked.append(i)
    choices = []
    for i in chosen:
        copies: dict[str, Citation] = {}  # one per other article, best first
        for j in order:
            cited = candidates[j].citation
            if cited.doc_id != candidates[i].citation.doc_id and cited.doc_id not in copies and near(i, j, DUPLICATE):
                copies[cited.doc_id] = cited
        choices.append(Choice(candidates[i], tuple(copies.values())))
    return choices


def reading_order(choices: Sequence[Choice]) -> list[Choice]:
    """Articles in the order of their best sentence; one article's sentences in the order it has them."""
    first: dict[str, int] = {}
    for rank, choice in enumerate(choices):
        first.setdefault(choice.candidate.citation.doc_id, rank)
    return sorted(choices, key=lambda c: (first[c.candidate.citation.doc_id], c.candidate.citation.start))


def number_choices(choices: Sequence[Choice]) -> tuple[str, tuple[AnswerSentence, ...], tuple[AnswerCitation, ...]]:
    """The answer text ("sentence [1] sentence [2]"), its sentences and their citations, numbered 1.. in
    order of first use; a sentence quoted twice keeps its first number."""
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


# --- figures for the eval runner (qa eval) -------------------------------------------------------------------


def answer_figures(retriever: Retriever, questions: Sequence[Any],
                   progress: Callable[[int, int], None] | None = None) -> dict[str, float]:
    """Shares over eval questions (EvalQuestion records, or mappings with question/answers/history):
    unanswerable ones abstained on, answerable ones answered, answerable ones whose answer text holds a
    gold answer (case-insensitive), and, when there are follow-ups, that share for them with and without
    their history. `progress(done, total)` after each question."""
    def field(item: Any, name: str) -> Any:
        return (item.get(name) if isinstance(item, Mapping) else getattr(item, name, None)) or ()

    def holds_gold(item: Any, answer: Answer) -> bool:
        return any(gold.casefold() in answer.text.casefold() for gold in field(item, "answers"))

    def share(values: list[bool]) -> float:
        return sum(values) / len(values) if values else 0.0

    asked = []
    for question in questions:
        asked.append((question, retriever.ask(field(question, "question"), field(question, "history"))))
        if progress:
            progress(len(asked), len(questions))
    answerable = [(q, a) for q, a in asked if field(q, "answers")]
    unanswerable = [a for q, a in asked if not field(q, "answers")]
    followups = [(q, a) for q, a in answerable if field(q, "history")]
    figures = {
        "abstained_unanswerable": share([a.abstained for a in unanswerable]),
        "answered_answerable": share([not a.abstained for _, a in answerable]),
        "answer_holds_gold": share([holds_gold(q, a) for q, a in answerable]),
    }
    if followups:
        figures["followup_holds_gold"] = share([holds_gold(q, a) for q, a in followups])
        figures["followup_holds_gold_without_history"] = share(
            [holds_gold(q, retriever.ask(field(q, "question"))) for q, _ in followups])
    figures |= {"answerable_questions": len(answerable), "unanswerable_questions": len(unanswerable)}
    return figures
