"""Retrieval evaluation: question sets (seed JSONL, SQuAD), the relevance rule, the runner and its report."""

from __future__ import annotations

import copy
import logging
import statistics
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from .errors import QAError
from .evalsets import EvalQuestion
from .metrics import ndcg_at_k, recall_at_k, reciprocal_rank
from .records import Citation
from .settings import METHODS, Method

if TYPE_CHECKING:
    from .retriever import Retriever

log = logging.getLogger(__name__)

RECALL_KS = (1, 3, 5, 10)
DEPTH = 10  # results judged per question: enough for R@10, MRR@10 and nDCG@10
TIMED_QUESTIONS = 200  # questions timed one by one per configuration (evenly spaced over the set)
SEARCH_BATCH = 256  # questions per search_many call: keeps the (questions x passages) matrices small
SCORING_SETTINGS = frozenset({"method", "dense_weight"})

PassageKey = tuple[str, int, int]  # (path, start, end): identifies a passage across Hits and the catalog
AnswerScorer = Callable[["Retriever", Sequence["EvalQuestion"]], Mapping[str, float]]
Progress = Callable[[str, int, int], None]  # (configuration, questions done, questions in all)


def is_relevant(question: EvalQuestion, citation: Citation, text: str, *, sole_passage: bool = False) -> bool:
    """Whether a passage answers `question`: it comes from an article in `question.docs` (matched by path
    or doc id) and contains one of the answer strings. The only passage of a listed article counts even
    without one (a SQuAD paragraph is gold as a whole; only when it is split must the part hold the answer).
    """
    if citation.path not in question.docs and citation.doc_id not in question.docs:
        return False
    return sole_passage or any(answer in text for answer in question.answers)


def passage_catalog(retriever: Retriever) -> dict[str, list[tuple[Citation, str]]]:
    """Every indexed passage (citation, text), grouped by article, reachable by path and by doc id."""
    catalog: dict[str, list[tuple[Citation, str]]] = {}
    for row in range(len(retriever)):
        citation = retriever.citation(row)
        text = retriever.article(citation.doc_id).text[citation.start : citation.end]
        passages = catalog.setdefault(citation.path, [])
        passages.append((citation, text))
        catalog[citation.doc_id] = passages
    return catalog


def relevant_passages(question: EvalQuestion, catalog: Mapping[str, list[tuple[Citation, str]]]) -> set[PassageKey]:
    """The keys of all passages in the corpus that are relevant to `question`."""
    keys: set[PassageKey] = set()
    for doc in question.docs:
        passages = catalog.get(doc, [])
        if not passages:
            log.warning("question %s names %s, which is not in the corpus", question.id, doc)
        keys.update(_key(citation) for citation, text in passages
                    if is_relevant(question, citation, text, sole_passage=len(passages) == 1))
    return keys


def _key(citation: Citation) -> PassageKey:
    return (citation.path, citation.start, citation.end)


# --- Runner -----------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class EvalConfig:
    """One row of the report: a retrieval method, with the retriever's dense weight unless one is given."""

    name: str
    method: Method
    dense_weight: float | None = None


DEFAULT_CONFIGS: tuple[EvalConfig, ...] = tuple(EvalConfig(method, method) for method in METHODS)


def hybrid_weights(*weights: float) -> tuple[EvalConfig, ...]:
    """Extra hybrid rows with other dense weights, e.g. `DEFAULT_CONFIGS + hybrid_weights(0.3, 0.5)`."""
    return tuple(EvalConfig(f"hybrid w={weight:g}", "hybrid", weight) for weight in weights)


@dataclass(frozen=True, slots=True)
class ConfigResult:
    """Retrieval figures of one configuration, averaged over the answerable questions."""

    name: str
    method: str
    dense_weight: float
    recall_at_1: float
    recall_at_3: float
    recall_at_5: float
    recall_at_10: float
    mrr_at_10: float
    ndcg_at_10: float
    median_ms: float  # median wall time of one `search(query, k=10)` call, over `timed` questions
    timed: int


