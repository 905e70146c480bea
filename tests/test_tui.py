"""Pilot tests of the chat app, driven with a fake retriever (and once with the real one on the seeds)."""

from __future__ import annotations

import asyncio
import io
import re
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from rich.console import Console
from textual import events
from textual.app import App
from textual.geometry import Region
from textual.message import Message
from textual.notifications import Notify
from textual.widgets import Input, OptionList, Static

from qa import CorpusError, QAError
from qa.articles import parse_article
from tests.test_tui_support import ABSTENTION_TEXT, FakeRetriever, GatedLoader, ask, loader_for, settle
from tui.app import WAIT_FOR_LOAD, QAApp
from tui.screens.article import ArticleScreen
from tui.screens.chat import ChatScreen
from tui.screens.corpus import CorpusScreen
from tui.screens.help import HelpScreen
from tui.widgets.article_text import SENTENCE_STYLE, ArticleText
from tui.widgets.question_input import QuestionInput
from tui.widgets.sources import SourcesPanel
from tui.widgets.turn import Turn

ROOT = Path(__file__).resolve().parents[1]
COST = "How much will the bridge cost?"
COST_SENTENCE = "Construction will begin in March and is expected to cost 40 million euros."


class Toasts:
    """Collects the notifications an app posts (a run_test message hook)."""

    def __init__(self) -> None:
        self.seen: list[tuple[str, str]] = []

    def __call__(self, message: Message) -> None:
        if isinstance(message, Notify):
            self.seen.append((message.notification.severity, message.notification.message))

    def of(self, severity: str) -> list[str]:
        return [text for level, text in self.seen if level == severity]


def make_app(retriever: object | None = None, **kwargs) -> QAApp:
    return QAApp(loader_for(retriever or FakeRetriever()), ROOT / "seeds", **kwargs)


def typed(character: str) -> events.Key:
    """The key event a terminal sends for `character`."""
    return events.Key("space" if character == " " else character, character)


def turns(app: QAApp) -> list[Turn]:
    return list(app.chat.query(Turn))


def answer_text(turn: Turn) -> str:
    return str(turn.query_one(".answer").visual)


def screen_text(app: App) -> str:
    """The characters on screen, as a terminal would show them (no styles)."""
    console = Console(width=app.size.width, height=app.size.height, file=io.StringIO(), record=True,
                      legacy_windows=False, color_system=None)
    # The same render that App.export_screenshot draws; the compositor is Textual's internal, read-only here.
    console.print(app.screen._compositor.render_update(full=True))
    return console.export_text()


def region_text(app: App, region: Region) -> str:
    """The characters on screen inside `region` (one pane), line by line."""
    lines = screen_text(app).splitlines()[region.y : region.bottom]
    return "\n".join(line[region.x : region.right] for line in lines)


# --- asking ------------------------------------------------------------------------------------------------

async def test_asking_shows_the_answer_with_its_citation_and_source() -> None:
    fake = FakeRetriever()
    app = make_app(fake)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        assert "Ready" in app.chat.status.text
        await ask(pilot, COST, type_it=True)

        [turn] = turns(app)
        assert turn.has_class("-answered") and turn.selected
        assert answer_text(turn) == f"{COST_SENTENCE} [1]"
        sources = app.chat.query_one(SourcesPanel)
        assert [s.number for s in sources.sources] == [1]
        shown = screen_text(app)
        assert "[1] Council approves harbour bridge" in shown
        assert "harbour-bridge.txt" in shown
        assert fake.calls == [(COST, [])]
        assert app.chat.query_one(QuestionInput).value == ""


async def test_follow_up_questions_get_the_earlier_answers_as_history() -> None:
    fake = FakeRetriever()
    async with make_app(fake).run_test() as pilot:
        await settle(pilot)
        await ask(pilot, COST)
        await ask(pilot, "And what about the strike?")
        first_answer = pilot.app.exchanges[0].answer
        assert fake.calls[1] == ("And what about the strike?", [first_answer])
        assert len(turns(pilot.app)) == 2


async def test_questions_asked_quickly_are_answered_in_order_one_at_a_time() -> None:
    fake = FakeRetriever(delay=0.05)
    async with make_app(fake).run_test() as pilot:
        await settle(pilot)
        box = pilot.app.chat.query_one(QuestionInput)
        for question in (COST, "strike?", "cycle lanes?"):
            box.value = question
            await pilot.press("enter")
        await settle(pilot)
        await settle(pilot)
        assert [q for q, _ in fake.calls] == [COST, "strike?", "cycle lanes?"]
        assert [len(history) for _, history in fake.calls] == [0, 1, 2]
        assert all(t.has_class("-answered") for t in turns(pilot.app))


async def test_an_unanswerable_question_shows_the_abstention_and_closest_passages() -> None:
    async with make_app().run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await ask(pilot, "Who won the football match?")
        [turn] = turns(pilot.app)
        assert turn.has_class("-abstained") and not turn.has_class("-answered")
        text = answer_text(turn)
        assert text.startswith("The articles don't say")
        assert ABSTENTION_TEXT in text
        assert "1. Ferry workers strike over pay" in text and "2. Council approves harbour bridge" in text
        sources = pilot.app.chat.query_one(SourcesPanel)
        assert [s.kind for s in sources.sources] == ["closest", "closest"]
        assert "Closest passages (not an answer)" in screen_text(pilot.app)


async def test_an_empty_question_is_not_asked() -> None:
    fake = FakeRetriever()
    toasts = Toasts()
    async with make_app(fake).run_test(message_hook=toasts) as pilot:
        await settle(pilot)
        await ask(pilot, "   ")
        assert fake.calls == [] and turns(pilot.app) == []
        assert toasts.of("warning")


# --- errors -------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("error", [QAError("the index in seeds/.qa-index is damaged; run qa index"),
                                   RuntimeError("model exploded")])
