"""A fake retriever over a tiny in-memory corpus for the TUI tests, and tests that keep the fake honest."""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from pathlib import Path

from textual.worker import get_current_worker

from qa import Answer, AnswerCitation, AnswerSentence, Article, Citation, Hit, QAError
from qa.articles import parse_article
from qa.index import SyncReport
from qa.retriever import OpenReport

ARTICLES = {
    "harbour-bridge.txt": (
        "Council approves harbour bridge\n"
        "The city council voted 7-2 on Tuesday to approve a new bridge across the harbour. "
        "Construction will begin in March and is expected to cost 40 million euros.\n"
        "Mayor Ana Ruiz said the bridge would cut the commute from the north shore by twenty minutes. "
        "Opponents argued that the money should go to the ferry service instead.\n"
    ),
    "ferry-strike.txt": (
        "Ferry workers strike over pay\n"
        "Ferry crews walked off the job on Monday, stranding thousands of commuters. "
        "The union says wages have not kept up with inflation since 2019.\n"
        "The ferry company said talks with the union would resume on Friday.\n"
    ),
    "council-budget.txt": (  # long, so opening its citation has to scroll
        "Council passes the city budget\n"
        + "".join(f"Councillors debated item {n} of the budget at length before moving on to the next one.\n"
                  for n in range(1, 29))
        + "The final budget sets aside 12 million euros for new cycle lanes. The vote was close.\n"
        + "".join(f"Item {n} was deferred to the spring session of the council.\n" for n in range(29, 35))
    ),
    "markup.txt": (
        "Stray [bold red]x[/] tags in the wild\n"
        "Some sites leave tags such as [bold red]x[/] and [link=https://example.com]click here[/link] "
        "in their text. Editors blame a broken template for the stray [b]brackets[/b].\n"
    ),
}

# keyword of the question -> the sentences (article, exact text) the fake answers with
ANSWERS: list[tuple[str, list[tuple[str, str]]]] = [
    ("cost", [("harbour-bridge", "Construction will begin in March and is expected to cost 40 million euros.")]),
    ("bridge", [
        ("harbour-bridge", "The city council voted 7-2 on Tuesday to approve a new bridge across the harbour."),
        ("harbour-bridge", "Mayor Ana Ruiz said the bridge would cut the commute from the north shore by "
                           "twenty minutes."),
    ]),
    ("strike", [
        ("ferry-strike", "Ferry crews walked off the job on Monday, stranding thousands of commuters."),
        ("ferry-strike", "The union says wages have not kept up with inflation since 2019."),
    ]),
    ("cycle", [("council-budget", "The final budget sets aside 12 million euros for new cycle lanes.")]),
    ("tags", [("markup", "Some sites leave tags such as [bold red]x[/] and [link=https://example.com]click "
                         "here[/link] in their text.")]),
]

ABSTENTION_TEXT = "None of the articles answers this question."


def build_articles() -> dict[str, Article]:
    articles = {}
    for path, text in ARTICLES.items():
        article = parse_article(path, text.encode("utf-8"))
        assert article is not None
        articles[article.doc_id] = article
    return articles


class FakeRetriever:
    """Answers by keyword from ARTICLES, with citations that slice back to the exact article text.

    `fail` makes ask raise it; `delay` makes ask slow; every call is recorded in `calls`.
    """

    def __init__(self, fail: Exception | None = None, delay: float = 0.0) -> None:
        self._articles = build_articles()
        self.fail = fail
        self.delay = delay
        self.calls: list[tuple[str, list[Answer]]] = []
        self.report = OpenReport(len(self._articles), len(self._articles), (), SyncReport(3, 0, 0, None), 0.01)

    @property
    def articles(self) -> list[Article]:
        return list(self._articles.values())

    def article(self, doc_id: str) -> Article:
        return self._articles[doc_id]

    def ask(self, question: str, history: Sequence[Answer] | None = None) -> Answer:
        self.calls.append((question, list(history or [])))
        if self.delay:
            time.sleep(self.delay)
        if self.fail is not None:
            raise self.fail
        if not question.strip():
            raise QAError("the question is empty: type a question about the articles")
        lowered = question.lower()
        for keyword, quotes in ANSWERS:
            if keyword in lowered:
                return self._answer(question, quotes)
        return self._abstain(question)

    def _passage(self, article: Article, offset: int | None = None) -> Citation:
        """The line holding `offset` (default: the first line after the headline) stands in for a passage."""
        start, end = next(((s, e) for s, e in article.lines if offset is not None and s <= offset < e),
                          article.lines[1])
        return Citation(article.doc_id, article.title, article.path, start, end)

    def _answer(self, question: str, quotes: list[tuple[str, str]]) -> Answer:
        sentences, citations = [], []
        for number, (doc_id, sentence) in enumerate(quotes, start=1):
            article = self._articles[doc_id]
            start = article.text.index(sentence)
            span = Citation(doc_id, article.title, article.path, start, start + len(sentence))
            citations.append(AnswerCitation(number, span, self._passage(article, start)))
            sentences.append(AnswerSentence(sentence, number))
        text = " ".join(f"{s.text} [{s.number}]" for s in sentences)
        return Answer(question, text, tuple(sentences), tuple(citations), False, 0.8, reader="fake")

    def _abstain(self, question: str) -> Answer:
        closest = []
        for rank, doc_id in enumerate(["ferry-strike", "harbour-bridge"], start=1):
            passage = self._passage(self._articles[doc_id])
            text = self._articles[doc_id].text[passage.start : passage.end]
            closest.append(Hit(rank, 0.2 / rank, text, passage))
        return Answer(question, ABSTENTION_TEXT, (), (), True, 0.1, tuple(closest), reader="fake")