@dataclass(frozen=True, slots=True)
class EvalReport:
    """What `run_eval` measured, and on what."""

    set_name: str  # the question file or benchmark folder
    corpus: str
    model: str
    min_words: int
    max_words: int
    dense_weight: float  # the retriever's own setting (rows may override it)
    articles: int
    passages: int
    questions: int  # all loaded
    scored: int  # answerable: the retrieval figures average over these
    unanswerable: int  # excluded from retrieval figures
    followups: int  # retrieved with their history prepended
    without_relevant: tuple[str, ...]  # ids of answerable questions no passage matches (they count as misses)
    results: tuple[ConfigResult, ...]
    # Answer-level figures (abstention rate, ...), from run_eval's `answer_scorer` or added later with
    # dataclasses.replace(report, answer_figures=...); printed under the table.
    answer_figures: Mapping[str, float] = field(default_factory=dict)
    # The answer figures of each reader (qa eval compares them side by side), or why a reader is unavailable.
    readers: Mapping[str, Mapping[str, float] | str] = field(default_factory=dict)


def with_scoring(retriever: Retriever, **overrides: Any) -> Retriever:
    """A retriever sharing `retriever`'s model and index, scoring with other `method`/`dense_weight`."""
    unknown = set(overrides) - SCORING_SETTINGS
    if unknown:
        raise QAError(f"only {', '.join(sorted(SCORING_SETTINGS))} can vary between eval rows, not "
                      f"{', '.join(sorted(unknown))}")
    return retriever.with_settings(**overrides)


def run_eval(retriever: Retriever, questions: Sequence[EvalQuestion], *,
             configs: Sequence[EvalConfig] = DEFAULT_CONFIGS, set_name: str = "", corpus: str | None = None,
             timed: int | None = TIMED_QUESTIONS, answer_scorer: AnswerScorer | None = None,
             progress: Progress | None = None) -> EvalReport:
    """Recall@1/3/5/10, MRR@10 and nDCG@10 of each configuration over the answerable `questions`.

    Rankings come from `search_many` in batches, each question encoded once for all rows. The time per
    question is the median over `timed` questions (evenly spaced; None: all) searched one at a time with
    `search`, encoding included, after the batches have warmed the model. Follow-ups are searched as
    `EvalQuestion.query` (their history prepended).
    """
    scored = [q for q in questions if q.answerable]
    catalog = passage_catalog(retriever)
    relevant = [relevant_passages(q, catalog) for q in scored]
    missing = tuple(q.id for q, keys in zip(scored, relevant, strict=True) if not keys)
    if missing:
        log.warning("%d question(s) have no passage holding an answer in their articles: %s", len(missing),
                    ", ".join(missing[:10]))
    queries = [q.query for q in scored]
    remembering = _RememberingEmbedder(retriever.embedder)
    results = []
    for config in configs:
        timer = with_scoring(retriever, method=config.method, dense_weight=config.dense_weight)
        ranker = copy.copy(timer)
        ranker.embedder = remembering  # type: ignore[assignment]
        results.append(_evaluate(ranker, timer, config, queries, relevant, timed, progress))
    settings = retriever.settings
    return EvalReport(
        set_name, corpus or str(settings.corpus), settings.model, settings.min_words, settings.max_words,
        settings.dense_weight, len(retriever.articles), len(retriever), len(questions), len(scored),
        len(questions) - len(scored), sum(1 for q in scored if q.history), missing, tuple(results),
        dict(answer_scorer(retriever, questions)) if answer_scorer else {})


