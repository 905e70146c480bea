"""The sources panel: the numbered sources of the selected answer, each with a snippet of its article."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual import on
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.content import Content
from textual.message import Message
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from qa.display import printable

from ..conversation import Exchange, Source, snippet, sources_of
from .source_list import SourceList

if TYPE_CHECKING:
    from qa import Article, Citation

EMPTY = "Sources of the selected answer appear here."
NOTHING_CLOSE = "No passage of the articles came close to this question."
NOTHING_MATCHES = "No article matches the filters of this question."


class SourcesPanel(Vertical):
    """Lists the sources of one exchange. Enter or a click on a source (or keys 1-9) opens its article."""

    class Opened(Message):
        """The user asked to read a source in its article."""

        def __init__(self, source: Source, article: Article | None) -> None:
            super().__init__()
            self.source = source
            self.article = article

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.exchange: Exchange | None = None
        self.sources: list[Source] = []
        self._title = Static(Content.styled("Sources", "bold"), id="sources-title")
        self._list = SourceList(id="source-list")
        self._list.display = False
        self._empty = Static(Content.styled(EMPTY, "$text-muted"), id="sources-empty")

    def compose(self) -> ComposeResult:
        yield self._title
        yield self._list
        yield self._empty

    def show(self, exchange: Exchange | None) -> None:
        """List the sources of `exchange` (None: nothing)."""
        self.exchange = exchange
        self.sources = sources_of(exchange.answer) if exchange else []
        options = self._list
        options.set_options(self._option(source) for source in self.sources)
        if self.sources:
            options.highlighted = 0
        abstained = exchange is not None and exchange.answer.abstained
        self._title.update(Content.styled("Closest passages (not an answer)" if abstained and self.sources
                                          else "Sources", "bold"))
        empty = EMPTY if exchange is None else NOTHING_MATCHES if exchange.no_match else NOTHING_CLOSE
        self._empty.update(Content.styled(empty, "$text-muted"))
        self._empty.display = not self.sources
        options.display = bool(self.sources)

    def open(self, number: int) -> bool:
        """Open the source numbered `number`; False when there is none."""
        for source in self.sources:
            if source.number == number:
                self.post_message(self.Opened(source, self._article(source)))
                return True
        return False

    def _article(self, source: Source) -> Article | None:
        return self.exchange.articles.get(source.span.doc_id) if self.exchange else None

    def _option(self, source: Source) -> Option:
        parts: list[Content | str | tuple[str, str]] = [
            (f"[{source.number}] ", "bold $text-accent"),
            (printable(source.span.title or source.span.path), "bold"),
            "\n",
            (printable(" · ".join(part for part in (source.span.byline, source.span.path) if part)), "$text-muted"),
            "\n",
            snippet(self._article(source), source),
        ]
        if source.also:
            parts += ["\n", (printable("also in: " + "; ".join(_copy_label(source, c) for c in source.also)),
                              "italic $text-muted")]
        return Option(Content.assemble(*parts), id=f"source-{source.number}")

    @on(OptionList.OptionSelected)
    def _open_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.open(self.sources[event.option_index].number)


def _copy_label(source: Source, copy: Citation) -> str:
    """Where a copy of the quoted text was published, "CNN · 2021-08-10", or its file when that is unknown; a
    copy at the source's own outlet is another of its pages (another address), not the same one listed twice."""
    label = copy.byline or copy.path
    return f"{label} (another page)" if copy.outlet and copy.outlet == source.span.outlet else label
