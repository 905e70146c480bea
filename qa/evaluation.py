"""Retrieval evaluation: question sets (seed JSONL, SQuAD), the relevance rule, the runner and its report."""

from __future__ import annotations

import copy
import hashlib
import json
import logging
import statistics
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from .articles import Article
from .errors import QAError
from .metrics import ndcg_at_k, recall_at_k, reciprocal_rank
from .records import Citation
from .settings import METHODS, Method, Settings

if TYPE_CHECKING:
    from .embedding import Embedder
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


class EvalError(QAError):
    """An eval question set or benchmark folder is missing or malformed."""


# --- Question sets ----------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class EvalQuestion:
    """A question with the articles and answer strings that make a retrieved passage relevant."""

    id: str
    question: str
    answers: tuple[str, ...]  # exact substrings of an article's text; empty when unanswerable
    docs: tuple[str, ...]  # article paths ("000_35...c5.txt") or doc ids that answer it; empty: unanswerable
    kind: str = ""  # "paraphrase", "followup", "unanswerable", "squad", ...
    history: tuple[str, ...] = ()  # a follow-up's earlier questions, oldest first

    @property
    def answerable(self) -> bool:
        return bool(self.docs)

    @property
    def query(self) -> str:
        """The retrieval query: a follow-up's earlier questions, then the question, joined by spaces
        (a follow-up such as "And what did he say?" cannot be retrieved on its own)."""
        return " ".join((*self.history, self.question))


@dataclass(frozen=True, slots=True)
class SquadSet:
    """SQuAD as a paragraph-retrieval benchmark: one Article per paragraph, and the questions."""

    articles: tuple[Article, ...]
    questions: tuple[EvalQuestion, ...]


def load_question_set(path: Path | str, limit: int | None = None) -> list[EvalQuestion]:
    """The questions of a JSONL eval set (`id`, `question`, `answers`, `docs`, `kind`, `history`),
    the first `limit` only when given."""
    path = Path(path)
    questions = [_question(data, f"{path} line {number}") for number, data in _read_jsonl(path, limit)]
    if not questions:
        raise EvalError(f"{path} holds no question")
    return questions


def load_squad(folder: Path | str, limit: int | None = None) -> SquadSet:
    """SQuAD from `folder`'s corpus.jsonl (`id`, `title`, `text`) and queries.jsonl (`id`, `question`,
    `answers`, `gold_ids`); all paragraphs, and the first `limit` questions when given.

    Each paragraph becomes an Article (doc_id = paragraph id, path = id + ".txt", title = Wikipedia title)
    whose one line spans the whole paragraph: `parse_article` would drop short heading-like first lines.
    """
    folder = Path(folder)
    articles = tuple(_paragraph_article(data, f"{folder / 'corpus.jsonl'} line {number}")
                     for number, data in _read_jsonl(folder / "corpus.jsonl"))
    questions = tuple(_squad_question(data, f"{folder / 'queries.jsonl'} line {number}")
                      for number, data in _read_jsonl(folder / "queries.jsonl", limit))
    return SquadSet(articles, questions)


def _read_jsonl(path: Path, limit: int | None = None) -> list[tuple[int, dict[str, Any]]]:
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as error:
        raise EvalError(f"cannot read {path}: {error}") from None
    rows: list[tuple[int, dict[str, Any]]] = []
    for number, line in enumerate(lines, start=1):
        if limit is not None and len(rows) >= limit:
            break
        if not line.strip():
            continue
        try:
            data = json.loads(line)
        except json.JSONDecodeError as error:
            raise EvalError(f"{path} line {number} is not JSON: {error.msg}") from None
        if not isinstance(data, dict):
            raise EvalError(f"{path} line {number} is not a JSON object")
        rows.append((number, data))
    return rows


def _strings(data: dict[str, Any], key: str, where: str) -> tuple[str, ...]:
    value = data.get(key, [])
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise EvalError(f"{where}: {key!r} must be a list of strings")
    return tuple(value)


def _text(data: dict[str, Any], key: str, where: str) -> str:
    value = data.get(key)
    if not isinstance(value, str) or not value.strip():
        raise EvalError(f"{where}: {key!r} must be a non-empty string")
    return value


