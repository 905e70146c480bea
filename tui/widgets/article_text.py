"""A whole article, one paragraph per line of its text, with a passage and a sentence in it highlighted."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from textual.containers import VerticalScroll
from textual.content import Content
from textual.geometry import Size
from textual.widgets import Static

from qa.display import printable
from qa.frontmatter import read_front_matter

from ..conversation import QUOTE_STYLE

if TYPE_CHECKING:
    from qa import Article

    from ..conversation import Source

PASSAGE_STYLE = "on $primary 12%"
SENTENCE_STYLE = QUOTE_STYLE  # readable in every theme, as in the sources panel
_LINE = re.compile(r"[^\n]+")


class Paragraph(Static):
    """One line of the article; `start` is its offset in the article text. Class -debris: page chrome."""

    def __init__(self, content: Content, start: int, classes: str = "") -> None:
        super().__init__(content, classes=f"paragraph {classes}".strip())
        self.start = start


class ArticleText(VerticalScroll, can_focus=True):
    """Scrolls the article to the highlighted sentence once it is laid out, and keeps it in view (or the place
    the reader scrolled to instead) when the terminal is resized and the paragraphs wrap anew."""

    def __init__(self, article: Article, source: Source, **kwargs) -> None:
        super().__init__(**kwargs)
        self.article = article
        self.source = source
        self._place: tuple[Paragraph, float] | None = None  # the top paragraph in view, and how far it is scrolled
        self._sentence_in_view = True
        self._laid_out_for: Size | None = None  # the size the place was read at: a resize re-wraps the lines

    def compose(self):
        text = self.article.text
        # A kept line may start after a label the cleaner cut off ("AI-assisted summary Iisalo, who ..."): its
        # sentence is the article's, so the line is not page chrome.
        kept_from = {end: start for start, end in self.article.lines}
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
            if kept_from.get(end, -1) < start:
                classes += " -debris"
            yield Paragraph(content, start, classes)

    def on_mount(self) -> None:
        self.watch(self, "scroll_y", self._remember_place, init=False)
        self.call_after_refresh(self.scroll_to_sentence)

    def on_resize(self) -> None:
        # Once the lines are wrapped to the new width: the scroll offset alone would now point elsewhere.
        self.call_after_refresh(self._restore_place)

    def scroll_to_sentence(self) -> None:
        """Put the first line of the highlighted sentence a third of the way down the view."""
        target = self.cited_paragraph
        if target is None:
            return
        y = target.virtual_region.y + self._sentence_row(target) - self.scrollable_content_region.height // 3
        self._laid_out_for = self.size
        self.scroll_to(y=max(0, y), animate=False, immediate=True)
        self._remember_place()

    def _restore_place(self) -> None:
        """After a resize: the sentence back in view if it was, else the paragraph that was at the top."""
        self._laid_out_for = self.size
        if self._sentence_in_view or self._place is None:
            self.scroll_to_sentence()
            return
        paragraph, fraction = self._place
        y = paragraph.virtual_region.y + round(fraction * paragraph.virtual_region.height)
        self.scroll_to(y=y, animate=False, immediate=True)
        self._remember_place()

    def _remember_place(self) -> None:
        """Note what is in view, for the next resize; not while a resize is pending (the layout is new, the
        scroll offset still the old one's)."""
        if self.size != self._laid_out_for:
            return
        top, height = round(self.scroll_y), self.scrollable_content_region.height
        paragraphs = list(self.query_children(Paragraph))
        first = next((p for p in paragraphs if p.virtual_region.bottom > top), None)
        if first is not None:
            region = first.virtual_region
            self._place = (first, (top - region.y) / max(region.height, 1))
        cited = self.cited_paragraph
        if cited is not None:
            row = cited.virtual_region.y + self._sentence_row(cited)
            self._sentence_in_view = top <= row < top + height

    def _sentence_row(self, paragraph: Paragraph) -> int:
        """The row of the sentence's first line within `paragraph`, as it is wrapped now."""
        return _wrapped_row(paragraph.visual, self.source.span.start - paragraph.start, paragraph.content_region.width)

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
