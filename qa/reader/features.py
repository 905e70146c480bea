"""Features of each candidate sentence read in its passage, and of the question as a whole.

Everything here is plain numpy over what `reading.read` gathered, so tests can feed it small made-up inputs.
"""

from __future__ import annotations

import re
from collections.abc import Hashable, Sequence
from dataclasses import dataclass

import numpy as np

from .candidates import Pool
from .params import ReaderParams

# What a question asks for, by its wording, and what a sentence holds. These only *describe*: the fitted
# weights decide how much each pairing counts.
ASKS = {
    "who": re.compile(r"\bwho(?:m|se)?\b", re.I),
    "where": re.compile(r"\bwhere\b", re.I),
    "when": re.compile(r"\bwhen\b|\b(?:what|which)\s+(?:date|day|month|time)\b", re.I),
    "year": re.compile(r"\b(?:what|which)\s+(?:\w+\s+)?year\b", re.I),
    "number": re.compile(r"\bhow\s+(?:many|much|old|long|far|large|big)\b|\bwhat\s+(?:percentage|number)\b", re.I),
    "which": re.compile(r"\b(?:which|what)\s+\w+", re.I),
    "why": re.compile(r"\bwhy\b", re.I),
}
_YEAR = re.compile(r"\b(?:1[0-9]|20)\d\d\b")
_MONTH = re.compile(r"\b(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\b", re.I)
_NUMBER = re.compile(r"\d|\b(?:two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|twenty|thirty|forty"
                     r"|fifty|hundreds?|thousands?|millions?|billions?|dozens?)\b", re.I)
_NAME = re.compile(r"(?<!^)(?<![.!?]\s)\b[A-Z][\w'-]+")
_CAPITALISED = re.compile(r"\b[A-Z][\w'’-]+")
_DIGITS = re.compile(r"\d+(?:[.,]\d+)*")
# A question mentioning several things ("Which five countries ...?", "... from five bases?") and a sentence
# holding a list of names. The ranker was fitted with ASKS_LIST; composition asks the narrower ASKS_FOR_LIST:
# whether the things counted are what the question asks for, right after its "which"/"what" ("Since when ...
# from five bases?" is not answered by a list).
_COUNT = r"(?:two|three|four|five|six|seven|eight|nine|ten|several|\d+)"
_KINDS = r"(?:countries|cities|states|nations|provinces|teams|members|companies|groups|languages)"
ASKS_FOR_LIST = re.compile(rf"\b(?:which|what|name|list)\s+(?:(?:are|were)\s+)?(?:the\s+|all\s+)?"
                           rf"(?:{_COUNT}\s+(?:\w+\s+)?\w+s\b|(?:\w+\s+)?{_KINDS}\b)", re.I)
ASKS_LIST = re.compile(rf"\b{_COUNT}\s+(?:\w+\s+)?\w+s\b|\b(?:which|what)\s+(?:\w+\s+)?{_KINDS}\b", re.I)
_LIST = re.compile(r"[A-Z][\w-]+(?:(?:,\s*|,?\s+and\s+(?:of course\s+)?)[A-Z][\w-]+)+")
POINTS_BACK = re.compile(r"[\"'“‘(]*(?:They|These|Those|It|This|He|She|Such|Both|Their|His|Her)\b")

BASE_FEATURES = (
    "cosine", "cosine_previous", "cosine_next", "terms", "terms_previous", "terms_next",
    "kernel_1", "kernel_2", "kernel_3", "kernel_4", "kernel_5",
    "coverage", "coverage_previous", "coverage_next", "coverage_window", "unmatched_window", "unmatched_passage",
    "novelty", "holds_name", "holds_number", "holds_year", "holds_date",
    "who_name", "where_name", "when_date", "year_year", "number_number", "which_name",
    "first_in_passage", "log_words", "points_back", "inverse_rank", "passage_z", "top_passage",
    "rarest_unmatched", "cross", "cross_previous", "cross_next", "span",
)
CROSS_FEATURES = ("cross", "cross_previous", "cross_next", "span")  # the cross-encoder's, of BASE_FEATURES
# Features computed from the others: an answer often follows the sentence that restates the question
# ("... a series of five countries. They are Qatar, Pakistan, ...").
# A number the question names ("the 2024 Daytona 500") that its article or passage never writes is strong evidence
# against an answer, and word vectors cannot see it: "2024" and "1967" are close neighbours.
DERIVED_FEATURES = ("kind_match", "answers_previous", "previous_closer", "continues_previous", "list_match",
                    "numbers_unmatched_article", "numbers_unmatched_passage", "names_unmatched_article", "names_unmatched_passage")