async def test_an_error_while_asking_is_a_toast_and_the_app_keeps_going(error: Exception) -> None:
    fake = FakeRetriever(fail=error)
    toasts = Toasts()
    app = make_app(fake)
    async with app.run_test(message_hook=toasts) as pilot:
        await settle(pilot)
        await ask(pilot, COST)
        [turn] = turns(app)
        assert turn.has_class("-failed")
        assert str(error) in answer_text(turn)
        assert any(str(error) in text for text in toasts.of("error"))
        assert app.is_running

        fake.fail = None
        await ask(pilot, COST)
        assert turns(app)[-1].has_class("-answered")
        assert len(app.exchanges) == 1


async def test_a_corpus_that_cannot_be_opened_is_a_toast_and_questions_are_refused() -> None:
    loader = GatedLoader(FakeRetriever(), fail=CorpusError("no readable article (.txt, .md, .html) in /nowhere"))
    toasts = Toasts()
    app = QAApp(loader, "/nowhere")
    async with app.run_test(message_hook=toasts) as pilot:
        await loader.reached(pilot)
        box = app.chat.query_one(QuestionInput)
        box.value = COST  # asked while it opens: it waits, then is told it was not asked
        await pilot.press("enter")
        await pilot.pause()
        loader.release()
        await settle(pilot)
        assert any("no readable article" in text for text in toasts.of("error"))
        assert "Could not open" in app.chat.status.text
        [turn] = turns(app)
        assert turn.has_class("-failed") and "/nowhere could not be opened" in answer_text(turn)
        await ask(pilot, "Who freed Baradar?")  # nothing is open or opening: refused at once, kept in the box
        assert len(turns(app)) == 1 and any("No articles are open" in text for text in toasts.of("warning"))
        assert app.chat.query_one(QuestionInput).value == "Who freed Baradar?"
        assert app.is_running


# --- loading ------------------------------------------------------------------------------------------------

async def test_a_question_typed_while_loading_is_answered_once_loaded() -> None:
    fake = FakeRetriever()
    loader = GatedLoader(fake)
    app = QAApp(loader, ROOT / "seeds")
    async with app.run_test() as pilot:
        await pilot.pause()
        await loader.reached(pilot)
        assert "Indexing… 3/10 passages" in app.chat.status.text
        box = app.chat.query_one(QuestionInput)
        assert box.has_focus
        await pilot.press(*COST, "enter")
        await pilot.pause()
        [turn] = turns(app)
        assert answer_text(turn) == WAIT_FOR_LOAD
        assert fake.calls == []

        loader.release()
        await settle(pilot)
        assert turn.has_class("-answered")
        assert fake.calls == [(COST, [])]


def test_importing_the_app_loads_neither_torch_nor_the_retriever() -> None:
    code = ("import sys, tui.app; "
            "print(sorted(m for m in ('torch', 'sentence_transformers', 'qa.retriever', 'numpy') "
            "if m in sys.modules))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True)
    assert result.stdout.strip() == "[]"


# --- sources and articles -----------------------------------------------------------------------------------

async def test_opening_a_citation_shows_the_article_with_the_sentence_highlighted() -> None:
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await ask(pilot, "How much goes to cycle lanes?")
        pilot.app.chat.query_one("#source-list").focus()
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, ArticleScreen)
        view = app.screen.query_one(ArticleText)
        cited = view.cited_paragraph
        assert cited is not None
        sentence = "The final budget sets aside 12 million euros for new cycle lanes."
        content = cited.visual
        highlighted = [content.plain[s.start : s.end] for s in content.spans if s.style == SENTENCE_STYLE]
        assert highlighted == [sentence]
        # The article is long: it was scrolled so that the sentence is on screen.
        await pilot.pause()
        assert view.scroll_y > 0
        assert view.region.intersection(cited.region).height > 0
        assert sentence in screen_text(app)

        await pilot.press("escape")
        assert isinstance(app.screen, ChatScreen)


async def test_typing_in_an_article_goes_back_to_the_chat_and_starts_the_next_question() -> None:
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await ask(pilot, "How much goes to cycle lanes?")
        app.chat.query_one("#transcript").focus()
        await pilot.press("1")
        await pilot.pause()
        assert isinstance(app.screen, ArticleScreen)
        assert "esc/q Back" in screen_text(app).splitlines()[-1]  # q is taken here, and the footer says so
        await pilot.press("down", "2", "space")  # the view's own keys, and keys that start no question
        assert isinstance(app.screen, ArticleScreen)
        await pilot.press("q")
        assert isinstance(app.screen, ChatScreen) and app.chat.query_one(QuestionInput).value == ""

        await pilot.press("1")
        await pilot.pause()
        assert isinstance(app.screen, ArticleScreen)
        for character in "Who voted 2 times?":  # one burst, as a fast typist sends it
            app.post_message(typed(character))
            await asyncio.sleep(0)
        await settle(pilot)
        box = app.chat.query_one(QuestionInput)
        assert isinstance(app.screen, ChatScreen)
        assert box.has_focus and box.value == "Who voted 2 times?"


async def test_number_keys_open_sources_of_the_selected_answer() -> None:
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await ask(pilot, "Why is the bridge news?")
        app.chat.query_one("#transcript").focus()
        await pilot.press("2")
        await pilot.pause()
        assert isinstance(app.screen, ArticleScreen)
        assert app.screen.source.number == 2
        await pilot.press("1")  # from the article view, another source of the same answer takes its place
        await pilot.pause()
        assert isinstance(app.screen, ArticleScreen) and app.screen.source.number == 1
        await pilot.press("7")  # there is no source 7: the view stays
        await pilot.pause()
        assert isinstance(app.screen, ArticleScreen) and app.screen.source.number == 1
        await pilot.press("escape")  # one step back reaches the chat: the views did not pile up
        await pilot.pause()
        assert isinstance(app.screen, ChatScreen)
        await pilot.press("7")  # there is no source 7: a warning, nothing opens
        await pilot.pause()
        assert isinstance(app.screen, ChatScreen)


