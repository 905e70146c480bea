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


class CorpusScreen(ModalScreen[Path | None]):
    """A folder path box; Enter switches to that folder (if it exists), Escape cancels."""

    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, current: Path) -> None:
        super().__init__()
        self.current = current

    def compose(self) -> ComposeResult:
        with Vertical(id="corpus-box"):
            yield Static(Content.styled("Switch corpus: folder of articles (.txt, .md, .html)", "bold"))
            yield Input(str(self.current), id="corpus-path")
            yield Static("", id="corpus-error")
            yield Static(Content.styled("Enter to open it · Escape to cancel. The chat is cleared.",
                                        "$text-muted"))

    @on(Input.Submitted, "#corpus-path")
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        folder = Path(event.value.strip()).expanduser()
        if not event.value.strip() or not folder.is_dir():
            self.query_one("#corpus-error", Static).update(
                Content.styled(f"{folder} is not a folder", "$text-error"))
            return
        self.dismiss(folder)

    def action_cancel(self) -> None:
        self.dismiss(None)