SENTENCE_FEATURES = BASE_FEATURES + DERIVED_FEATURES
CROSS_NONE = -8.0  # the cross-encoder's logit where there is no sentence to read (a very unlikely answer)
KIND_PAIRS = ("who_name", "where_name", "when_date", "year_year", "number_number", "which_name")
QUESTION_FEATURES = (
    "best_logit", "margin", "best_cosine", "best_terms", "best_coverage_window", "best_unmatched_window",
    "best_unmatched_passage", "best_rarest_unmatched", "most_cosine", "most_terms", "standout", "top_z",
    "log_question_terms", "follow_up", "best_cross", "most_cross", "best_span", "most_span",
    "best_numbers_unmatched", "best_names_unmatched",
)


@dataclass(frozen=True, slots=True)
class Words:
    """Unit vectors of a text's content words (one row each) and their weights (inverse document frequency)."""

    vectors: np.ndarray
    weights: np.ndarray

    @classmethod
    def empty(cls, dimension: int) -> Words:
        return cls(np.zeros((0, dimension), dtype=np.float32), np.zeros(0, dtype=np.float32))

    def __add__(self, other: Words) -> Words:
        return Words(np.vstack([self.vectors, other.vectors]), np.concatenate([self.weights, other.weights]))


@dataclass(frozen=True, slots=True)
class Reading:
    """The model's reading of a question and its candidate sentences."""

    query: np.ndarray  # the question's unit vector, as one row
    question: Words  # the question's content words (of the widened question for a follow-up)
    question_terms: dict[str, float]  # its BM25 terms and their idf
    sentence_terms: list[frozenset[str]]  # per sentence of the pool
    sentence_words: list[Words]  # per sentence of the pool
    passage_words: dict[int, Words]  # per passage rank
    cross: np.ndarray  # per sentence of the pool: the cross-encoder's logit (zeros without one)
    span: np.ndarray  # per sentence of the pool: the cross-encoder's span margin (zeros without one)


# --- word-level measures ------------------------------------------------------------------------------------


def kernel_pool(question: Words, text: Words, centres: Sequence[float], width: float) -> np.ndarray:
    """K-NRM kernel pooling: for each centre, the weighted mean over the question's words of
    log(1 + the soft count of the text's words whose cosine to it lies near the centre)."""
    if not len(question.weights) or not len(text.weights) or question.weights.sum() <= 0:
        return np.zeros(len(centres))
    similarity = question.vectors @ text.vectors.T  # (question words, text words)
    counts = np.exp(-((similarity[..., None] - np.asarray(centres)) ** 2) / (2 * width**2)).sum(axis=1)
    return (question.weights[:, None] * np.log1p(counts)).sum(axis=0) / question.weights.sum()


def best_match(question: Words, text: Words) -> np.ndarray:
    """Each question word's best cosine to a word of the text (0 where the text has none)."""
    if not len(question.weights) or not len(text.weights):
        return np.zeros(len(question.weights))
    return (question.vectors @ text.vectors.T).max(axis=1)


def coverage(question: Words, text: Words) -> float:
    """The weighted mean of the question words' best cosines to the text."""
    total = question.weights.sum()
    return float((best_match(question, text) * question.weights).sum() / total) if total > 0 else 0.0


def unmatched(question: Words, text: Words, level: float) -> float:
    """The weighted share of the question's words that no word of the text comes near (cosine < level)."""
    total = question.weights.sum()
    return float(((best_match(question, text) < level) * question.weights).sum() / total) if total > 0 else 0.0


def term_share(weights: dict[str, float], held: frozenset[str]) -> float:
    """The idf-weighted share of the question's terms that a text holds."""
    total = sum(weights.values())
    return sum(w for t, w in weights.items() if t in held) / total if total > 0 else 0.0


def asks(question: str) -> dict[str, bool]:
    return {kind: bool(pattern.search(question)) for kind, pattern in ASKS.items()}


def holds(sentence: str, question: str) -> dict[str, bool]:
    """What a sentence holds beyond the question's own words: a name, a number, a year, a date."""
    asked = {w.lower() for w in re.findall(r"\w+", question)}
    fresh = " ".join(w for w in re.findall(r"[\w'-]+", sentence) if w.lower() not in asked)
    names = [m.group() for m in _NAME.finditer(sentence) if m.group().lower() not in asked]
    year = bool(_YEAR.search(fresh))
    return {"name": bool(names), "number": bool(_NUMBER.search(fresh)), "year": year,
            "date": year or bool(_MONTH.search(fresh))}


# --- features -------------------------------------------------------------------------------------------------