async def test_typing_in_the_transcript_goes_to_the_question_box() -> None:
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await ask(pilot, "Why is the bridge news?")
        app.chat.query_one("#transcript").focus()
        await pilot.press("W", "h", "o", "space", "1")
        await pilot.pause()
        box = app.chat.query_one(QuestionInput)
        assert box.has_focus and box.value == "Who 1"
        assert isinstance(app.screen, ChatScreen)  # the digit typed in the box opened nothing


async def test_keys_typed_fast_outside_the_box_all_reach_it() -> None:
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await ask(pilot, "Why is the bridge news?")
        app.chat.query_one("#source-list").focus()
        await pilot.pause()
        for character in "Who got 2 votes?":  # all queued before the box can take the focus, like a paste
            app.post_message(typed(character))
        await pilot.pause()
        await pilot.pause()
        box = app.chat.query_one(QuestionInput)
        assert box.value == "Who got 2 votes?" and isinstance(app.screen, ChatScreen)
        app.chat.query_one("#transcript").focus()
        await pilot.press("2")  # the box has the text, but the focus is elsewhere again: 2 opens source 2
        await pilot.pause()
        assert isinstance(app.screen, ArticleScreen)


@pytest.mark.parametrize("pane", ["#transcript", "#source-list"])
async def test_a_burst_of_keys_typed_outside_the_box_arrives_whole_and_in_order(pane: str) -> None:
    app = make_app(FakeRetriever(delay=0.3))
    async with app.run_test(size=(120, 35)) as pilot:
        await settle(pilot)
        await ask(pilot, "Why is the bridge news?")
        box = app.chat.query_one(QuestionInput)
        box.value = COST
        await pilot.press("enter")  # answered while the next question is typed
        app.chat.query_one(pane).focus()
        await pilot.pause()
        for character in "When was 1 bridge opened?":  # one burst, as tmux send-keys or a fast typist sends it
            app.post_message(typed(character))
            await asyncio.sleep(0)  # the app reads each key as it comes
        await settle(pilot)
        assert box.value == "When was 1 bridge opened?" and box.has_focus  # it used to lose "hen" or mix letters
        assert isinstance(app.screen, ChatScreen)


async def test_pasted_lines_are_one_question_in_the_box_wherever_the_focus_was() -> None:
    app = make_app()
    async with app.run_test(size=(120, 35)) as pilot:
        await settle(pilot)
        await ask(pilot, "Why is the bridge news?")
        box = app.chat.query_one(QuestionInput)
        app.post_message(events.Paste("How much will\n  the bridge\r\n\ncost?\n"))
        await pilot.pause()
        assert box.value == "How much will the bridge cost?"
        box.value = ""
        app.chat.query_one("#transcript").focus()
        await pilot.pause()
        app.post_message(events.Paste("Who builds\nthe bridge?"))
        await pilot.pause()
        assert box.has_focus and box.value == "Who builds the bridge?"
        box.cursor_position = len("Who")
        app.post_message(events.Paste("\nREALLY\n"))
        await pilot.pause()
        assert box.value == "Who REALLY builds the bridge?"  # it was "Who REALLYbuilds the bridge?"


async def test_the_selected_answer_stays_in_view_when_the_terminal_narrows() -> None:
    app = make_app()
    async with app.run_test(size=(120, 30)) as pilot:
        await settle(pilot)
        for question in ("Why is the bridge news?", COST, "Who builds the bridge?", "When does it open?", "What else?"):
            await ask(pilot, question)
        transcript = app.chat.transcript
        last = turns(app)[-1]
        assert transcript.selected is last
        await pilot.resize_terminal(90, 30)  # the sources move below: the transcript gets shorter
        await settle(pilot)
        await pilot.pause()
        visible = transcript.scrollable_content_region
        assert visible.contains_region(last.region), (last.region, visible)


async def test_selecting_an_earlier_answer_lists_its_sources() -> None:
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await ask(pilot, COST)
        await ask(pilot, "Who won the football match?")
        sources = app.chat.query_one(SourcesPanel)
        assert sources.sources[0].kind == "closest"
        first = turns(app)[0]
        await pilot.click(first)
        await pilot.pause()
        assert first.selected and sources.exchange is first.exchange
        assert sources.sources[0].kind == "cited"
        app.chat.query_one("#transcript").focus()
        await pilot.press("down")
        await pilot.pause()
        assert turns(app)[1].selected


class LongQuote(FakeRetriever):
    """Answers with one sentence taller than the sources pane, in a wide terminal too."""

    SENTENCE = "The report lists " + ", ".join(f"item {n}" for n in range(1, 300)) + " and finally Zanzibar."

    def __init__(self) -> None:
        super().__init__()
        article = parse_article("report.txt", f"The council report\n{self.SENTENCE}\n".encode())
        self._articles[article.doc_id] = article

    def ask(self, question, history=None, **kwargs):
        return self._answer(question, [("report", self.SENTENCE)])


@pytest.mark.parametrize("size", [(80, 24), (160, 40)])
async def test_the_end_of_a_source_taller_than_its_pane_is_reached_with_the_keys(size) -> None:
    app = make_app(LongQuote())
    async with app.run_test(size=size) as pilot:
        await settle(pilot)
        await ask(pilot, COST)
        await pilot.press("tab", "tab")  # from the question box, past the transcript
        sources = app.chat.query_one("#source-list")
        assert app.focused is sources
        assert "pgdn Scroll" in screen_text(app).splitlines()[-1]  # the footer says how
        assert "Zanzibar" not in region_text(app, sources.scrollable_content_region)
        await pilot.press(*["pagedown"] * 8)
        assert "Zanzibar" in region_text(app, sources.scrollable_content_region)
        await pilot.press(*["pageup"] * 8)
        assert "The report lists item 1," in region_text(app, sources.scrollable_content_region)
        shown = region_text(app, sources.scrollable_content_region).splitlines()
        await pilot.press("down")  # one row further into the same source
        assert region_text(app, sources.scrollable_content_region).splitlines()[:-1] == shown[1:]
        await pilot.press("up")
        assert region_text(app, sources.scrollable_content_region).splitlines() == shown


