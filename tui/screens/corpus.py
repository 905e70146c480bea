"""Ask for another folder of articles to answer from."""

from __future__ import annotations

from pathlib import Path

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Input, Static

from qa.display import printable


class CorpusScreen(ModalScreen[Path | None]):
    """A folder path box; Enter switches to that folder (if it holds articles), Escape cancels."""

    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, current: Path) -> None:
        super().__init__()
        self.current = current

    def compose(self) -> ComposeResult:
        with Vertical(id="corpus-box"):
            yield Static(Content.styled("Switch corpus: folder of articles (.txt, .md, .html) or an export (.jsonl)",
                                        "bold"))
            yield Input(str(self.current), id="corpus-path")
            yield Static("", id="corpus-error")
            yield Static(Content.styled("Enter to open it · Escape to cancel. The chat is cleared once it is open; if "
                                        "it cannot be opened, the chat and the current folder stay.",
                                        "$text-muted"))

    @on(Input.Submitted, "#corpus-path")
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        from qa.articles import could_hold_articles

        folder = Path(event.value.strip()).expanduser()
        problem = "Type the path of a folder of articles" if not event.value.strip() else could_hold_articles(folder)
        if problem:
            self.query_one("#corpus-error", Static).update(Content.styled(printable(problem), "$text-error"))
            return
        self.dismiss(folder)

    def action_cancel(self) -> None:
        self.dismiss(None)