def sentence_features(pool: Pool, reading: Reading, params: ReaderParams) -> dict[str, np.ndarray]:
    """Each feature of SENTENCE_FEATURES, one value per sentence of the pool."""
    count = len(pool.sentences)
    columns = {name: np.zeros(count) for name in BASE_FEATURES}
    if not count:
        return derive(columns, [], pool.question, [])
    cosines = (pool.vectors @ reading.query.T).max(axis=1)
    dimension = reading.question.vectors.shape[1]
    scores = np.array([hit.score for hit in pool.hits])
    mean, spread = float(scores.mean()), float(scores.std()) or 1.0
    by_rank = {hit.rank: (hit.score - mean) / spread for hit in pool.hits}
    kind = asks(pool.question)
    question, level = reading.question, params.matched
    rarest = int(np.argmax(question.weights)) if len(question.weights) else None
    rarest_unmatched = {rank: float(rarest is None or best_match(
        Words(question.vectors[rarest : rarest + 1], question.weights[rarest : rarest + 1]), words)[0] < level)
        for rank, words in reading.passage_words.items()}
    for i, sentence in enumerate(pool.sentences):
        before, after = sentence.previous, sentence.following
        words = reading.sentence_words[i]
        previous = reading.sentence_words[before] if before is not None else Words.empty(dimension)
        following = reading.sentence_words[after] if after is not None else Words.empty(dimension)
        window = previous + words + following
        passage = reading.passage_words.get(sentence.rank, window)
        held = holds(sentence.text, pool.question)
        row = {
            "cosine": cosines[i],
            "cosine_previous": cosines[before] if before is not None else 0.0,
            "cosine_next": cosines[after] if after is not None else 0.0,
            "terms": term_share(reading.question_terms, reading.sentence_terms[i]),
            "terms_previous": term_share(reading.question_terms, reading.sentence_terms[before])
            if before is not None else 0.0,
            "terms_next": term_share(reading.question_terms, reading.sentence_terms[after])
            if after is not None else 0.0,
            **{f"kernel_{k + 1}": value for k, value in
               enumerate(kernel_pool(question, words, params.kernels, params.kernel_width))},
            "coverage": coverage(question, words),
            "coverage_previous": coverage(question, previous),
            "coverage_next": coverage(question, following),
            "coverage_window": coverage(question, window),
            "unmatched_window": unmatched(question, window, level),
            "unmatched_passage": unmatched(question, passage, level),
            "novelty": 1.0 - coverage(Words(words.vectors, words.weights), question) if len(words.weights) else 0.0,
            "holds_name": held["name"], "holds_number": held["number"], "holds_year": held["year"],
            "holds_date": held["date"],
            "who_name": kind["who"] and held["name"], "where_name": kind["where"] and held["name"],
            "when_date": kind["when"] and held["date"], "year_year": kind["year"] and held["year"],
            "number_number": kind["number"] and held["number"], "which_name": kind["which"] and held["name"],
            "first_in_passage": sentence.position == 0,
            "log_words": np.log1p(len(sentence.text.split())),
            "points_back": bool(POINTS_BACK.match(sentence.text)),
            "inverse_rank": 1.0 / sentence.rank,
            "passage_z": by_rank.get(sentence.rank, 0.0),
            "top_passage": sentence.rank == 1,
            "rarest_unmatched": rarest_unmatched.get(sentence.rank, 1.0),
            "cross": reading.cross[i],
            "cross_previous": reading.cross[before] if before is not None else CROSS_NONE,
            "cross_next": reading.cross[after] if after is not None else CROSS_NONE,
            "span": reading.span[i],
        }
        for name, value in row.items():
            columns[name][i] = float(value)
    return derive(columns, [s.text for s in pool.sentences], pool.question,
                  [(s.citation.doc_id, s.rank) for s in pool.sentences])


def holds_list(sentence: str, question: str) -> bool:
    """Whether the sentence lists two or more names that the question does not hold, the last joined by "and"
    ("Qatar, Pakistan and ...")."""
    asked = {w.lower() for w in re.findall(r"\w+", question)}
    return any(" and " in match.group()
               and sum(name.lower() not in asked for name in re.findall(r"[A-Z][\w-]+", match.group())) >= 2
               for match in _LIST.finditer(sentence))


def numbers_of(text: str) -> set[str]:
    """The numbers written in digits in `text`, without thousands separators ("150,000" and "150000" agree)."""
    return {match.replace(",", "") for match in _DIGITS.findall(text)}


def names_of(text: str, first: bool = True) -> set[str]:
    """The capitalised words of `text`, lower-cased, without "'s"; with `first` False, not a sentence's first word
    (a question's "Who", "What")."""
    return {re.sub(r"['’]s$", "", name).lower() for name in (_CAPITALISED if first else _NAME).findall(text)}


def unmatched_share(asked: set[str], found: Sequence[set[str]], groups: Sequence[Hashable]) -> np.ndarray:
    """Per sentence, the share of `asked` found in no sentence of its group (0 when nothing is asked)."""
    if not asked:
        return np.zeros(len(groups))
    held: dict[Hashable, set[str]] = {}
    for group, words in zip(groups, found, strict=True):
        held.setdefault(group, set()).update(words)
    return np.array([len(asked - held[group]) / len(asked) for group in groups])