async def test_markup_in_an_article_is_shown_literally() -> None:
    app = make_app()
    async with app.run_test(size=(120, 30)) as pilot:
        await settle(pilot)
        await ask(pilot, "What tags do sites leave?")
        shown = screen_text(app)
        assert "[bold red]x[/]" in shown
        assert "[link=https://example.com]click here[/link]" in shown
        assert "Stray [bold red]x[/] tags in the wild" in shown  # the title, in the sources panel

        await pilot.press("tab", "1")  # to the transcript, then source 1
        await pilot.pause()
        assert isinstance(app.screen, ArticleScreen)
        shown = screen_text(app)
        assert "[b]brackets[/b]" in shown
        assert "[link=https://example.com]click here[/link]" in shown


# --- input, keys and commands -------------------------------------------------------------------------------

async def test_up_and_down_walk_the_question_history() -> None:
    async with make_app().run_test() as pilot:
        await settle(pilot)
        await ask(pilot, "first question?")
        await ask(pilot, "second question?")
        box = pilot.app.chat.query_one(QuestionInput)
        await pilot.press(*"draft")
        await pilot.press("up")
        assert box.value == "second question?"
        await pilot.press("up")
        assert box.value == "first question?"
        await pilot.press("up")
        assert box.value == "first question?"
        await pilot.press("down")
        assert box.value == "second question?"
        await pilot.press("down")
        assert box.value == "draft"
        await pilot.press("down")
        assert box.value == "draft"


async def test_copy_puts_the_last_answer_and_its_sources_on_the_clipboard() -> None:
    app = make_app()
    async with app.run_test() as pilot:
        await settle(pilot)
        await ask(pilot, "Why is the bridge news?")
        await pilot.press("ctrl+y")
        copied = app.clipboard
        assert copied.startswith("Q: Why is the bridge news?\n")
        assert "[1]" in copied and "[2]" in copied
        assert ('[1] Council approves harbour bridge (harbour-bridge.txt): "The city council voted 7-2 on '
                'Tuesday to approve a new bridge across the harbour."') in copied
        await ask(pilot, COST)
        await pilot.press("tab", "up")  # to the transcript, then the answer before
        await pilot.press("ctrl+y")
        assert app.clipboard.startswith("Q: Why is the bridge news?\n")  # the selected one, not the newest


async def test_save_writes_the_conversation_as_markdown_with_citations(tmp_path: Path) -> None:
    toasts = Toasts()
    app = make_app(save_dir=tmp_path)
    async with app.run_test(message_hook=toasts) as pilot:
        await settle(pilot)
        await ask(pilot, COST)
        await ask(pilot, "Who won the football match?")
        await pilot.press("ctrl+s")
        await pilot.pause()
    [saved] = list(tmp_path.iterdir())
    assert re.fullmatch(r"newsqa-chat-\d{8}-\d{6}\.md", saved.name)
    markdown = saved.read_text(encoding="utf-8")
    assert f"## 1. {COST}" in markdown
    assert f"{COST_SENTENCE} [1]" in markdown
    assert "1. *Council approves harbour bridge* — `harbour-bridge.txt`" in markdown
    assert f"   > {COST_SENTENCE}" in markdown
    assert "## 2. Who won the football match?" in markdown
    assert "*The articles don't say.*" in markdown
    assert markdown.count("*fake reader · confidence") == 2


async def test_save_goes_to_the_home_folder_when_the_current_one_cannot_be_written(tmp_path: Path,
                                                                                   monkeypatch) -> None:
    (tmp_path / "home").mkdir()
    monkeypatch.setattr(Path, "cwd", classmethod(lambda cls: tmp_path / "gone"))  # unwritable, even for root
    monkeypatch.setattr(Path, "home", classmethod(lambda cls: tmp_path / "home"))
    toasts = Toasts()
    app = make_app()
    async with app.run_test(message_hook=toasts) as pilot:
        await settle(pilot)
        await ask(pilot, COST)
        await pilot.press("ctrl+s")
        await pilot.pause()
    [saved] = list((tmp_path / "home").iterdir())
    assert any(str(saved) in text for text in toasts.of("information")), toasts.of("information")
    assert any(saved.name in text for _, text in toasts.seen)


async def test_clear_forgets_the_conversation() -> None:
    fake = FakeRetriever()
    async with make_app(fake).run_test() as pilot:
        await settle(pilot)
        await ask(pilot, COST)
        await pilot.press("ctrl+l")
        await pilot.pause()
        assert turns(pilot.app) == [] and pilot.app.exchanges == []
        await ask(pilot, "strike?")
        assert fake.calls[-1] == ("strike?", [])


async def test_clearing_while_a_question_is_answered_says_so_in_the_status_line() -> None:
    app = make_app(FakeRetriever(delay=1.0))
    async with app.run_test() as pilot:
        await settle(pilot)
        app.chat.query_one(QuestionInput).value = COST
        await pilot.press("enter")
        await pilot.pause(0.2)
        await pilot.press("ctrl+l")
        await pilot.pause()
        assert app.chat.status.text.startswith("Cleared")  # it said "Answering…" until the answer came and went
        await pilot.pause(1.5)  # the cancelled question's step ends
        await settle(pilot)
        assert "Ready" in app.chat.status.text and turns(app) == []


async def test_a_reading_model_stopped_by_a_cancel_logs_no_warning(caplog) -> None:
    from qa.llm.activity import Cancelled

    app = make_app(FakeRetriever(fail=Cancelled("cancelled")))
    async with app.run_test() as pilot:
        await settle(pilot)
        with caplog.at_level("WARNING", logger="tui.app"):
            await ask(pilot, COST)
    # after a quit the warning, with its traceback, reached the terminal the chat had given back
    assert "could not answer" not in caplog.text


