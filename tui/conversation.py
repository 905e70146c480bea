"""The chat's records: one exchange per answered question, and the numbered sources an answer shows."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from textual.content import Content

from qa.display import printable

if TYPE_CHECKING:  # qa is imported by the loader, in a worker: importing it here would slow the first paint
    from qa import Answer, Article, Citation

SNIPPET_CONTEXT = 110  # characters of article text shown either side of a quoted sentence
# The quoted sentence: the theme's text colour on its muted accent, which every theme keeps readable (the accent
# colour on a tint of itself was 1.9:1 in textual-light and 3:1 in nord).
QUOTE_STYLE = "bold $text on $accent-muted"
_MARKER = re.compile(r"\[\d+\]")
_LINE_BREAK = re.compile(r"\s*\n\s*")
# A line that ends without a sentence's closing mark (a headline, a subheading) is set off from the next by a dash.
_OPEN_LINE_BREAK = re.compile(r"(?<=[^\s.!?:;,\"'”’)\]])[^\S\n]*\n\s*")


@dataclass(frozen=True, slots=True)
class Exchange:
    """A question, its answer, and the articles its sources point into, as they were when it was answered.

    Keeping the articles makes citation offsets valid even after a re-index changes the files.
    """

    question: str
    answer: Answer
    articles: Mapping[str, Article]  # by doc_id
    no_match: str = ""  # why the question's filters leave no article at all ("No article matches outlets bbc …")


@dataclass(frozen=True, slots=True)
class Source:
    """One entry of the sources panel: a cited sentence, or (for an abstention) one of the closest passages."""

    number: int  # 1-based; the [n] of the answer, or the rank of a closest passage
    kind: Literal["cited", "closest"]
    span: Citation  # the text to highlight: the quoted sentence, or the whole closest passage
    passage: Citation  # the passage around it
    also: tuple[Citation, ...] = ()  # the same sentence in other articles


def sources_of(answer: Answer) -> list[Source]:
    """The sources to list for an answer: its citations, or its closest passages when it abstained."""
    if answer.abstained or not answer.citations:
        return [Source(hit.rank, "closest", hit.citation, hit.citation) for hit in answer.closest]
    return [Source(c.number, "cited", c.citation, c.passage, tuple(c.also)) for c in answer.citations]


def abstention_note(answer: Answer, heading: str) -> str:
    """What an abstention says beyond its heading: "No article holds “Khalilzd”." of "The articles don't say.
    No article holds “Khalilzd”." ("" when its text only repeats the heading)."""
    text = answer.text.strip()
    stem = heading.rstrip(".!")
    if text.casefold().startswith(stem.casefold()):
        return text[len(stem):].lstrip(".! ")
    return text


def cited_doc_ids(answer: Answer) -> list[str]:
    """Every article an answer points into, once each, in order."""
    ids: list[str] = []
    for cited in answer.citations:
        ids.extend([cited.citation.doc_id, cited.passage.doc_id, *(c.doc_id for c in cited.also)])
    ids.extend(hit.citation.doc_id for hit in answer.closest)
    return list(dict.fromkeys(ids))


def quoted(article: Article | None, span: Citation, fallback: str = "") -> str:
    """The exact text a citation points at, or `fallback` when its article is unknown."""
    if article is None:
        return fallback
    return article.text[span.start : span.end]


def snippet(article: Article | None, source: Source, context: int = SNIPPET_CONTEXT) -> Content:
    """A few lines of the article around the source, its span highlighted; article text stays plain text."""
    if article is None:
        return Content.styled("(article no longer available)", "italic $text-muted")
    text = article.text
    start, end = source.span.start, source.span.end
    if source.kind == "closest":  # a whole passage: show its beginning
        stop = _word_boundary_right(text, start + 2 * context, start) if end > start + 2 * context else end
        before, focus, after = "", text[start:stop].rstrip(), ""
        cut_after = stop < end
        cut_before = False
    else:
        low = max(source.passage.start, start - context, 0)
        high = min(max(source.passage.end, end), end + context, len(text))
        low, high = _word_boundary_left(text, low, start), _word_boundary_right(text, high, end)
        before, focus, after = text[low:start], text[start:end], text[end:high]
        cut_before, cut_after = low > source.passage.start, high < source.passage.end
    return Content.assemble(  # printable: article text never reaches the terminal as escape sequences
        "…" if cut_before else "",
        _flatten(before),
        (_flatten(focus), QUOTE_STYLE if source.kind == "cited" else ""),
        _flatten(after),
        "…" if cut_after else "",
    )


def marked_answer(text: str) -> Content:
    """Answer text with its [n] citation markers emphasised (the text itself is never parsed as markup, and
    its control characters are shown, never sent to the terminal)."""
    text = printable(text)
    parts: list[str | tuple[str, str]] = []
    position = 0
    for start, end in _markers(text):
        parts.append(text[position:start])
        parts.append((text[start:end], "bold $text-accent"))
        position = end
    parts.append(text[position:])
    return Content.assemble(*parts)


def _markers(text: str) -> list[tuple[int, int]]:
    return [m.span() for m in _MARKER.finditer(text)]


def excerpt(text: str, limit: int) -> str:
    """`text` as one line (a dash after a line that ends without a sentence's closing mark, so a subheading
    does not run into the paragraph after it), cut at a word boundary to at most `limit` characters with "…"."""
    text = " ".join(_flatten(text).split())
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    space = cut.rfind(" ")
    return (cut[:space] if space > limit // 2 else cut).rstrip(" ,;:—-") + "…"


def _flatten(text: str) -> str:
    """Line breaks as spaces (a dash after a headline): a snippet is a few wrapped lines, not the article's
    layout."""
    return printable(_LINE_BREAK.sub(" ", _OPEN_LINE_BREAK.sub(" — ", text)))


def _word_boundary_left(text: str, low: int, limit: int) -> int:
    """Move `low` forward to the start of a word, so a snippet does not begin mid-word."""
    if low == 0 or text[low - 1].isspace():
        return low
    space = text.find(" ", low, limit)
    return space + 1 if space != -1 else low


def _word_boundary_right(text: str, high: int, limit: int) -> int:
    if high >= len(text) or text[high].isspace():
        return high
    space = text.rfind(" ", limit, high)
    return space if space != -1 else high