def derive(columns: dict[str, np.ndarray], texts: Sequence[str], question: str,
           places: Sequence[tuple[str, int]]) -> dict[str, np.ndarray]:
    """`columns` (BASE_FEATURES) with DERIVED_FEATURES added, and a sentence that points back ("They are Qatar,
    ...") read together with the sentence before it, which it brings along when quoted: its cosine, term share
    and coverage are at least that sentence's (a lower bound of the pair's: the pair holds both). `places` are
    the sentences' (article, passage rank), for what the question names and an article or passage never does."""
    together = (columns["points_back"] > 0) & (columns["first_in_passage"] == 0)
    columns = dict(columns)
    for own, before in (("cosine", "cosine_previous"), ("terms", "terms_previous"),
                        ("coverage", "coverage_previous")):
        columns[own] = np.where(together, np.maximum(columns[own], columns[before]), columns[own])
    kind = np.max([columns[name] for name in KIND_PAIRS], axis=0)
    numbers, names, asked = [numbers_of(text) for text in texts], [names_of(text) for text in texts], names_of(
        question, first=False)
    articles = [doc for doc, _ in places]
    return columns | {"kind_match": kind, "answers_previous": kind * columns["coverage_previous"],
                      "previous_closer": np.maximum(0.0, columns["coverage_previous"] - columns["coverage"]),
                      "continues_previous": columns["points_back"] * columns["coverage_previous"],
                      "list_match": np.array([float(bool(ASKS_LIST.search(question)) and holds_list(text, question))
                                              for text in texts]).reshape(len(kind)),
                      "numbers_unmatched_article": unmatched_share(numbers_of(question), numbers, articles),
                      "numbers_unmatched_passage": unmatched_share(numbers_of(question), numbers, places),
                      "names_unmatched_article": unmatched_share(asked, names, articles),
                      "names_unmatched_passage": unmatched_share(asked, names, places)}


def question_basics(pool: Pool, reading: Reading | None) -> dict[str, float]:
    """The question features that do not depend on the ranker: how the top passage stands out among the hits,
    how many key words the question has, whether it is a follow-up."""
    scores = np.array([hit.score for hit in pool.hits]) if pool.hits else np.zeros(1)
    ordered = np.sort(scores)[::-1]
    spread = float(scores.std())
    weights = reading.question.weights if reading is not None else np.zeros(0)
    return {"standout": float(ordered[0] - ordered[1]) / spread if len(ordered) > 1 and spread > 0 else 0.0,
            "top_z": float(ordered[0] - scores.mean()) / spread if spread > 0 else 0.0,
            "follow_up": float(bool(pool.context)), "log_question_terms": float(np.log1p((weights > 0).sum()))}


def question_features(basics: dict[str, float], columns: dict[str, np.ndarray], logits: np.ndarray,
                      quotable: np.ndarray) -> dict[str, float]:
    """Each feature of QUESTION_FEATURES: `basics`, and how well the best candidates (by the ranker's `logits`,
    among the `quotable` sentences) meet the question."""
    candidates = np.flatnonzero(quotable)
    if not len(candidates):
        return {name: 0.0 for name in QUESTION_FEATURES} | basics | {
            "best_unmatched_window": 1.0, "best_unmatched_passage": 1.0, "best_rarest_unmatched": 1.0,
            "best_cross": CROSS_NONE, "most_cross": CROSS_NONE, "best_span": CROSS_NONE, "most_span": CROSS_NONE}
    ranked = candidates[np.argsort(-logits[candidates], kind="stable")]
    best = ranked[0]
    return basics | {
        "best_logit": float(logits[best]),
        "margin": float(logits[best] - logits[ranked[1]]) if len(ranked) > 1 else 5.0,
        "best_cosine": float(columns["cosine"][best]),
        "best_terms": float(columns["terms"][best]),
        "best_coverage_window": float(columns["coverage_window"][best]),
        "best_unmatched_window": float(columns["unmatched_window"][best]),
        "best_unmatched_passage": float(columns["unmatched_passage"][best]),
        "best_rarest_unmatched": float(columns["rarest_unmatched"][best]),
        "most_cosine": float(columns["cosine"][candidates].max()),
        "most_terms": float(columns["terms"][candidates].max()),
        "best_cross": float(columns["cross"][best]),
        "most_cross": float(columns["cross"][candidates].max()),
        "best_span": float(columns["span"][best]),
        "most_span": float(columns["span"][candidates].max()),
        "best_numbers_unmatched": float(columns["numbers_unmatched_article"][best]),
        "best_names_unmatched": float(columns["names_unmatched_passage"][best]),
    }