async def test_a_toast_leaves_the_question_box_and_status_line_in_view() -> None:
    from textual.widgets._toast import Toast  # the widget a notification is drawn as

    app = make_app()
    async with app.run_test(size=(100, 30), notifications=True) as pilot:
        await settle(pilot)
        app.chat.query_one(QuestionInput).value = "???"
        await pilot.press("enter")  # refused: "Cannot ask that", while the question is corrected in the box
        await pilot.pause(0.5)
        [toast] = app.screen.query(Toast)
        box, status = app.chat.query_one(QuestionInput), app.chat.status
        assert not toast.region.overlaps(box.region) and not toast.region.overlaps(status.region)


async def test_help_lists_the_keys_and_escape_closes_it() -> None:
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await pilot.press("f1")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        shown = screen_text(app)
        for key in ("Ctrl+Y", "Ctrl+S", "Ctrl+L", "Ctrl+P", "Ctrl+Q", "Escape", "open source [n]"):
            assert key in shown
        await pilot.press("escape")
        assert isinstance(app.screen, ChatScreen)


async def test_the_command_palette_re_indexes() -> None:
    seen: list[Path] = []
    app = QAApp(loader_for(FakeRetriever(), seen), ROOT / "seeds")
    async with app.run_test() as pilot:
        await settle(pilot)
        await pilot.press("ctrl+p")
        await pilot.pause()
        await pilot.press(*"Re-index")
        await pilot.pause(0.3)
        await pilot.press("enter")
        await settle(pilot)
        assert seen == [ROOT / "seeds", ROOT / "seeds"]
        assert "Ready" in app.chat.status.text


async def test_switching_corpus_loads_the_new_folder_and_clears_the_chat(tmp_path: Path) -> None:
    seen: list[Path] = []
    app = QAApp(loader_for(FakeRetriever(), seen), ROOT / "seeds")
    async with app.run_test() as pilot:
        await settle(pilot)
        await ask(pilot, COST)
        app.action_switch_corpus()
        await pilot.pause()
        assert len(turns(app)) == 1  # kept until the new folder is open
        await pilot.pause()
        assert isinstance(app.screen, CorpusScreen)
        path_box = app.screen.query_one(Input)
        path_box.value = str(tmp_path / "missing")
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, CorpusScreen)  # no such folder: the dialog stays, saying why
        assert "does not exist" in screen_text(app)
        (tmp_path / "notes.pdf").write_bytes(b"%PDF")
        path_box.value = str(tmp_path)
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, CorpusScreen) and "holds no articles" in screen_text(app)
        (tmp_path / "deep" / "er").mkdir(parents=True)
        (tmp_path / "deep" / "er" / "story.md").write_text("A story\n\nIt happened.\n")
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, ChatScreen)
        assert seen == [ROOT / "seeds", tmp_path]
        assert app.corpus == tmp_path and app.sub_title == tmp_path.name
        assert turns(app) == [] and app.exchanges == []


async def test_a_corpus_that_fails_to_open_gives_the_chat_back_to_the_previous_one(tmp_path: Path) -> None:
    retriever = FakeRetriever()
    asked = threading.Event()

    def load(corpus: Path, progress) -> object:
        if corpus == tmp_path:
            asked.wait(10)  # fails after the question below is asked, as a real folder takes its time
            raise CorpusError(f"no readable article (.txt, .md, .html, .jsonl) in {corpus}: a.txt is empty")
        return retriever

    app = QAApp(load, ROOT / "seeds")
    async with app.run_test() as pilot:
        await settle(pilot)
        await ask(pilot, "strike?")
        (tmp_path / "a.txt").write_text("")
        app._switch_corpus(tmp_path)
        app.chat.query_one(QuestionInput).value = COST  # asked while the new folder opens: answered from
        await pilot.press("enter")  # the one that stays
        await pilot.pause()
        asked.set()
        await settle(pilot)
        assert app.retriever is retriever and app.corpus == ROOT / "seeds" and app.sub_title == "seeds"
        assert f"still answering from {ROOT / 'seeds'}" in app.chat.status.text
        # the conversation stays, and goes on: the question asked meanwhile follows up the one before
        assert [t.has_class("-answered") for t in turns(app)] == [True, True] and len(app.exchanges) == 2
        assert [len(history) for _, history in retriever.calls] == [0, 1]
        await ask(pilot, "cycle lanes?")
        await settle(pilot)
        assert app.chat.status.text.startswith("Ready")  # the failure was seen: the status line moves on


# --- the real retriever ---------------------------------------------------------------------------------------

@pytest.mark.slow
async def test_the_real_retriever_answers_a_seed_question(seed_retriever) -> None:
    pytest.importorskip("qa.answer", reason="qa.answer (Retriever.ask) has not landed yet")
    app = QAApp(loader_for(seed_retriever), ROOT / "seeds")
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await ask(pilot, "Which countries did the envoy visit?")
        [turn] = turns(app)
        assert turn.has_class("-answered"), answer_text(turn)
        exchange = app.exchanges[0]
        assert exchange.answer.citations
        shown = screen_text(app)
        for cited in exchange.answer.citations:
            article = exchange.articles[cited.citation.doc_id]
            assert article.text[cited.citation.start : cited.citation.end].strip()
            assert f"[{cited.number}]" in answer_text(turn)
        assert f"[1] {exchange.answer.citations[0].citation.title[:16]}" in shown


async def test_lines_that_arrive_in_one_burst_are_asked_one_by_one() -> None:
    """A paste of several lines, or type-ahead over a slow link: every key is queued before the first Enter
    is handled, and each question must still be asked alone."""
    app = make_app()
    async with app.run_test() as pilot:
        await settle(pilot)
        for character in f"{COST}\rWho freed Baradar?\r":
            app.post_message(events.Key("enter" if character == "\r" else character, character))
        await settle(pilot)
        assert [exchange.question for exchange in app.exchanges] == [COST, "Who freed Baradar?"]
        assert app.chat.query_one(QuestionInput).value == ""
        for key, character in [("up", None), ("up", None), ("enter", "\r")]:  # the one before last, again
            app.post_message(events.Key(key, character))
        await settle(pilot)
        assert [exchange.question for exchange in app.exchanges] == [COST, "Who freed Baradar?", COST]


