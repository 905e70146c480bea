"""The main screen: transcript, sources of the selected answer, status line and the question box."""

from __future__ import annotations

from textual import events, on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Footer, Header, Input

from ..conversation import Exchange
from ..widgets.question_input import QuestionInput, starts_question
from ..widgets.sources import SourcesPanel
from ..widgets.status import State, StatusLine
from ..widgets.transcript import Transcript
from ..widgets.turn import Turn
from .article import ArticleScreen


class ChatScreen(Screen):
    """Shows the conversation; the app tells it what to show and hears about questions via QuestionAsked."""

    # Under 100 columns the sources go below the transcript instead of beside it.
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (100, "-wide")]

    BINDINGS = [
        Binding("tab", "app.focus_next", "Next pane"),
        Binding("shift+tab", "app.focus_previous", "Previous pane", show=False),
        Binding("ctrl+l", "app.clear_chat", "Clear"),
        Binding("ctrl+y", "app.copy_answer", "Copy"),
        Binding("ctrl+s", "app.save_chat", "Save"),
        Binding("escape", "app.cancel_question", "Cancel question", show=False),
        *(Binding(str(n), f"open_source({n})", f"Open source {n}", show=False) for n in range(1, 10)),
    ]

    class QuestionAsked(Message):
        """The user submitted a question."""

        def __init__(self, question: str) -> None:
            super().__init__()
            self.question = question

    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal(id="main"):
            yield Transcript(id="transcript")
            yield SourcesPanel(id="sources")
        yield StatusLine(id="status")
        yield QuestionInput(id="question")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one(QuestionInput).focus()

    # --- what the app calls ------------------------------------------------------------------------------

    @property
    def transcript(self) -> Transcript:
        return self.query_one(Transcript)

    @property
    def sources(self) -> SourcesPanel:
        return self.query_one(SourcesPanel)

    @property
    def status(self) -> StatusLine:
        return self.query_one(StatusLine)

    def give_back(self, question: str) -> None:
        """Put a refused question back in the box to be corrected, unless the next one is being typed there."""
        box = self.query_one(QuestionInput)
        if not box.value:
            box.value = question
            box.cursor_position = len(question)

    def say(self, text: str, state: State = "busy") -> None:
        self.status.say(text, state)

    def add_turn(self, turn_id: int, question: str, waiting: str) -> None:
        self.transcript.add_turn(turn_id, question).show_waiting(waiting)

    def set_waiting(self, turn_id: int, text: str) -> None:
        turn = self.transcript.get_turn(turn_id)
        if turn is not None:
            turn.show_waiting(text)

    def show_answer(self, turn_id: int, exchange: Exchange) -> None:
        """Show the answer of a turn and select it, so its sources are listed."""
        turn = self.transcript.get_turn(turn_id)
        if turn is None:
            return
        turn.show_exchange(exchange)
        self._select(turn)

    def show_error(self, turn_id: int, text: str) -> None:
        turn = self.transcript.get_turn(turn_id)
        if turn is not None:
            turn.show_error(text)

    def clear_before(self, turn_id: int) -> None:
        """Remove the turns before `turn_id` (those after it have no answer yet)."""
        self.transcript.clear_before(turn_id)
        self.sources.show(None)

    # --- user input ------------------------------------------------------------------------------------

    def route_to_question_box(self, event: events.Key | events.Paste) -> None:
        """Called by the app before it hands a key or a paste to the focused widget. A letter typed in the
        transcript or the sources starts a question, as in any chat, and pasted text is a question: the box
        takes the focus first, so this key and every one after it go there, in order (digits and space keep
        their meaning in the lists until then). The focus moves at once: moved later, as Widget.focus does,
        keys of the same burst would land in two widgets' queues and arrive out of order, or be lost."""
        box = self.query_one(QuestionInput)
        if not box.has_focus and starts_question(event):
            self.set_focus(box, scroll_visible=False)

    @on(Input.Submitted, "#question")
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        box = self.query_one(QuestionInput)  # already emptied for the next question
        question = event.value.strip()
        if not question:
            self.notify("Type a question about the articles first.", severity="warning", markup=False)
            return
        from qa.errors import FilterError, QuestionError
        from qa.filters import Filters, split_filters
        from qa.question import check_question  # light: no model, no index

        try:  # refused at once, even while the model still loads
            asked, filters = split_filters(question)
            Filters.of(filters["since"], filters["until"], filters["outlets"])  # "since:2024-13" is no date
            check_question(asked)  # "since:2024" alone asks nothing
        except (QuestionError, FilterError) as error:
            self.notify(str(error), title="Cannot ask that", severity="warning", markup=False)
            self.give_back(event.value)
            return
        box.remember(question)
        self.post_message(self.QuestionAsked(question))

    @on(Turn.Selected)
    def _turn_selected(self, event: Turn.Selected) -> None:
        event.stop()
        self._select(event.turn)

    @on(SourcesPanel.Opened)
    def _source_opened(self, event: SourcesPanel.Opened) -> None:
        event.stop()
        if event.article is None:
            self.notify(f"{event.source.span.path} is no longer in the index.", severity="error", markup=False)
            return
        self.app.push_screen(ArticleScreen(event.article, event.source))

    def action_open_source(self, number: int) -> None:
        if self.sources.exchange is None:  # "the selected answer" would name something that is not there
            hint = "" if self.transcript.turns else ": ask a question first"  # else one is on its way, or failed
            self.notify(f"No answer to open sources from yet{hint}.", severity="warning", markup=False)
        elif not self.sources.open(number):
            self.notify(f"The selected answer has no source [{number}].", severity="warning", markup=False)

    def _select(self, turn: Turn) -> None:
        self.transcript.select(turn)
        self.sources.show(turn.exchange)
