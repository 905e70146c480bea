"""Question sets for evaluation: the seed JSONL format and SQuAD, loaded and paired with their corpus."""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .articles import Article
from .errors import QAError
from .settings import Settings

if TYPE_CHECKING:
    from .embedding import Embedder
    from .retriever import Retriever

log = logging.getLogger(__name__)

CORPUS, QUERIES = "corpus.jsonl", "queries.jsonl"  # the files of a SQuAD-format folder
ANSWER_SAMPLE = 500  # answerable and as many held-out SQuAD questions get full answers in `qa eval --squad`


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
    questions: list[EvalQuestion] = []
    seen: dict[str, int] = {}
    for number, data in _read_jsonl(path, limit):
        where = f"{path} line {number}"
        question = _question(data, where)
        if question.id in seen:
            raise EvalError(f"{where}: the id {question.id!r} is used already (line {seen[question.id]})")
        # Retrieval scores a question by its `docs`, the answer figures by its `answers`: they must agree.
        if bool(question.answers) != bool(question.docs):
            given, missing = ("answers", "docs") if question.answers else ("docs", "answers")
            raise EvalError(f"{where}: it has {given} but no {missing}; an answerable question needs both, an "
                            f"unanswerable one neither")
        seen[question.id] = number
        questions.append(question)
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
    articles = tuple(_paragraph_article(data, f"{folder / CORPUS} line {number}")
                     for number, data in _read_jsonl(folder / CORPUS))
    questions = tuple(_squad_question(data, f"{folder / QUERIES} line {number}")
                      for number, data in _read_jsonl(folder / QUERIES, limit))
    for name, items in ((CORPUS, articles), (QUERIES, questions)):
        if not items:
            raise EvalError(f"{folder / name} holds nothing: a SQuAD folder needs paragraphs and questions")
    return SquadSet(articles, questions)


def hold_out(data: SquadSet, every: int = 4) -> SquadSet:
    """SQuAD with questions the corpus cannot answer but that stay on its topics: every `every`-th paragraph of
    each Wikipedia article is removed, and its questions become unanswerable (no docs, no answers) when none
    of their answer strings occurs in a paragraph that is left; its other questions are dropped. Questions on
    the paragraphs left keep their gold paragraph."""
    position: dict[str, int] = {}
    seen: dict[str, int] = {}
    for article in data.articles:
        position[article.doc_id] = seen.get(article.title, 0)
        seen[article.title] = position[article.doc_id] + 1
    removed = {doc_id for doc_id, index in position.items() if index % every == every - 1}
    kept = tuple(article for article in data.articles if article.doc_id not in removed)
    remaining = "\n".join(article.text for article in kept)
    questions = []
    for question in data.questions:
        if not removed.intersection(question.docs):
            questions.append(question)
        elif not any(answer in remaining for answer in question.answers):
            questions.append(EvalQuestion(question.id, question.question, (), (), "held out"))
    return SquadSet(kept, tuple(questions))


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
    """What `qa eval` measures: a retriever, the questions to put to it, and their names for the report; the
    answer figures come from `answer_retriever` and `answer_questions` (for SQuAD: the held-out variant)."""

    retriever: Retriever
    questions: tuple[EvalQuestion, ...]
    set_name: str
    corpus: str
    answer_retriever: Retriever
    answer_questions: tuple[EvalQuestion, ...]


def default_question_set() -> Path:
    """`eval/questions.jsonl` when run from a checkout, else the one beside the package."""
    here = Path("eval") / "questions.jsonl"
    return here if here.is_file() else Path(__file__).resolve().parents[1] / "eval" / "questions.jsonl"


def prepare_eval(settings: Settings, *, question_set: Path | str | None = None, squad: Path | str | None = None,
                 limit: int | None = None, progress: Callable[[int, int], None] | None = None,
                 embedder: Embedder | None = None, through_files: bool = False) -> EvalRun:
    """Open the retriever and questions to evaluate: the SQuAD-format folder `squad` (indexed once, in
    `settings.index_dir` when set, else in the cache folder), or else the question set (default
    `eval/questions.jsonl`) on `settings.corpus`. `limit` keeps the first N questions.

    `through_files`: SQuAD's paragraphs are written as one file each (title line, blank line, paragraph) and
    that folder is read like any corpus, so the eval also measures what reading articles from files loses."""
    from .retriever import Retriever

    if squad is not None:
        folder = Path(squad)
        data = load_squad(folder, limit)
        base = settings.cache_dir / "eval" / f"{folder.resolve().name}{'-files' if through_files else ''}"
        index_dir = settings.index_dir or base.with_name(base.name + "-index")
        held = hold_out(data)

        def open_set(articles: Sequence[Article], index: Path, files: Path, shared: Embedder | None) -> Retriever:
            chosen = settings.with_overrides(index_dir=index)
            if not through_files:
                return Retriever.from_articles(articles, chosen, progress=progress, embedder=shared)
            write_paragraph_files(articles, files)
            return Retriever.from_settings(chosen.with_overrides(corpus=files), progress=progress, embedder=shared)

        retriever = open_set(data.articles, index_dir, base, embedder)
        held_retriever = open_set(held.articles, index_dir.with_name(index_dir.name + "-holdout"),
                                  base.with_name(base.name + "-holdout"), retriever.embedder)
        kind = "paragraph files" if through_files else "paragraphs"
        return EvalRun(retriever, data.questions, str(folder / QUERIES), f"{folder / CORPUS} ({kind})",
                       held_retriever, answer_sample(held.questions))
    path = Path(question_set) if question_set is not None else default_question_set()
    questions = tuple(load_question_set(path, limit))
    retriever = Retriever.from_settings(settings, progress=progress, embedder=embedder)
    return EvalRun(retriever, questions, str(path), str(settings.corpus), retriever, questions)


def write_paragraph_files(articles: Sequence[Article], folder: Path) -> None:
    """Each paragraph as `folder/ID.txt`: its title line, a blank line, the paragraph (the layout of a news
    article saved as text). Files already there with the same text are left alone; others are removed."""
    folder.mkdir(parents=True, exist_ok=True)
    wanted = {f"{article.doc_id}.txt": f"{article.title}\n\n{article.text.strip()}\n" for article in articles}
    for stale in folder.glob("*.txt"):
        if stale.name not in wanted:
            stale.unlink()
    for name, text in wanted.items():
        path = folder / name
        if not path.is_file() or path.read_text(encoding="utf-8") != text:
            path.write_text(text, encoding="utf-8")


def answer_sample(questions: Sequence[EvalQuestion], size: int = ANSWER_SAMPLE) -> tuple[EvalQuestion, ...]:
    """Up to `size` answerable and `size` unanswerable questions, each kind evenly spread over the set."""
    sample: list[EvalQuestion] = []
    for answerable in (True, False):
        kind = [q for q in questions if q.answerable == answerable]
        step = max(1.0, len(kind) / size)
        sample.extend(kind[int(i * step)] for i in range(min(size, len(kind))))
    return tuple(sample)


# --- Relevance --------------------------------------------------------------------------------------------
