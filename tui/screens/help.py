"""The help screen: what the app shows and every key it answers to."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Container, VerticalScroll
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Static

KEYS: list[tuple[str, str]] = [
    ("Enter", "ask the question typed in the box"),
    ("Up / Down", "in the box: earlier questions; in the chat: previous / next answer; in the sources: "
                  "scroll through a long source, then go to the next"),
    ("PgUp / PgDn", "in the sources or an article: scroll a page"),
    ("Tab / Shift+Tab", "move between the chat, the sources and the question box"),
    ("1 … 9", "open source [n] of the selected answer (outside the question box)"),
    ("a letter", "outside the question box, in an article too (where q goes back): starts the next question"),
    ("Enter / click", "on a source: open it in its article"),
    ("Escape / q", "back from an article or this help; in the chat, Escape cancels the question being answered"),
    ("Ctrl+Y", "copy the selected answer with its sources"),
    ("Ctrl+S", "save the conversation as Markdown in the current folder"),
    ("Ctrl+L", "clear the chat"),
    ("Ctrl+P", "commands: re-index, switch corpus, reader (extractive, strict, server), theme …"),
    ("F1", "this help"),
    ("Ctrl+Q", "quit"),
]

ABOUT = (
    "Answers are sentences quoted from the articles; [n] after a sentence names its source, listed in the "
    "sources panel with the sentence highlighted in its context. When the articles do not answer a question "
    "the chat says so (\"The articles don't say\") and lists the closest passages instead. Follow-up "
    "questions see the earlier answers of the conversation. To keep to some articles, type filters with the "
    "question: since:2024-05 until:2024-06-30 outlet:cnn,usatoday What did the envoy say?"
)


class HelpScreen(ModalScreen[None]):
    """Keys and a word on reading answers. Escape, F1 or q closes it."""

    BINDINGS = [
        Binding("escape", "dismiss", "Close"),
        Binding("f1", "dismiss", "Close", show=False),
        Binding("q", "dismiss", "Close", show=False),
    ]

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="help-box"):
            yield Static(Content.styled("newsqa — keys", "bold"), id="help-title")
            with Container(id="help-keys"):  # a two-column grid, so long descriptions wrap in their column
                for key, what in KEYS:
                    yield Static(Content(key), classes="key")
                    yield Static(Content(what))  # Content: "[n]" is text, not markup
            yield Static(Content.styled(ABOUT, "$text-muted"), id="help-about")

    def action_dismiss(self) -> None:
        self.dismiss(None)
