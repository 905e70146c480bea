"""The chat with article metadata: outlet and date beside each source, filters typed with the question."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime

from qa import Answer
from qa.articles import parse_article
from qa.records import FETCHED
from tests.test_tui import ROOT, screen_text
from tests.test_tui_support import FakeRetriever, ask, loader_for, settle
from tui.app import QAApp
from tui.export import answer_text, conversation_markdown
from tui.widgets.sources import SourcesPanel

URL = "https://www.usatoday.com/story/news/harbour-bridge"


class DatedRetriever(FakeRetriever):
    """The fake corpus with a date, an outlet and an address on every article; records the filters asked for."""

    def __init__(self) -> None:
        super().__init__()
        self._articles = {doc: replace(a, date="2024-05-31", outlet="USA Today", url=URL)
                          for doc, a in self._articles.items()}
        self.filters: list[dict] = []

    def ask(self, question: str, history: Sequence[Answer] | None = None, **filters) -> Answer:
        self.filters.append(filters)
        answer = super().ask(question, history)
        sources = [replace(c, citation=replace(c.citation, date="2024-05-31", outlet="USA Today", url=URL))
                   for c in answer.citations]
        return replace(answer, citations=tuple(sources))


async def test_sources_show_outlet_and_date_and_filters_reach_the_retriever() -> None:
    fake = DatedRetriever()
    app = QAApp(loader_for(fake), ROOT / "seeds")
    async with app.run_test(size=(120, 34)) as pilot:
        await settle(pilot)
        await ask(pilot, "since:2024-05 outlet:usatoday,cnn How much will the bridge cost?")
        assert fake.calls[-1][0] == "How much will the bridge cost?"
        assert fake.filters[-1] == {"since": "2024-05", "outlets": ["usatoday", "cnn"]}
        assert "USA Today · 2024-05-31 · harbour-bridge.txt" in screen_text(app)
        app.screen.query_one(SourcesPanel).open(1)
        await settle(pilot)
        assert "USA Today · 2024-05-31 · harbour-bridge.txt" in screen_text(app)
        assert URL in screen_text(app)
        saved = conversation_markdown(app.exchanges, "corpus", datetime(2024, 6, 1))
        assert "USA Today · 2024-05-31 · `harbour-bridge.txt`" in saved and f"<{URL}>" in saved


async def test_questions_without_filters_ask_as_before() -> None:
    fake = DatedRetriever()
    app = QAApp(loader_for(fake), ROOT / "seeds")
    async with app.run_test(size=(120, 34)) as pilot:
        await settle(pilot)
        await ask(pilot, "How much will the bridge cost?")
        assert fake.filters[-1] == {}


class FetchedRetriever(FakeRetriever):
    """The fake corpus dated only by the day each article was fetched (an export's `retrieved`), each source also
    found in a copy at another outlet, fetched too."""

    def __init__(self) -> None:
        super().__init__()
        self._articles = {doc: replace(a, date="2023-01-28", date_kind=FETCHED, outlet="The Week")
                          for doc, a in self._articles.items()}

    def ask(self, question: str, history: Sequence[Answer] | None = None, **filters) -> Answer:
        answer = super().ask(question, history)
        fetched = dict(date="2023-01-28", date_kind=FETCHED, outlet="The Week")
        sources = [replace(c, citation=replace(c.citation, **fetched), passage=replace(c.passage, **fetched),
                           also=(replace(c.citation, doc_id="ferry-strike", path="ferry-strike.txt", outlet="CNN", date="2023-01-30",
                                         date_kind=FETCHED),))
                   for c in answer.citations]
        return replace(answer, citations=tuple(sources))


async def test_a_date_known_only_from_the_fetch_is_marked_wherever_it_is_shown() -> None:
    app = QAApp(loader_for(FetchedRetriever()), ROOT / "seeds")
    async with app.run_test(size=(120, 34)) as pilot:
        await settle(pilot)
        await ask(pilot, "How much will the bridge cost?")
        shown = screen_text(app)
        assert "The Week · fetched 2023-01-28 ·" in shown  # the file name wraps to the next line
        assert "also in: CNN · fetched 2023-01-30" in shown
        [exchange] = app.exchanges
        assert "(The Week · fetched 2023-01-28 · harbour-bridge.txt)" in answer_text(exchange)
        assert "\n    also in: CNN · fetched 2023-01-30 · ferry-strike.txt" in answer_text(exchange)
        saved = conversation_markdown(app.exchanges, "corpus", datetime(2024, 6, 1))
        assert "The Week · fetched 2023-01-28 · `harbour-bridge.txt`" in saved
        assert "also in: CNN · fetched 2023-01-30 · `ferry-strike.txt`" in saved  # with its date, as in the chat
        app.screen.query_one(SourcesPanel).open(1)
        await settle(pilot)
        assert "The Week · fetched 2023-01-28 · harbour-bridge.txt · the quoted sentence" in screen_text(app)


def test_a_snippet_sets_a_headline_off_from_the_sentence_after_it() -> None:
    from tui.conversation import _flatten

    assert _flatten("Delta wants a no-fly list\nDelta Air Lines said on Monday.\n\nIt asked.") == \
        "Delta wants a no-fly list — Delta Air Lines said on Monday. It asked."
    assert _flatten("Quoted: \"Yes.\"\nNext line") == "Quoted: \"Yes.\" Next line"


def test_a_closest_passage_excerpt_keeps_its_subheading_apart_and_ends_on_a_whole_word() -> None:
    from tui.conversation import excerpt

    passage = ("Gains for a future government\nIn the face of major Taliban advances, a joint commission met in "
               "Doha on Tuesday.")
    assert excerpt(passage, 200) == ("Gains for a future government — In the face of major Taliban advances, a "
                                     "joint commission met in Doha on Tuesday.")
    assert excerpt(passage, 80) == "Gains for a future government — In the face of major Taliban advances, a joint…"
    assert excerpt(passage, 70) == "Gains for a future government — In the face of major Taliban…"  # not "advan…"


class FrontMatterRetriever(FakeRetriever):
    """The fake corpus plus a Markdown article whose metadata sits in a front-matter block."""

    TEXT = ("---\ntitle: \"Storm closes the harbour\"\ndate: 2024-06-02\noutlet: USA Today\nurl: " + URL + "\n---\n"
            "Storm closes the harbour\nA storm closed the harbour on Sunday, the port authority said.\n")

    def __init__(self) -> None:
        super().__init__()
        article = parse_article("storm.md", self.TEXT.encode("utf-8"))
        self._articles[article.doc_id] = article

    def ask(self, question: str, history: Sequence[Answer] | None = None) -> Answer:
        if "storm" in question.lower():
            return self._answer(question, [("storm", "A storm closed the harbour on Sunday, the port authority said.")])
        return super().ask(question, history)


async def test_the_article_view_leaves_out_the_front_matter_its_header_shows() -> None:
    app = QAApp(loader_for(FrontMatterRetriever()), ROOT / "seeds")
    async with app.run_test(size=(120, 34)) as pilot:
        await settle(pilot)
        await ask(pilot, "What did the storm do?")
        app.screen.query_one(SourcesPanel).open(1)
        await settle(pilot)
        shown = screen_text(app)
        assert "USA Today · 2024-06-02" in shown and "A storm closed the harbour on Sunday" in shown
        assert "outlet: USA Today" not in shown and "---" not in shown


def test_a_saved_conversation_shows_article_markdown_as_text_and_links_only_web_addresses() -> None:
    from qa.articles import parse_article
    from qa.records import Answer, AnswerCitation, AnswerSentence, Citation
    from tui.conversation import Exchange

    sentence = "The vote passed [click](javascript:alert(1)) with *most* members in favour."
    data = ("---\ntitle: \"Vote <b>passes</b> [x](javascript:y)\"\nurl: \"javascript:alert(1)\"\n---\n"
            f"Vote passes\n\n{sentence}\n").encode()
    article = parse_article("a`b\nc.md", data)
    start = article.text.index(sentence)
    cited = Citation(article.doc_id, article.title, article.path, start, start + len(sentence), url=article.url)
    answer = Answer("Did the vote pass?", f"{sentence} [1]", (AnswerSentence(sentence, 1),),
                    (AnswerCitation(1, cited, cited),), False, 0.9, reader="extractive")
    saved = conversation_markdown([Exchange("Did the vote pass?", answer, {article.doc_id: article})], "corpus",
                                  datetime(2024, 6, 1))
    assert "<javascript:" not in saved and not re.search(r"(?<!\\)\]\(javascript:", saved)  # no link it chose
    assert "\\[click\\](javascript:alert(1)) with \\*most\\* members" in saved
    assert "*Vote \\<b\\>passes\\</b\\> \\[x\\](javascript:y)*" in saved
    assert "`` a`b c.md ``" in saved and "`javascript:alert(1)`" in saved  # the name on one line, as code
