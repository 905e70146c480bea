"""The article a source comes from, whole, scrolled to the cited sentence, which is highlighted."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual import events
from textual.app import ComposeResult
from textual.binding import Binding
from textual.content import Content
from textual.screen import Screen
from textual.widgets import Footer, Header, Static

from qa.display import printable

from ..widgets.article_text import ArticleText
from ..widgets.question_input import starts_question

if TYPE_CHECKING:
    from qa import Article

    from ..conversation import Source


class ArticleScreen(Screen):
    """Read a source in context. Escape (or q) goes back to the chat; typing a question goes back to ask it;
    a digit opens that source of the same answer instead, as it does in the chat."""

    BINDINGS = [
        # One footer entry for both keys: the footer shows one key per action.
        Binding("escape", "app.pop_screen", "Back", key_display="esc/q"),
        Binding("q", "app.pop_screen", "Back", show=False),
        *(Binding(str(n), f"open_source({n})", f"Open source {n}", show=False) for n in range(1, 10)),
    ]

    def __init__(self, article: Article, source: Source) -> None:
        super().__init__()
        self.article = article
        self.source = source
        self.sub_title = printable(article.path)

    def compose(self) -> ComposeResult:
        yield Header()
        kind = "quoted sentence" if self.source.kind == "cited" else "closest passage"
        yield Static(
            Content.assemble(
                (f"[{self.source.number}] ", "bold $text-accent"),
                (printable(self.article.title or self.article.path), "bold"),
                "\n",
                (printable(" · ".join(part for part in (self.article.byline, self.article.path) if part))
                 + f" · the {kind} is highlighted · Escape: back, 1-9: another source, or type a question",
                 "$text-muted"),
                *(("\n", (printable(self.article.url), "$text-muted")) if self.article.url else ()),
            ),
            id="article-title",
        )
        yield ArticleText(self.article, self.source, id="article-text")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one(ArticleText).focus()

    def action_open_source(self, number: int) -> None:
        """Source [n] of the same answer, in this view's place; a number the answer has no source for stays here."""
        from .chat import ChatScreen

        chat = next((screen for screen in reversed(self.app.screen_stack) if isinstance(screen, ChatScreen)), None)
        if number == self.source.number:
            return
        if chat is None or not any(source.number == number for source in chat.sources.sources):
            self.notify(f"This answer has no source [{number}].", severity="warning", markup=False)
            return
        self.app.pop_screen()
        chat.sources.open(number)

    def hands_over(self, event: events.Key | events.Paste) -> bool:
        """Whether `event` belongs to the next question rather than to this view: the app then closes the view
        and the chat's question box gets it, as a letter typed in the chat's lists does. A key bound here (q:
        Back) keeps its meaning."""
        if isinstance(event, events.Key) and event.key in self.active_bindings:
            return False
        return starts_question(event)
