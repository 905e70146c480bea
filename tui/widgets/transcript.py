"""The chat transcript: a scrolling column of turns, one of them selected (its sources are listed)."""

from __future__ import annotations

from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.content import Content
from textual.widgets import Static

from .turn import Turn

WELCOME = ("Ask a question about the articles. Answers are quoted from them; each [n] points to a source, "
           "listed beside the answer. Press F1 for keys.")


class Transcript(VerticalScroll, can_focus=True):
    """Questions and answers, oldest first. Up/Down select the previous/next answered turn."""

    BINDINGS = [
        Binding("up", "select_previous", "Previous answer", show=False),
        Binding("down", "select_next", "Next answer", show=False),
    ]

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self._welcome = Static(Content.styled(WELCOME, "$text-muted"), id="welcome")

    def compose(self):
        yield self._welcome

    @property
    def turns(self) -> list[Turn]:
        return list(self.query_children(Turn))

    def add_turn(self, turn_id: int, question: str) -> Turn:
        turn = Turn(turn_id, question)
        self._welcome.display = False
        self.mount(turn)
        self.call_after_refresh(self.scroll_end, animate=False)
        return turn

    def get_turn(self, turn_id: int) -> Turn | None:
        for turn in self.query_children(Turn):
            if turn.turn_id == turn_id:
                return turn
        return None

    def clear_before(self, turn_id: int) -> None:
        old = [turn for turn in self.query_children(Turn) if turn.turn_id < turn_id]
        self._welcome.display = len(old) == len(self.turns)
        self.remove_children(old)

    @property
    def selected(self) -> Turn | None:
        return next((t for t in self.query_children(Turn) if t.selected), None)

    def select(self, turn: Turn, scroll: bool = True) -> None:
        """Mark `turn` as the selected one (the caller shows its sources)."""
        for other in self.query_children(Turn):
            other.set_class(other is turn, "-selected")
        if scroll:
            self.call_after_refresh(self.scroll_to_widget, turn, animate=False)

    def on_resize(self) -> None:
        # A narrower terminal moves the sources below the transcript and re-wraps every answer: without this
        # the answer being read slides out of view.
        if self.selected is not None:
            self.call_after_refresh(self.scroll_to_widget, self.selected, animate=False)

    def action_select_previous(self) -> None:
        self._step(-1)

    def action_select_next(self) -> None:
        self._step(+1)

    def _step(self, direction: int) -> None:
        answered = [t for t in self.query_children(Turn) if t.exchange is not None]
        if not answered:
            return
        current = self.selected
        index = answered.index(current) + direction if current in answered else len(answered) - 1
        index = max(0, min(index, len(answered) - 1))
        answered[index].post_message(Turn.Selected(answered[index]))
