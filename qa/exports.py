"""Exports of news APIs and datasets: a .jsonl or .jsonl.gz file, one JSON object per article and line."""

from __future__ import annotations

import gzip
import hashlib
import json
import logging
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from .articles import EXPORT_SUFFIXES, Article, SkippedFile, make_article
from .metadata import date_in_url, host_of, normalize_date, written_date
from .records import FETCHED

log = logging.getLogger(__name__)
# NewsAPI cuts "content" at about 200 characters and says so: "… [+1523 chars]" is not article text.
_TRUNCATED = re.compile(r"\s*…?\s*\[\+\d+ chars\]\s*$")

# The field names exports use for each piece of an article, most common first.
FIELDS: dict[str, tuple[str, ...]] = {
    # NewsAPI's "content" is often null where its "description" (a summary) is not: better than nothing
    "text": ("text", "content", "body", "maintext", "article", "description", "summary"),
    "title": ("title", "headline"),
    "date": ("date", "published", "publishedAt", "published_at", "pubDate", "date_publish"),
    # when the crawler fetched it: close to the publication date, used only when neither a date field nor
    # the URL gives one (a search can find an article years after it ran)
    "fetched": ("retrieved", "date_download", "crawled", "scraped_at"),
    "outlet": ("outlet", "source", "site", "source_name", "sitename", "publisher"),
    "url": ("url", "link", "canonical_url"),
    "id": ("id", "_id", "guid", "uuid"),
    "author": ("author", "byline", "authors"),
}


def is_export(name: str) -> bool:
    return name.lower().endswith(EXPORT_SUFFIXES)


def read_export(file: Path, relative: str) -> tuple[list[Article], list[SkippedFile]]:
    """The articles of one export, and a SkippedFile per bad line ("FILE line N") or for an unreadable file.

    Each article's path is "FILE#ID" and its doc_id "FILE-WITHOUT-SUFFIX#ID", so citations name the file and
    the article; an article without an id is known by its line number ("line-12").
    """
    stem = relative[: -len(next(s for s in EXPORT_SUFFIXES[::-1] if relative.lower().endswith(s)))]
    articles: list[Article] = []
    skipped: list[SkippedFile] = []
    seen: set[str] = set()
    try:
        for number, line in _lines(file):
            where = f"{relative} line {number}"
            record, problem = _record(line)
            if record is None:
                if problem:
                    skipped.append(SkippedFile(where, problem))
                continue
            article_id = _first(record, "id") or f"line-{number}"
            if article_id in seen:
                skipped.append(SkippedFile(where, f"repeats the id {article_id!r}"))
                continue
            article = _article(record, article_id, stem, relative, line)
            if article is None:
                present = [name for name in FIELDS["text"] if name in record]
                if _first(record, "text").strip():  # text, but every line of it is page debris
                    reason = "holds no article text (only page debris)"
                elif present:
                    reason = f"has no text in its {present[0]!r} field"
                else:
                    reason = f"has no article text (no {', '.join(FIELDS['text'])} field)"
                skipped.append(SkippedFile(where, reason))
                continue
            seen.add(article_id)
            articles.append(article)
    except (OSError, EOFError, UnicodeDecodeError, gzip.BadGzipFile) as error:
        skipped.append(SkippedFile(relative, f"cannot be read past {len(articles)} articles ({error})"))
    if not articles and not skipped:
        skipped.append(SkippedFile(relative, "is empty"))
    return articles, skipped


def _lines(file: Path) -> Iterator[tuple[int, bytes]]:
    opener = gzip.open if file.name.lower().endswith(".gz") else open
    with opener(file, "rb") as stream:
        yield from enumerate(stream, start=1)


def _record(line: bytes) -> tuple[dict[str, Any] | None, str | None]:
    if not line.strip():
        return None, None
    try:
        data = json.loads(line)
    except UnicodeDecodeError:
        return None, "is not UTF-8"
    except json.JSONDecodeError as error:
        reason = error.msg.removesuffix(" at")  # "Invalid control character at" reads on into the position
        return None, f"is not JSON ({reason} at column {error.colno})"
    except RecursionError:  # thousands of nested brackets
        return None, "is nested too deeply to read"
    if not isinstance(data, dict):
        return None, "is not a JSON object"
    return data, None


def _article(record: dict[str, Any], article_id: str, stem: str, relative: str, line: bytes) -> Article | None:
    text = _TRUNCATED.sub("", _first(record, "text", keep_lines=True))
    if not text.strip():
        return None
    url, title = _first(record, "url"), _first(record, "title")
    fetched = normalize_date(_first(record, "fetched"))
    date = normalize_date(_first(record, "date")) or date_in_url(url) or written_date(title, fetched) \
        or written_date(url, fetched)
    # Only the fetch date known: it is still the article's date (the publication was then or before), marked as such.
    return make_article(f"{stem}#{article_id}", f"{relative}#{article_id}", text,
                        hashlib.sha256(line.strip()).hexdigest(), title=title, date=date or fetched,
                        date_kind="" if date or not fetched else FETCHED,
                        outlet=_first(record, "outlet") or host_of(url), url=url, author=_first(record, "author"))


def _first(record: dict[str, Any], kind: str, keep_lines: bool = False) -> str:
    """The first non-empty value among `kind`'s field names, as text ("" when none)."""
    for name in FIELDS[kind]:
        value = _as_text(record.get(name))
        if value.strip():
            return value if keep_lines else " ".join(value.split())
    return ""


def _as_text(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)
    if isinstance(value, dict):  # NewsAPI's "source": {"id": ..., "name": "BBC News"}
        return _as_text(value.get("name") or value.get("title") or value.get("id"))
    if isinstance(value, list):  # "authors": ["A", "B"]
        return ", ".join(v for v in (_as_text(item) for item in value) if v)
    return ""