@pytest.mark.parametrize("question", ["since:2024-13 Who freed Baradar?", "since:2021 until:2020 Who freed Baradar?",
                                      "since:2020", "until:yesterday Who freed Baradar?"])
async def test_a_question_with_filters_that_cannot_be_used_is_refused_on_enter(question: str) -> None:
    fake = FakeRetriever()
    toasts = Toasts()
    app = make_app(fake)
    async with app.run_test(message_hook=toasts) as pilot:
        await settle(pilot)
        await ask(pilot, question)
        assert fake.calls == [] and turns(app) == []
        assert toasts.of("warning") and app.chat.query_one(QuestionInput).value == question


@pytest.mark.slow
async def test_filters_that_match_no_article_say_so(seed_retriever) -> None:
    app = QAApp(loader_for(seed_retriever), ROOT / "seeds")
    async with app.run_test() as pilot:
        await settle(pilot)
        await ask(pilot, "outlet:cnn What did Khalilzad say?")
        assert answer_text(turns(app)[0]) == ("The articles don't say\n"
                                              "No article matches outlets cnn (no article here names its outlet)")


async def test_a_closest_passage_that_opens_with_the_headline_does_not_repeat_it() -> None:
    from qa.records import Citation, Hit

    class FromTheTop(FakeRetriever):  # a first passage: headline, then the first paragraph
        def _abstain(self, question: str):
            answer = super()._abstain(question)
            hits = []
            for hit in answer.closest:
                article = self._articles[hit.citation.doc_id]
                start, end = article.lines[0][0], article.lines[1][1]
                hits.append(Hit(hit.rank, hit.score, article.text[start:end],
                                Citation(article.doc_id, article.title, article.path, start, end)))
            return type(answer)(*[tuple(hits) if field == "closest" else getattr(answer, field)
                                  for field in answer.__dataclass_fields__])

    async with make_app(FromTheTop()).run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await ask(pilot, "Who won the football match?")
        text = answer_text(turns(pilot.app)[0])
        assert text.count("Ferry workers strike over pay") == 1 and "pay — Ferry crews walked off" in text


async def test_a_very_long_question_is_shown_shortened_and_asked_whole() -> None:
    fake = FakeRetriever()
    question = COST + " " + "and what else happened there " * 60
    async with make_app(fake).run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await ask(pilot, question)
        shown = str(turns(pilot.app)[0].query_one(".question").visual)
        assert len(shown) <= 302 and shown.endswith("…")
        assert fake.calls[0][0] == question.strip()


@pytest.mark.parametrize("told_before", [False, True])
async def test_skipped_files_are_shown_once_when_they_first_appear(told_before: bool) -> None:
    from dataclasses import replace

    from qa.articles import SkippedFile

    fake = FakeRetriever()
    skipped = (SkippedFile("broken.txt", "is not UTF-8"), SkippedFile("empty.txt", "is empty"))
    fake.report = replace(fake.report, skipped=skipped, newly_skipped=() if told_before else skipped)
    toasts = Toasts()
    async with make_app(fake).run_test(message_hook=toasts) as pilot:
        await settle(pilot)
    shown = [text for text in toasts.of("warning") if text.startswith("Skipped")]
    assert shown == ([] if told_before else ["Skipped 2 files: broken.txt (is not UTF-8), empty.txt (is empty)"])


async def test_the_server_readers_own_words_show_above_the_quotes_and_are_copied_and_saved(tmp_path: Path) -> None:
    from dataclasses import replace

    from qa.records import WrittenSentence

    class Writing(FakeRetriever):
        def ask(self, question, history=None, **kwargs):
            answer = super().ask(question, history)
            return replace(answer, written=(WrittenSentence("Building starts in March.", (1,)),))

    app = make_app(Writing(), save_dir=tmp_path)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await ask(pilot, COST)
        shown = answer_text(turns(app)[0])
        assert shown.startswith("Building starts in March. [1]") and f"Quotes: {COST_SENTENCE} [1]" in shown
        await pilot.press("ctrl+y", "ctrl+s")
        await pilot.pause()
        assert f"Building starts in March. [1]\n\nQuotes:\n{COST_SENTENCE} [1]" in app.clipboard
    [saved] = list(tmp_path.iterdir())
    assert "Building starts in March. [1]\n\nQuotes:\n\n" in saved.read_text(encoding="utf-8")


async def test_a_digit_before_any_answer_says_there_is_no_answer_yet() -> None:
    toasts = Toasts()
    app = make_app()
    async with app.run_test(size=(100, 30), message_hook=toasts) as pilot:
        await settle(pilot)
        app.chat.query_one("#transcript").focus()
        await pilot.press("1")
        await pilot.pause()
        assert isinstance(app.screen, ChatScreen)
        assert toasts.of("warning") == ["No answer to open sources from yet: ask a question first."]


async def test_the_same_toast_is_not_stacked_while_it_is_on_screen() -> None:
    from textual.widgets._toast import Toast  # the widget a notification is drawn as

    app = make_app()
    async with app.run_test(size=(100, 30), notifications=True) as pilot:
        await settle(pilot)
        app.chat.query_one("#transcript").focus()
        await pilot.press("1", "1", "1")
        await pilot.pause()
        app.notify("No answer to open sources from yet: ask a question first.", severity="error")
        await pilot.pause()
        await pilot.pause()
        shown = [(toast.has_class("-warning"), toast.has_class("-error")) for toast in app.screen.query(Toast)]
        assert sorted(shown) == [(False, True), (True, False)]  # once as a warning, once as an error


async def test_the_status_line_says_a_question_is_being_answered_then_ready() -> None:
    from tui.app import ANSWERING

    app = make_app(FakeRetriever(delay=0.5))
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        box = app.chat.query_one(QuestionInput)
        box.value = COST
        await pilot.press("enter")
        await pilot.pause()
        assert app.chat.status.text == ANSWERING
        await settle(pilot)
        assert app.chat.status.text == "Ready · 4 articles · 4 passages"


