"""Split an article into sentences and passages that keep exact character offsets into its text."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from .articles import Article

# Words whose trailing period does not end a sentence.
_ABBREVIATIONS = {
    "mr", "mrs", "ms", "dr", "prof", "gen", "col", "lt", "sgt", "capt", "cmdr", "adm", "maj", "sen", "rep",
    "gov", "pres", "st", "jr", "sr", "rev", "hon", "amb", "no", "vs", "v", "e.g", "i.e", "cf", "approx",
    "jan", "feb", "mar", "apr", "jun", "jul", "aug", "sep", "sept", "oct", "nov", "dec", "inc", "ltd", "co",
    "corp", "dept", "est", "fig", "mt", "ft",
}
# A candidate end: terminal punctuation, optional closing quotes/brackets, then whitespace.
_CANDIDATE_END = re.compile(r"[.!?…]+[\"'”’)\]]*(?=\s)")
_SENTENCE_START = re.compile(r"\s+[\"'“‘(\[]*[A-Z0-9À-Ý]")


@dataclass(frozen=True, slots=True)
class Span:
    start: int
    end: int


@dataclass(frozen=True, slots=True)
class Passage:
    """A run of whole sentences from one article; `text == article.text[start:end]` exactly."""

    doc_id: str
    ordinal: int  # 0-based position among the article's passages
    start: int
    end: int
    text: str
    sentences: tuple[Span, ...]  # the passage's sentences, as spans of the article text


def split_sentences(text: str, start: int = 0, end: int | None = None) -> list[Span]:
    """Sentence spans inside text[start:end], trimmed of whitespace; line breaks between lines that end
    a sentence or a heading are boundaries, a line wrapped mid-sentence is not."""
    end = len(text) if end is None else end
    cuts: list[int] = []
    for match in _CANDIDATE_END.finditer(text, start, end):
        if _is_sentence_end(text, match.start(), match.end(), end):
            cuts.append(match.end())
    for match in re.finditer(r"\n", text[start:end]):
        position = start + match.start()
        if _line_break_ends_sentence(text, position, start, end):
            cuts.append(position)
    spans: list[Span] = []
    previous = start
    for cut in sorted(set(cuts)) + [end]:
        span = _trim(text, previous, cut)
        if span is not None:
            spans.append(span)
        previous = cut
    return spans


def _is_sentence_end(text: str, dot_start: int, match_end: int, limit: int) -> bool:
    if not _SENTENCE_START.match(text, match_end, limit):
        return False
    if text[dot_start] != ".":
        return True
    word = re.search(r"[\w.]*$", text[max(0, dot_start - 20) : dot_start]).group().lower()
    if word in _ABBREVIATIONS or re.fullmatch(r"[a-z]", word):
        return False  # "Mr. Zalmay", initials such as "J. Smith"
    # "U.S. troops", "U.N. summit": dotted acronyms rarely end a sentence in news text.
    return not re.fullmatch(r"(?:[a-z]\.)+[a-z]", word)


def _line_break_ends_sentence(text: str, position: int, start: int, end: int) -> bool:
    before = text[start:position].rstrip(" \t")
    after = text[position + 1 : end].lstrip(" \t")
    if not before or not after or before.endswith("\n") or after.startswith("\n"):
        return True  # blank line: a paragraph break
    return not (after[0].islower() and not re.search(r"[.!?…:\"”]\s*$", before))


def _trim(text: str, start: int, end: int) -> Span | None:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return Span(start, end) if start < end else None


def _word_count(text: str, span: Span) -> int:
    return len(text[span.start : span.end].split())


def paragraph_runs(article: Article) -> list[list[Span]]:
    """Kept lines grouped into runs with nothing dropped between them, so a passage never spans debris."""
    runs: list[list[Span]] = []
    previous_end: int | None = None
    for start, end in article.lines:
        gap = article.text[previous_end:start] if previous_end is not None else None
        if gap is None or gap.strip():
            runs.append([])
        runs[-1].append(Span(start, end))
        previous_end = end
    return runs


def split_passages(article: Article, min_words: int = 60, max_words: int = 180) -> list[Passage]:
    """Group whole sentences into passages of about min..max words.

    A passage closes at a paragraph end once it holds `min_words`, and before any sentence that would push
    it past `max_words`; a single sentence longer than that is cut between words.
    """
    text = article.text
    passages: list[Passage] = []
    for run in paragraph_runs(article):
        units = list(_units(text, run, max_words))
        first = 0  # units and groups run in text order: one pass pairs them (a 5 MB line stays linear)
        for span in _group(text, units, min_words, max_words):
            while first < len(units) and units[first][0].start < span.start:
                first += 1
            last = first
            while last < len(units) and units[last][0].end <= span.end:
                last += 1
            inside = tuple(unit for unit, _ in units[first:last])
            first = last
            passages.append(Passage(article.doc_id, len(passages), span.start, span.end,
                                    text[span.start : span.end], inside))
    return passages


def _units(text: str, paragraphs: list[Span], max_words: int) -> Iterable[tuple[Span, bool]]:
    """(sentence, ends_paragraph) for each sentence, over-long ones cut into pieces of max_words."""
    for paragraph in paragraphs:
        sentences = split_sentences(text, paragraph.start, paragraph.end)
        for i, sentence in enumerate(sentences):
            pieces = list(_cut_long(text, sentence, max_words))
            for j, piece in enumerate(pieces):
                yield piece, i == len(sentences) - 1 and j == len(pieces) - 1


def _cut_long(text: str, span: Span, max_words: int) -> Iterable[Span]:
    if _word_count(text, span) <= max_words:
        yield span
        return
    words = list(re.finditer(r"\S+", text[span.start : span.end]))
    for i in range(0, len(words), max_words):
        chunk = words[i : i + max_words]
        yield Span(span.start + chunk[0].start(), span.start + chunk[-1].end())


def _group(text: str, units: list[tuple[Span, bool]], min_words: int, max_words: int) -> list[Span]:
    groups: list[Span] = []
    start: int | None = None
    end = 0
    words = 0
    for unit, ends_paragraph in units:
        unit_words = _word_count(text, unit)
        if start is not None and words + unit_words > max_words:
            groups.append(Span(start, end))
            start, words = None, 0
        if start is None:
            start = unit.start
        end = unit.end
        words += unit_words
        if ends_paragraph and words >= min_words:
            groups.append(Span(start, end))
            start, words = None, 0
    if start is not None:
        tail = Span(start, end)
        # A short tail joins the passage before it when both fit in the window.
        if groups and words < min_words // 2 and _word_count(text, Span(groups[-1].start, end)) <= max_words:
            groups[-1] = Span(groups[-1].start, end)
        else:
            groups.append(tail)
    return groups