class _RememberingEmbedder:
    """The retriever's embedder, remembering each question's vector: every row reuses it (SQuAD has
    10,570 questions, and encoding them is most of an eval's time)."""

    def __init__(self, embedder: Any) -> None:
        self._embedder = embedder
        self._vectors: dict[str, np.ndarray] = {}

    def encode(self, texts: Sequence[str], batch_size: int = 32, progress: Any = None) -> np.ndarray:
        fresh = list(dict.fromkeys(text for text in texts if text not in self._vectors))
        if fresh:
            self._vectors.update(zip(fresh, self._embedder.encode(fresh, batch_size=batch_size), strict=True))
        if not texts:
            return self._embedder.encode([], batch_size=batch_size)
        return np.vstack([self._vectors[text] for text in texts])

    def __getattr__(self, name: str) -> Any:
        return getattr(self._embedder, name)


def _evaluate(ranker: Retriever, timer: Retriever, config: EvalConfig, queries: list[str],
              relevant: list[set[PassageKey]], timed: int | None, progress: Progress | None) -> ConfigResult:
    judged: list[list[bool]] = []
    for begin in range(0, len(queries), SEARCH_BATCH):
        for hits, keys in zip(ranker.search_many(queries[begin : begin + SEARCH_BATCH], DEPTH, config.method),
                              relevant[begin : begin + SEARCH_BATCH], strict=True):
            judged.append([_key(hit.citation) in keys for hit in hits])
        if progress:
            progress(config.name, len(judged), len(queries))
    timings = _time_searches(timer, config.method, _spread(queries, timed))
    log.info("%s: %d questions scored, %d timed", config.name, len(judged), len(timings))

    def mean(values: Sequence[float]) -> float:
        return statistics.fmean(values) if values else 0.0

    recalls = {k: mean([recall_at_k(ranked, k) for ranked in judged]) for k in RECALL_KS}
    return ConfigResult(
        config.name, config.method, ranker.settings.dense_weight, recalls[1], recalls[3], recalls[5],
        recalls[10], mean([reciprocal_rank(ranked, DEPTH) for ranked in judged]),
        mean([ndcg_at_k(ranked, len(keys), DEPTH) for ranked, keys in zip(judged, relevant, strict=True)]),
        statistics.median(timings) if timings else 0.0, len(timings))