def _question(data: dict[str, Any], where: str) -> EvalQuestion:
    return EvalQuestion(_text(data, "id", where), _text(data, "question", where), _strings(data, "answers", where),
                        _strings(data, "docs", where), str(data.get("kind", "")), _strings(data, "history", where))


def _squad_question(data: dict[str, Any], where: str) -> EvalQuestion:
    return EvalQuestion(_text(data, "id", where), _text(data, "question", where), _strings(data, "answers", where),
                        _strings(data, "gold_ids", where), "squad")


def _paragraph_article(data: dict[str, Any], where: str) -> Article:
    doc_id, text = _text(data, "id", where), _text(data, "text", where)
    start, end = len(text) - len(text.lstrip()), len(text.rstrip())
    return Article(doc_id, f"{doc_id}.txt", str(data.get("title", "")), text, ((start, end),),
                   hashlib.sha256(text.encode("utf-8")).hexdigest())


@dataclass(frozen=True, slots=True)
class EvalRun:
    """What `qa eval` measures: a retriever, the questions to put to it, and their names for the report."""

    retriever: Retriever
    questions: tuple[EvalQuestion, ...]
    set_name: str
    corpus: str


def default_question_set() -> Path:
    """`eval/questions.jsonl` when run from a checkout, else the one beside the package."""
    here = Path("eval") / "questions.jsonl"
    return here if here.is_file() else Path(__file__).resolve().parents[1] / "eval" / "questions.jsonl"


def prepare_eval(settings: Settings, *, question_set: Path | str | None = None, squad: Path | str | None = None,
                 limit: int | None = None, progress: Callable[[int, int], None] | None = None,
                 embedder: Embedder | None = None) -> EvalRun:
    """Open the retriever and questions to evaluate: the SQuAD-format folder `squad` (indexed once, in
    `settings.index_dir` when set, else in the cache folder), or else the question set (default
    `eval/questions.jsonl`) on `settings.corpus`. `limit` keeps the first N questions."""
    from .retriever import Retriever

    if squad is not None:
        folder = Path(squad)
        data = load_squad(folder, limit)
        index_dir = settings.index_dir or settings.cache_dir / "eval" / f"{folder.resolve().name}-index"
        retriever = Retriever.from_articles(data.articles, settings.with_overrides(index_dir=index_dir),
                                            progress=progress, embedder=embedder)
        return EvalRun(retriever, data.questions, str(folder), str(folder))
    path = Path(question_set) if question_set is not None else default_question_set()
    questions = tuple(load_question_set(path, limit))
    overrides = {f.name: getattr(settings, f.name) for f in fields(settings) if f.name != "corpus"}
    retriever = Retriever.from_folder(settings.corpus, progress=progress, embedder=embedder, **overrides)
    return EvalRun(retriever, questions, str(path), str(settings.corpus))


# --- Relevance --------------------------------------------------------------------------------------------


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


def with_scoring(retriever: Retriever, **overrides: Any) -> Retriever:
    """A retriever sharing `retriever`'s model and index, scoring with other `method`/`dense_weight`."""
    unknown = set(overrides) - SCORING_SETTINGS
    if unknown:
        raise QAError(f"only {', '.join(sorted(SCORING_SETTINGS))} can vary between eval rows, not "
                      f"{', '.join(sorted(unknown))}")
    own = getattr(retriever, "with_settings", None)
    if callable(own):
        return own(**overrides)
    # Retriever holds settings in a plain attribute and reads them at search time: a shallow copy with new
    # settings shares the passages, vectors, BM25 index and model, and costs nothing.
    variant = copy.copy(retriever)
    variant.settings = retriever.settings.with_overrides(**overrides)
    return variant


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
        lines.append(result.name.ljust(width) + "".join(f"{getattr(result, attribute):9.3f}"
                                                        for _, attribute in _COLUMNS)
                     + f"{result.median_ms:9.1f}")
    timed = max((r.timed for r in report.results), default=0)
    lines.append(f"R@k: share of questions with a relevant passage in the top k; ms/q: median of {timed} "
                 f"single searches")
    if report.answer_figures:
        lines.append("")
        lines.append("answers:")
        lines.extend(f"  {name}: {value:.3f}" for name, value in report.answer_figures.items())
    return "\n".join(lines)


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
    }
