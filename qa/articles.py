"""Read a folder of articles and find which lines are the article and which are page debris."""

from __future__ import annotations

import hashlib
import logging
import re
from dataclasses import dataclass
from pathlib import Path

from .errors import CorpusError
from .folders import list_files, read_limited
from .htmltext import html_to_text

log = logging.getLogger(__name__)

ARTICLE_SUFFIXES = (".txt", ".md", ".markdown", ".html", ".htm")
MAX_ARTICLE_BYTES = 20_000_000  # larger files are data dumps, not articles
MAX_TITLE_CHARS = 200  # a title line longer than this is the article itself, shortened to be its title


@dataclass(frozen=True, slots=True)
class Article:
    """An article's text and the character spans of its lines that are article, not page debris.

    For .txt and .md files `text` is the file's text exactly; for .html it is the text extracted from the
    markup. Citations point into `text`.
    """

    doc_id: str  # relative path without suffix, e.g. "000_3508494580fc35c5"
    path: str  # relative to the corpus folder, with "/" separators
    title: str
    text: str
    lines: tuple[tuple[int, int], ...]  # kept lines as (start, end) spans of `text`, in order
    content_hash: str  # sha256 of the file's bytes


@dataclass(frozen=True, slots=True)
class SkippedFile:
    path: str
    reason: str


@dataclass(frozen=True, slots=True)
class FolderScan:
    articles: list[Article]
    skipped: list[SkippedFile]


def scan_folder(folder: Path | str) -> FolderScan:
    """Read every article under `folder` (recursively, hidden folders excluded), in path order.

    Empty, binary and non-UTF-8 files are skipped with a reason, so one bad file never stops the rest.
    """
    root = Path(folder)
    if not root.exists():
        raise CorpusError(f"corpus folder {root} does not exist")
    if not root.is_dir():
        raise CorpusError(f"corpus {root} is not a folder")
    articles: list[Article] = []
    skipped: list[SkippedFile] = []
    for file in sorted(_article_files(root)):
        relative = file.relative_to(root).as_posix()
        try:
            data = read_limited(file, MAX_ARTICLE_BYTES)  # an oversized file is never read whole
        except OSError as error:
            skipped.append(SkippedFile(relative, f"cannot be read ({error.strerror or error})"))
            continue
        problem = _why_unreadable(data)
        if problem:
            skipped.append(SkippedFile(relative, problem))
            continue
        article = parse_article(relative, data)
        if article is None:
            skipped.append(SkippedFile(relative, "holds no article text"))
            continue
        articles.append(article)
    for skip in skipped:
        log.warning("skipped %s: %s", skip.path, skip.reason)
    return FolderScan(articles, skipped)


def _article_files(root: Path) -> list[Path]:
    return list_files(root, ARTICLE_SUFFIXES)


def _why_unreadable(data: bytes) -> str | None:
    if not data.strip():
        return "is empty"
    if len(data) > MAX_ARTICLE_BYTES:
        return f"is larger than {MAX_ARTICLE_BYTES // 1_000_000} MB"
    if b"\x00" in data[:8192]:
        return "is binary, not text"
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as error:
        return f"is not UTF-8 (bad byte at offset {error.start}); convert it with e.g. iconv -t UTF-8"
    return None


def parse_article(path: str, data: bytes) -> Article | None:
    """Build an Article from a file's bytes (UTF-8), or None when nothing of it is article text."""
    text = data.decode("utf-8")
    if text.startswith("\ufeff"):
        text = text[1:]
    html_title = None
    if path.lower().endswith((".html", ".htm")):
        html_title, text = html_to_text(text)
    lines = keep_article_lines(text)
    if not lines:
        return None
    first_start, first_end = lines[0]
    title = html_title or _clean_title(text[first_start:first_end])
    doc_id = path.rsplit(".", 1)[0]
    return Article(doc_id, path, title, text, tuple(lines), hashlib.sha256(data).hexdigest())