async def test_the_status_line_says_a_chosen_reader_loads_and_a_question_waits_for_it() -> None:
    import threading

    class SlowReaders(FakeRetriever):
        """Building a reader waits for `built`; a question for it waits too (as Retriever.reader's lock does)."""

        def __init__(self) -> None:
            super().__init__()
            self.built = threading.Event()

        def reader(self, name=None):
            self.built.wait(10)
            return object()

        def ask(self, question, history=None, reader=None):
            if reader:
                self.built.wait(10)
            return super().ask(question, history)

    retriever = SlowReaders()
    app = make_app(retriever)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        app.action_use_reader("strict")
        await pilot.pause()
        assert app.chat.status.text == "Loading the strict reader…"
        box = app.chat.query_one(QuestionInput)
        box.value = COST
        await pilot.press("enter")
        await pilot.pause()
        [turn] = turns(app)
        assert answer_text(turn) == "Waiting for the strict reader to load…"
        assert app.chat.status.text == "Loading the strict reader… The question waits for it."
        retriever.built.set()
        await settle(pilot)
        assert turn.has_class("-answered")
        assert app.chat.status.text == "Ready · 4 articles · 4 passages · reader: strict"


async def test_re_indexing_tells_what_changed_or_that_nothing_did() -> None:
    from dataclasses import replace

    from qa.index import SyncReport

    fake = FakeRetriever()
    toasts = Toasts()
    app = make_app(fake)
    async with app.run_test(message_hook=toasts) as pilot:
        await settle(pilot)
        assert toasts.of("information") == []  # opening the folder is not a re-index
        app.action_reindex()
        await settle(pilot)
        fake.report = replace(fake.report, sync=SyncReport(2, 1, 2, None))  # a store that names no file
        app.action_reindex()
        await settle(pilot)
        removed = ("a.txt", "b.txt", "c.txt", "d\x1b.txt")
        fake.report = replace(fake.report, sync=SyncReport(2, 1, 4, None, changed_paths=("new.md",),
                                                           removed_paths=removed))
        app.action_reindex()
        await settle(pilot)
        fake.report = replace(fake.report, sync=SyncReport(3, 0, 0, None, updated=1, updated_paths=("dated.md",)))
        app.action_reindex()
        await settle(pilot)
    assert toasts.of("information") == ["Up to date: 4 articles, nothing changed",
                                        "1 article added or changed, 2 articles removed · 4 articles, 4 passages",
                                        "1 article added or changed (new.md), 4 articles removed (a.txt, b.txt, "
                                        "c.txt and 1 more) · 4 articles, 4 passages",
                                        "1 article updated without embedding (dated.md) · 4 articles, 4 passages"]


async def test_filters_that_leave_no_article_say_why_in_the_answer() -> None:
    from dataclasses import replace

    class Outlets(FakeRetriever):
        def no_article_matches(self, since=None, until=None, outlets=None):
            return "no article matches outlets bbc (outlets here: CNN)" if outlets else None

        def ask(self, question, history=None, **filters):
            answer = super().ask(question, history)
            far = filters or question.startswith("Who won")
            return replace(answer, text="The articles don't say.", closest=()) if far else answer

    app = make_app(Outlets())
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await ask(pilot, "outlet:bbc Who won the football match?")
        reason = "No article matches outlets bbc (outlets here: CNN)"
        assert answer_text(turns(app)[0]) == f"The articles don't say\n{reason}"  # not an empty line
        empty = app.chat.query_one("#sources-empty", Static)
        assert empty.display and str(empty.render()) == "No article matches the filters of this question."
        await pilot.press("ctrl+y")
        assert f"The articles don't say. {reason}" in app.clipboard
        await ask(pilot, "Who won the football match?")  # no filter, and (here) no passage comes close either
        await pilot.pause()
        assert empty.display and str(empty.render()) == "No passage of the articles came close to this question."


async def _open_the_cycle_lanes_article(pilot) -> ArticleText:
    await settle(pilot)
    await ask(pilot, "How much goes to cycle lanes?")
    pilot.app.chat.query_one("#source-list").focus()
    await pilot.press("enter")
    await pilot.pause()
    await pilot.pause()
    return pilot.app.screen.query_one(ArticleText)


@pytest.mark.parametrize("before, after", [((120, 35), (60, 18)), ((40, 12), (220, 50))])
async def test_the_quote_stays_in_view_when_the_terminal_is_resized(before, after) -> None:
    app = make_app()
    async with app.run_test(size=before) as pilot:
        view = await _open_the_cycle_lanes_article(pilot)
        assert "The final budget" in screen_text(app)
        await pilot.resize_terminal(*after)
        await pilot.pause()
        await pilot.pause()
        shown = screen_text(app)
        assert "The final budget" in shown and "12 million" in shown, shown
        assert view.scroll_y > 0 or after[1] >= 50


async def test_the_place_read_stays_in_view_when_the_terminal_is_resized() -> None:
    from tui.widgets.article_text import Paragraph

    app = make_app()
    async with app.run_test(size=(120, 35)) as pilot:
        view = await _open_the_cycle_lanes_article(pilot)
        item = next(p for p in view.query(Paragraph) if "debated item 10 " in str(p.visual))
        view.scroll_to(y=item.virtual_region.y, animate=False, immediate=True)  # away from the quote
        await pilot.pause()
        await pilot.resize_terminal(60, 18)
        await pilot.pause()
        await pilot.pause()
        shown = screen_text(app)
        assert "debated item 10 " in shown and "debated item 9 " not in shown, shown  # still at the top
        assert "The final budget" not in shown


def _contrast(foreground, background) -> float:
    """The WCAG contrast ratio of two colours (rich ColorTriplets)."""
    def luminance(colour) -> float:
        channels = [c / 255 for c in colour]
        r, g, b = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
        return 0.2126 * r + 0.7152 * g + 0.0722 * b

    high, low = sorted([luminance(foreground), luminance(background)], reverse=True)
    return (high + 0.05) / (low + 0.05)


