"""The status line: what the app is doing (loading, indexing, ready, failed), with a bar while indexing."""

from __future__ import annotations

from typing import Literal

from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.content import Content
from textual.widgets import ProgressBar, Static

from qa.display import printable

State = Literal["busy", "ready", "error"]


class StatusLine(Horizontal):
    """One line. Classes -busy, -ready, -error style it; the progress bar shows only while indexing."""

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        # Made here, not in compose, so the app can report status before this line is first drawn.
        self._text = Static("", id="status-text")
        self._bar = ProgressBar(show_eta=False, id="status-progress")  # no ETA: it would be a clock in the UI
        self._bar.display = False

    def compose(self) -> ComposeResult:
        yield self._text
        yield self._bar

    def say(self, text: str, state: State = "busy") -> None:
        """Show `text`; hides the progress bar."""
        self._text.update(Content(printable(text)))  # Content: a path with [brackets] is not markup
        self._bar.display = False
        self.set_class(state == "busy", "-busy")
        self.set_class(state == "ready", "-ready")
        self.set_class(state == "error", "-error")

    def progress(self, text: str, done: int, total: int) -> None:
        """Show `text` and a bar at `done` of `total`."""
        self.say(text, "busy")
        self._bar.update(total=max(total, 1), progress=done)
        self._bar.display = True

    @property
    def text(self) -> str:
        return str(self._text.visual)