def _spread(items: list[str], count: int | None) -> list[str]:
    if count is None or count >= len(items):
        return items
    return [items[i * len(items) // count] for i in range(count)]


def _time_searches(retriever: Retriever, method: Method, queries: list[str]) -> list[float]:
    timings = []
    for query in queries:
        began = time.perf_counter()
        retriever.search(query, DEPTH, method)
        timings.append((time.perf_counter() - began) * 1000.0)
    return timings


# --- Reporting --------------------------------------------------------------------------------------------

_COLUMNS = (("R@1", "recall_at_1"), ("R@3", "recall_at_3"), ("R@5", "recall_at_5"), ("R@10", "recall_at_10"),
            ("MRR@10", "mrr_at_10"), ("nDCG@10", "ndcg_at_10"))


def format_report(report: EvalReport) -> str:
    """A plain-text table, one row per configuration, with what was measured above and answer figures below."""
    width = max([len("configuration")] + [len(r.name) for r in report.results])
    lines = [
        f"{report.set_name or 'questions'} on {report.corpus}: {report.articles} articles, "
        f"{report.passages} passages ({report.model}, {report.min_words}-{report.max_words} words, "
        f"dense weight {report.dense_weight:g})",
        f"{report.questions} questions: {report.scored} scored, {report.unanswerable} unanswerable (excluded), "
        f"{report.followups} follow-ups searched with their history prepended",
    ]
    if report.without_relevant:
        lines.append(f"{len(report.without_relevant)} scored question(s) have no passage holding an answer: "
                     + ", ".join(report.without_relevant[:10]))
    lines.append("")
    lines.append("configuration".ljust(width) + "".join(f"{title:>9}" for title, _ in _COLUMNS) + f"{'ms/q':>9}")
    for result in report.results:
        if not report.scored:  # no answerable question: nothing was measured, and 0.000 would say it was
            lines.append(result.name.ljust(width) + "".join(f"{'-':>9}" for _ in _COLUMNS) + f"{'-':>9}")
            continue
        lines.append(result.name.ljust(width) + "".join(f"{getattr(result, attribute):9.3f}"
                                                        for _, attribute in _COLUMNS)
                     + f"{result.median_ms:9.1f}")
    timed = max((r.timed for r in report.results), default=0)
    lines.append(f"R@k: share of questions with a relevant passage in the top k; ms/q: median of {timed} "
                 f"single searches")
    if report.readers:
        lines.append("")
        lines.extend(format_readers(report.readers))
    elif report.answer_figures:
        lines.append("")
        lines.append("answers:")
        lines.extend(f"  {name}: {value:.3f}" if isinstance(value, float) else f"  {name}: {value}"
                     for name, value in report.answer_figures.items())
    return "\n".join(lines)


_READER_COLUMNS = (("abstained", "abstained_unanswerable"), ("answered", "answered_answerable"),
                   ("gold", "answer_holds_gold"), ("follow-up", "followup_holds_gold"),
                   ("alone", "followup_holds_gold_without_history"), ("unsure", "unsure_answers"),
                   ("unsure bad", "unsure_wrong"), ("sure bad", "sure_wrong"), ("s/answer", "median_seconds"),
                   ("format err", "format_errors"))


def format_readers(readers: Mapping[str, Mapping[str, float] | str]) -> list[str]:
    """The answer figures of each reader side by side, one row each; unavailable readers say why."""
    width = max([len("reader")] + [len(name) for name in readers])
    lines = ["reader".ljust(width) + "".join(f"{title:>11}" for title, _ in _READER_COLUMNS)]
    for name, figures in readers.items():
        if isinstance(figures, str):
            lines.append(f"{name.ljust(width)}  not available: {figures}")
            continue
        cells = []
        for _, key in _READER_COLUMNS:
            value = figures.get(key)
            cells.append(f"{'-':>11}" if value is None else f"{value:11d}" if isinstance(value, int)
                         else f"{value:11.3f}")
        lines.append(name.ljust(width) + "".join(cells))
    counts = next((f for f in readers.values() if not isinstance(f, str)), {})
    lines.append(f"answers: abstained = unanswerable questions abstained on "
                 f"({counts.get('unanswerable_questions', 0)}), answered = answerable ones answered "
                 f"({counts.get('answerable_questions', 0)}), gold = answerable ones whose answer holds a gold "
                 f"answer; follow-up / alone: the same for follow-ups with and without their history; "
                 f"unsure = answers marked unsure; unsure bad / sure bad = of the unsure / other answers, those "
                 f"that answer an unanswerable question or hold no gold answer")
    return lines


def report_to_json(report: EvalReport) -> dict[str, Any]:
    """The report as JSON-ready data: settings, counts, one entry per configuration, answer figures."""
    return {
        "set": report.set_name,
        "corpus": report.corpus,
        "settings": {"model": report.model, "min_words": report.min_words, "max_words": report.max_words,
                     "dense_weight": report.dense_weight},
        "counts": {"articles": report.articles, "passages": report.passages, "questions": report.questions,
                   "scored": report.scored, "unanswerable": report.unanswerable, "followups": report.followups,
                   "without_relevant": len(report.without_relevant)},
        "without_relevant": list(report.without_relevant),
        "results": [{"name": r.name, "method": r.method, "dense_weight": r.dense_weight,
                     **{title: round(getattr(r, attribute), 4) for title, attribute in _COLUMNS},
                     "median_ms": round(r.median_ms, 2), "timed": r.timed} for r in report.results],
        "answer_figures": dict(report.answer_figures),
        "readers": {name: figures if isinstance(figures, str) else dict(figures)
                    for name, figures in report.readers.items()},
    }
