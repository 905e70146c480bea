"""One turn of the chat: the question, then its answer (or the state it is waiting in, or its error)."""

from __future__ import annotations

from textual import events
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.message import Message
from textual.widgets import Static

from qa.display import printable
from qa.records import UNSURE_NOTE

from ..conversation import Exchange, abstention_note, excerpt, marked_answer
from ..export import ABSTAINED_HEADING

CLOSEST_CHARS = 160  # how much of each closest passage an abstention shows
QUESTION_CHARS = 300  # longer questions are shown shortened in the transcript (asked whole)
# The theme's text on its muted warning colour: $text-warning alone was 3.3:1 on textual-light's background.
WARNING_STYLE = "bold $text on $warning-muted"


class Turn(Vertical):
    """A question and its answer. Click it (or move to it with Up/Down in the transcript) to list its sources.

    Classes: -waiting, -answered, -abstained, -failed, -selected.
    """

    class Selected(Message):
        """The user picked this turn; its sources should be shown."""

        def __init__(self, turn: Turn) -> None:
            super().__init__()
            self.turn = turn

    def __init__(self, turn_id: int, question: str) -> None:
        super().__init__(id=f"turn-{turn_id}", classes="-waiting")
        self.turn_id = turn_id
        self.question = question
        self.exchange: Exchange | None = None
        # Made here, not in compose, so the answer can be set before the turn is mounted.
        self._answer = Static("", classes="answer")

    def compose(self) -> ComposeResult:
        question = self.question if len(self.question) <= QUESTION_CHARS else \
            self.question[: QUESTION_CHARS - 1].rstrip() + "…"  # a pasted page would push its answer out of view
        with Horizontal(classes="asked"):  # the marker apart, so a question that wraps stays indented under itself
            yield Static(Content.styled("› ", "bold $text-primary"), classes="marker")
            yield Static(printable(question), classes="question")
        yield self._answer

    def show_waiting(self, text: str) -> None:
        self._show(Content.styled(text, "italic"), "-waiting")

    def show_exchange(self, exchange: Exchange) -> None:
        self.exchange = exchange
        answer = exchange.answer
        if not answer.abstained:
            summary = answer.written_text()  # the server reader's own words first, then the quotes they rest on
            shown = marked_answer(answer.text) if not summary else Content.assemble(
                marked_answer(summary), "\n", ("Quotes: ", "italic $text-muted"), marked_answer(answer.text))
            if answer.unsure:
                shown = Content.assemble((UNSURE_NOTE, "italic $text-warning"), "\n", shown)
            self._show(shown, "-answered")
            return
        parts: list[Content | str | tuple[str, str]] = [(ABSTAINED_HEADING, WARNING_STYLE)]
        # The filters' reason is the whole story when they leave no article; else what the reader said, if more.
        note = exchange.no_match or abstention_note(answer, ABSTAINED_HEADING)
        if note:
            parts += ["\n", printable(note)]
        if answer.closest:
            parts += ["\n", ("Closest passages:", "italic")]
            for hit in answer.closest:
                text = excerpt(hit.text, len(hit.text) + 1)
                title = " ".join(hit.citation.title.split())
                if title and text.startswith(title) and len(text) > len(title):  # the article's first passage
                    text = text[len(title):].lstrip(" .:—-")  # begins with its headline, shown before it already
                text = excerpt(text, CLOSEST_CHARS)
                parts += ["\n", (f"{hit.rank}. ", "bold"), (printable(hit.citation.title), "italic"),
                          f" — {printable(text)}"]
        self._show(Content.assemble(*parts), "-abstained")

    def show_error(self, text: str) -> None:
        self._show(Content.assemble(("Could not answer: ", "bold $text-error"), printable(text)), "-failed")

    @property
    def selected(self) -> bool:
        return self.has_class("-selected")

    def _show(self, content: Content, state: str) -> None:
        self._answer.update(content)
        self.remove_class("-waiting", "-answered", "-abstained", "-failed")
        self.add_class(state)

    def on_click(self, event: events.Click) -> None:
        if self.exchange is not None:
            self.post_message(self.Selected(self))