def _clean_title(line: str) -> str:
    title = re.sub(r"^\s*#+\s*", "", line[: MAX_TITLE_CHARS * 2]).strip()
    if len(title) > MAX_TITLE_CHARS:  # a one-line article: its title is its start, not all of it
        title = title[:MAX_TITLE_CHARS].rsplit(" ", 1)[0] + "…"
    return title


# --- Boilerplate rules ------------------------------------------------------------------------------------
# General rules, not a list of known strings: page chrome is short, lacks sentence punctuation and sits
# before the headline or after the last paragraph; image debris is markup without words; prompts to
# comment, subscribe or disable an ad blocker have recognisable vocabulary.

_TERMINAL = re.compile(r"[.!?…:;\"'”’)\]]\s*$")
# Bracket runs stop at the next opening bracket too, so a line of "[[[[..." is scanned once, not once per "[".
_MARKUP_ONLY = re.compile(r"!?\[[^\[\]]*\]\([^()]*\)|[|*_#>`~=\-–—•·]+")
_IMAGE_PLACEHOLDER = re.compile(r"\b\d+\s*[x×:]\s*\d+\b|\b(image|photo|picture|video|gallery|graphic)s?\b", re.I)
_AD_BLOCK = re.compile(r"\bad[\s-]?block", re.I)
_PROMPT = re.compile(
    r"leave a (reply|comment)|e-?mail address will not be published|required fields are marked"
    r"|\bsubscribe\b|\bnewsletter\b|\bsign (up|in)\b|\blog ?in\b|back to top|skip to (main )?content"
    r"|^share (this|on)\b|follow us|^(\d+ )?comments?$|^related( articles| posts| stories)?$|^read more"
    r"|^advertisement$|\bcookies?\b|all rights reserved|^copyright\b|^©",
    re.I,
)
_BRACKET_CREDIT = re.compile(r"\[[^\[\]\n/]*/[^\[\]\n]*\]\s*$")  # "... [Photographer/Agency]" caption credit


def _words(line: str) -> int:
    return len(line.split())


def _is_short_label(line: str) -> bool:
    """A menu item, section label or byline-like fragment: few words, no sentence punctuation."""
    return _words(line) < 4 and not _TERMINAL.search(line)


def _is_debris(line: str, previous: str | None) -> bool:
    stripped = line.strip()
    if not _MARKUP_ONLY.sub("", stripped).strip():
        return True  # image rows such as "![]() |", rules, bullets
    if stripped.startswith("|") or stripped.endswith("|"):
        return True  # table-cell image captions
    if _AD_BLOCK.search(stripped):
        return True
    if _words(stripped) <= 12 and _PROMPT.search(stripped.strip("•·–—-* ")):
        return True
    if _words(stripped) <= 4 and not _TERMINAL.search(stripped) and _IMAGE_PLACEHOLDER.search(stripped):
        return True  # "16x9 Image", "Photo gallery"
    if _BRACKET_CREDIT.search(stripped):
        return True
    return previous is not None and stripped == previous  # a caption repeated as alt text


def _line_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) of every non-blank line, trimmed of surrounding whitespace."""
    spans = []
    for match in re.finditer(r"[^\n]+", text):
        raw = match.group()
        if raw.strip():
            start = match.start() + (len(raw) - len(raw.lstrip()))
            end = match.end() - (len(raw) - len(raw.rstrip()))
            spans.append((start, end))
    return spans


def keep_article_lines(text: str) -> list[tuple[int, int]]:
    """The spans of `text`'s lines that belong to the article, debris and page chrome dropped."""
    kept: list[tuple[int, int]] = []
    previous: str | None = None
    for start, end in _line_spans(text):
        line = text[start:end]
        if not _is_debris(line, previous):
            kept.append((start, end))
        previous = line.strip()
    # Page chrome before the headline: short labels ("Accessibility links", "Breaking News").
    while kept and _is_short_label(text[kept[0][0] : kept[0][1]]):
        kept.pop(0)
    # ... and after the last paragraph ("Source", "Tags", "Share").
    while kept and _is_short_label(text[kept[-1][0] : kept[-1][1]]):
        kept.pop()
    return kept
