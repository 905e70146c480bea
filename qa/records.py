"""The typed records the library hands out: citations, hits and answers."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, replace
from typing import Any

# The `date_kind` of a date that is only the day the article was fetched (an export's `retrieved`, `crawled`, ...):
# its publication was that day or before, months before at times, so it is shown as "fetched 2023-01-28", never as
# if the article had run that day. "" is a date of the article's own (its metadata, address or title) or no date.
FETCHED = "fetched"


def byline(outlet: str, date: str, date_kind: str = "") -> str:
    """Outlet and date for people to read, "USA Today · 2024-05-31", "The Week · fetched 2023-01-28"; "" when
    neither is known."""
    day = f"{date_kind} {date[:10]}" if date and date_kind else date[:10]
    return " · ".join(part for part in (outlet, day) if part)


@dataclass(frozen=True, slots=True)
class Citation:
    """Where a piece of text comes from: an article and a character span of its text."""

    doc_id: str  # article file name without suffix, stable across rebuilds
    title: str
    path: str  # article file, relative to the corpus folder
    start: int  # character offsets into the article's text: text[start:end] is the cited text
    end: int
    date: str = ""  # the article's date, ISO "YYYY-MM-DD" (or with a time); "" when unknown
    outlet: str = ""  # who published it ("USA Today", "usatoday.com"); "" when unknown
    url: str = ""  # where it was published; "" when unknown
    date_kind: str = ""  # FETCHED when `date` is only the day the article was fetched; "" for its own date

    def at(self, start: int, end: int) -> Citation:
        """The same article and metadata, another span of its text (e.g. one sentence of this passage)."""
        return replace(self, start=start, end=end)

    @property
    def byline(self) -> str:
        """Outlet and date for people to read, "USA Today · 2024-05-31" ("The Week · fetched 2023-01-28" for a fetch
        date); "" when neither is known."""
        return byline(self.outlet, self.date, self.date_kind)


@dataclass(frozen=True, slots=True)
class Hit:
    """One retrieved passage, best first."""

    rank: int  # 1-based
    score: float
    text: str
    citation: Citation
    copies: tuple[Citation, ...] = ()  # the same story at other outlets or addresses (syndicated copies)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True, slots=True)
class AnswerCitation:
    """A numbered source of an answer: the quoted sentence's span, plus the passage it came from."""

    number: int  # 1-based, in order of first use in the answer
    citation: Citation  # start/end: the span of the quoted sentence in the article
    passage: Citation  # the retrieved passage that holds the sentence
    also: tuple[Citation, ...] = ()  # the same sentence found in other articles (near-duplicates)


@dataclass(frozen=True, slots=True)
class AnswerSentence:
    """One sentence of an answer, quoted from an article, and the number of its citation."""

    text: str
    number: int


@dataclass(frozen=True, slots=True)
class WrittenSentence:
    """A sentence a reading model wrote in its own words, and the numbers of the citations it rests on."""

    text: str
    numbers: tuple[int, ...]


# Said before an answer marked `unsure`: the quotes are what the articles hold closest to an answer.
UNSURE_NOTE = "Not sure the articles answer this; the closest they come:"


@dataclass(frozen=True, slots=True)
class Answer:
    """A short extractive answer: each sentence quoted from an article and tied to its citation.

    `confidence` is the estimated chance, in 0..1, that the articles answer the question.
    When `abstained` is true, the articles do not answer the question: `sentences` is empty, `text` says so,
    and `closest` holds the nearest passages, which are shown apart from any answer. When `unsure` is true
    it answered, but at a confidence where answers were often wrong: show UNSURE_NOTE before it.
    """

    question: str
    text: str
    sentences: tuple[AnswerSentence, ...]
    citations: tuple[AnswerCitation, ...]
    abstained: bool
    confidence: float
    closest: tuple[Hit, ...] = ()
    written: tuple[WrittenSentence, ...] = ()  # a reader's own-words summary of the quotes; they always show
    reader: str = ""  # the name of the reader that answered
    unsure: bool = False  # answered, but with a confidence at which answers were often wrong: say so

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def quoted_text(self, shown: Callable[[str], str] = str) -> str:
        """The quoted sentences with their citation numbers (see `quoted_text`), each passed through `shown`."""
        return quoted_text(self.sentences, shown)

    def written_text(self, shown: Callable[[str], str] = str) -> str:
        """The reader's own-words sentences, each followed by the numbers of the quotes it rests on ("The envoy
        visits five countries. [1][2]"), every sentence passed through `shown`; "" for a reader that only quotes."""
        return " ".join(f"{shown(s.text)} " + "".join(f"[{n}]" for n in s.numbers) for s in self.written)


def quoted_text(sentences: Sequence[AnswerSentence], shown: Callable[[str], str] = str) -> str:
    """Quoted sentences, each run of sentences that share a citation followed once by its number
    ("The envoy visits five countries. They are Qatar, ... [1] Talks resumed. [2]")."""
    parts: list[str] = []
    for i, sentence in enumerate(sentences):
        parts.append(shown(sentence.text))
        if i + 1 == len(sentences) or sentences[i + 1].number != sentence.number:
            parts[-1] += f" [{sentence.number}]"
    return " ".join(parts)
