"""A whole article, one paragraph per line of its text, with a passage and a sentence in it highlighted."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from textual.containers import VerticalScroll
from textual.content import Content
from textual.widgets import Static

from qa.display import printable
from qa.frontmatter import read_front_matter

if TYPE_CHECKING:
    from qa import Article

    from ..conversation import Source

PASSAGE_STYLE = "on $primary 12%"
SENTENCE_STYLE = "bold $text-accent on $accent 25%"
_LINE = re.compile(r"[^\n]+")


class Paragraph(Static):
    """One line of the article; `start` is its offset in the article text. Class -debris: page chrome."""

    def __init__(self, content: Content, start: int, classes: str = "") -> None:
        super().__init__(content, classes=f"paragraph {classes}".strip())
        self.start = start


class ArticleText(VerticalScroll, can_focus=True):
    """Scrolls the article to the highlighted sentence once it is laid out."""

    def __init__(self, article: Article, source: Source, **kwargs) -> None:
        super().__init__(**kwargs)
        self.article = article
        self.source = source

    def compose(self):
        text = self.article.text
        kept = set(self.article.lines)
        passage, span = self.source.passage, self.source.span
        # A front-matter block is the file's metadata, shown in the header above (outlet, date, address).
        body = read_front_matter(text).end
        for match in _LINE.finditer(text, body):
            raw = match.group()
            if not raw.strip():
                continue
            start = match.start() + len(raw) - len(raw.lstrip())
            end = match.end() - (len(raw) - len(raw.rstrip()))
            # Article text is data: never parsed as markup, its control characters shown (one for one, so the
            # highlight offsets still hold), never sent to the terminal.
            content = Content(printable(text[start:end]))
            content = _highlight(content, start, end, passage.start, passage.end, PASSAGE_STYLE)
            content = _highlight(content, start, end, span.start, span.end, SENTENCE_STYLE)
            classes = "-cited" if start < span.end and span.start < end else ""
            if (start, end) not in kept:
                classes += " -debris"
            yield Paragraph(content, start, classes)

    def on_mount(self) -> None:
        self.call_after_refresh(self.scroll_to_sentence)

    def scroll_to_sentence(self) -> None:
        """Put the first line of the highlighted sentence a third of the way down the view."""
        target = self.cited_paragraph
        if target is None:
            return
        row = _wrapped_row(target.visual, self.source.span.start - target.start, target.content_region.width)
        y = target.virtual_region.y + row - self.scrollable_content_region.height // 3
        self.scroll_to(y=max(0, y), animate=False, immediate=True)

    @property
    def cited_paragraph(self) -> Paragraph | None:
        paragraphs = list(self.query_children(Paragraph))
        cited = [p for p in paragraphs if p.has_class("-cited")]
        return cited[0] if cited else None


def _highlight(content: Content, start: int, end: int, low: int, high: int, style: str) -> Content:
    """Style the part of a line [start, end) that falls inside the article span [low, high)."""
    if high <= start or low >= end:
        return content
    return content.stylize(style, max(low, start) - start, min(high, end) - start)


def _wrapped_row(visual: object, offset: int, width: int) -> int:
    """The row, after wrapping to `width`, that holds character `offset` of a paragraph."""
    if not isinstance(visual, Content) or width <= 0 or offset <= 0:
        return 0
    consumed = 0
    for row, line in enumerate(visual.wrap(width)):
        consumed += len(line.plain)
        while consumed < len(visual.plain) and visual.plain[consumed].isspace():
            consumed += 1  # the spaces a wrap swallowed
        if consumed > offset:
            return row
    return 0