def _contrast_on_screen(app: App, text: str) -> float:
    """The contrast of the first segment on screen that holds `text`, as the terminal draws it."""
    update = app.screen._compositor.render_update(full=True)  # Textual's internal, read-only here
    for line in update.strips:
        for strip in line:
            for segment in strip:
                if text in segment.text and segment.style and segment.style.bgcolor:
                    return _contrast(segment.style.color.triplet, segment.style.bgcolor.triplet)
    raise AssertionError(f"{text!r} is not on screen")


@pytest.mark.parametrize("theme", ["textual-dark", "textual-light", "nord", "gruvbox"])
async def test_the_highlighted_quote_and_the_abstention_are_readable_in_every_theme(theme: str) -> None:
    app = make_app()
    async with app.run_test(size=(120, 35)) as pilot:
        app.theme = theme
        await settle(pilot)
        await ask(pilot, "Who won the football match?")
        assert _contrast_on_screen(app, "The articles don't say") >= 4.5
        await ask(pilot, COST)
        assert _contrast_on_screen(app, "Construction will begin") >= 4.5  # in the sources panel
        app.chat.query_one("#source-list").focus()
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, ArticleScreen)
        assert _contrast_on_screen(app, "Construction will begin") >= 4.5


async def test_copies_of_a_source_say_where_and_when_they_were_published() -> None:
    from dataclasses import replace

    from qa import Citation

    class Syndicated(FakeRetriever):
        def ask(self, question, history=None, **kwargs):
            answer = super().ask(question, history)
            first = answer.citations[0]
            span = replace(first.citation, outlet="Antiwar.com", date="2021-08-10")
            copies = (Citation("b", "B", "b.md", 0, 9, "2021-08-11", "USA Today"),
                      Citation("e", "E", "e.md", 0, 9, "2021-08-10", "Antiwar.com"),
                      Citation("f", "F", "f.txt", 0, 9))
            return replace(answer, citations=(replace(first, citation=span, also=copies), *answer.citations[1:]))

    app = make_app(Syndicated())
    async with app.run_test(size=(160, 40)) as pilot:
        await settle(pilot)
        await ask(pilot, COST)
        option = app.chat.query_one("#source-list", OptionList).get_option_at_index(0)
        assert str(option.prompt).endswith(
            "\nalso in: USA Today · 2021-08-11; Antiwar.com · 2021-08-10 (another page); f.txt")


async def test_an_unsure_answer_says_so_before_its_quotes(tmp_path: Path) -> None:
    from dataclasses import replace

    from qa.records import UNSURE_NOTE

    class Unsure(FakeRetriever):
        def ask(self, question, history=None, **kwargs):
            return replace(super().ask(question, history), confidence=0.45, unsure=True)

    app = make_app(Unsure(), save_dir=tmp_path)
    async with app.run_test(size=(120, 30)) as pilot:
        await settle(pilot)
        await ask(pilot, COST)
        assert answer_text(turns(app)[0]).startswith(f"{UNSURE_NOTE}\n{COST_SENTENCE}")
        await pilot.press("ctrl+y")
        assert f"{UNSURE_NOTE}\n{COST_SENTENCE}" in app.clipboard
        await pilot.press("ctrl+s")
        await pilot.pause()
        [saved] = tmp_path.glob("*.md")
        assert f"*{UNSURE_NOTE}*" in saved.read_text()


async def test_a_question_that_wraps_stays_indented_under_itself() -> None:
    question = "How much will the new harbour bridge that the city council approved on Tuesday cost in the end?"
    async with make_app().run_test(size=(80, 30)) as pilot:
        await settle(pilot)
        await ask(pilot, question)
        lines = screen_text(pilot.app).splitlines()
        first = next(i for i, line in enumerate(lines) if "›" in line)
        column = lines[first].index("›") + 2  # where the question's text starts
        following = lines[first + 1]  # its second line: under the text, not under the marker
        assert following[:column].strip() in ("", "▌") and following[column] != " "


async def test_an_abstention_says_its_heading_once_and_then_why() -> None:
    from dataclasses import replace

    class Why(FakeRetriever):
        def ask(self, question, history=None, **kwargs):
            answer = super().ask(question, history)
            return replace(answer, text="The articles don't say. No article holds “Khalilzd”.") if answer.abstained \
                else answer

    app = make_app(Why())
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await ask(pilot, "Who won the football match?")
        text = answer_text(turns(app)[0])
        assert text.startswith("The articles don't say\nNo article holds “Khalilzd”.\n") and text.count("don't say") == 1
        await pilot.press("ctrl+y")
        assert "The articles don't say. No article holds “Khalilzd”.\n" in app.clipboard


async def test_the_article_view_dims_page_chrome_but_not_a_sentence_whose_label_was_cut_off() -> None:
    from qa.articles import make_article
    from qa.records import Citation
    from tui.conversation import Source
    from tui.screens.article import ArticleScreen

    text = ("Coach wins award\nAI-assisted summary Iisalo, who was the EuroCup Coach of the Year, won again.\n"
            "Sign up for our newsletter to get it in your inbox, sign up here.\nThe club said he would stay.\n")
    article = make_article("coach", "coach.txt", text, "h", title="Coach wins award")
    kept = [text[a:b] for a, b in article.lines]
    assert "Iisalo, who was the EuroCup Coach of the Year, won again." in kept  # the label cut off, the rest kept
    start = text.index("The club")
    span = Citation("coach", article.title, "coach.txt", start, start + 28)
    whole = Citation("coach", article.title, "coach.txt", 0, len(text))
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await app.push_screen(ArticleScreen(article, Source(1, "cited", span, whole)))
        await pilot.pause()
        shown = {str(p.render()).strip(): p.has_class("-debris") for p in app.screen.query(".paragraph")}
        assert shown["AI-assisted summary Iisalo, who was the EuroCup Coach of the Year, won again."] is False
        assert shown["Sign up for our newsletter to get it in your inbox, sign up here."] is True