def loader_for(retriever: object, seen: list[Path] | None = None):
    """A loader that hands over `retriever` at once (recording the corpus folders asked for)."""

    def load(corpus: Path, progress) -> object:
        if seen is not None:
            seen.append(corpus)
        progress(1, 1)
        return retriever

    return load


class GatedLoader:
    """A loader that reports some indexing progress, then waits for `release()` (or the app to quit)."""

    def __init__(self, retriever: object, fail: Exception | None = None) -> None:
        self.retriever = retriever
        self.fail = fail
        self.gate = threading.Event()
        self.waiting = threading.Event()

    def release(self) -> None:
        self.gate.set()

    async def reached(self, pilot, timeout: float = 5.0) -> None:
        """Wait (without blocking the app) until the loader is waiting at its gate."""
        deadline = time.monotonic() + timeout
        while not self.waiting.is_set():
            assert time.monotonic() < deadline, "the loader never started"
            await pilot.pause(0.01)
        await pilot.pause()

    def __call__(self, corpus: Path, progress) -> object:
        progress.phase("Loading model…")
        progress(3, 10)
        self.waiting.set()
        worker = get_current_worker()
        while not self.gate.wait(0.02):
            if worker.is_cancelled:  # the app is quitting: the process cannot exit while this thread runs
                raise RuntimeError("cancelled")
        if self.fail is not None:
            raise self.fail
        return self.retriever


async def settle(pilot) -> None:
    """Let workers finish and their messages be handled (an answer can start another worker)."""
    for _ in range(3):
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()


async def ask(pilot, question: str, type_it: bool = False) -> None:
    """Ask `question` in the question box (typed key by key, or pasted) and wait for the answer."""
    from tui.widgets.question_input import QuestionInput

    box = pilot.app.screen.query_one(QuestionInput)
    box.focus()
    if type_it:
        await pilot.press(*question)
    else:
        box.value = question
    await pilot.press("enter")
    await settle(pilot)


# --- the fake must be honest: its citations point at the exact text it quotes -------------------------------

def test_fake_citations_slice_back_to_the_quoted_sentences() -> None:
    fake = FakeRetriever()
    for keyword, _ in ANSWERS:
        answer = fake.ask(f"what about {keyword}?")
        assert not answer.abstained and answer.citations
        for sentence, cited in zip(answer.sentences, answer.citations):
            article = fake.article(cited.citation.doc_id)
            assert article.text[cited.citation.start : cited.citation.end] == sentence.text
            assert cited.passage.start <= cited.citation.start < cited.citation.end <= cited.passage.end
            assert f"[{cited.number}]" in answer.text


def test_fake_abstains_with_closest_passages_from_the_articles() -> None:
    fake = FakeRetriever()
    answer = fake.ask("Who won the football match?")
    assert answer.abstained and not answer.citations
    for hit in answer.closest:
        assert fake.article(hit.citation.doc_id).text[hit.citation.start : hit.citation.end] == hit.text


def test_markup_article_keeps_its_brackets() -> None:
    article = build_articles()["markup"]
    assert "[bold red]x[/]" in article.title
    assert "[link=https://example.com]click here[/link]" in article.text
