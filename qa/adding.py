"""`qa add`: pages and RSS/Atom feeds fetched into the corpus folder as Markdown files with front matter."""

from __future__ import annotations

import hashlib
import json
import logging
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from html import unescape
from pathlib import Path
from urllib.parse import urldefrag, urljoin

from .errors import CorpusError
from .fetch import Fetched, FetchError, fetch
from .frontmatter import read_front_matter
from .htmltext import Page, decode_html, extract_page
from .metadata import host_of, normalize_date

log = logging.getLogger(__name__)

Fetcher = Callable[[str], Fetched]


@dataclass(slots=True)
class AddReport:
    added: list[Path] = field(default_factory=list)
    already: list[str] = field(default_factory=list)  # URLs whose article the folder holds
    failed: list[str] = field(default_factory=list)  # one line each: what went wrong


def article_file(folder: Path, url: str) -> Path:
    """Where the article at `url` is kept: `HOST-HASH.md`, the same for the same address."""
    address = urldefrag(url.strip())[0].rstrip("/")
    host = host_of(address).replace(":", "_") or "page"
    return folder / f"{host}-{hashlib.sha1(address.encode()).hexdigest()[:12]}.md"


def known_urls(folder: Path) -> set[str]:
    """The `url:` of every Markdown article in `folder` with front matter (so a page is not added twice when
    it was reached under another address)."""
    urls = set()
    for path in folder.glob("*.md"):
        try:
            head = path.read_text(encoding="utf-8")[:4000]
        except (OSError, UnicodeDecodeError):
            continue
        url = read_front_matter(head).fields.get("url")
        if url:
            urls.add(urldefrag(url)[0].rstrip("/"))
    return urls


def add_urls(urls: Sequence[str], folder: Path, fetcher: Fetcher = fetch) -> AddReport:
    """Fetch each URL into `folder`: an article page becomes one file; a feed, one file per entry (its page,
    or the entry's own text when the page cannot be fetched). Articles the folder holds are skipped."""
    if folder.exists() and not folder.is_dir():
        raise CorpusError(f"qa add writes into a folder, and {folder} is a file: pass --corpus FOLDER")
    folder.mkdir(parents=True, exist_ok=True)
    report = AddReport()
    known = known_urls(folder)
    for url in urls:
        if _have(folder, known, url):
            report.already.append(url)
            continue
        try:
            fetched = fetcher(url)
        except FetchError as error:
            report.failed.append(str(error))
            continue
        if _is_feed(fetched):
            _add_feed(fetched, folder, known, fetcher, report)
            continue
        try:
            fetched = _after_refresh(fetched, fetcher)
        except FetchError as error:
            report.failed.append(str(error))
            continue
        problem = _not_a_page(fetched)
        if problem:
            report.failed.append(f"{url}: {problem}")
            continue
        _save(_page(fetched), folder, known, url, report)
    return report


# <meta http-equiv="refresh" content="0; url=https://…">: a page that only sends the reader on
_REFRESH = re.compile(rb"""<meta[^>]+http-equiv\s*=\s*["']?refresh["']?[^>]*content\s*=\s*["']\s*\d*\s*;?\s*"""
                      rb"""url\s*=\s*['"]?([^"'>\s]+)""", re.IGNORECASE)


def _after_refresh(fetched: Fetched, fetcher: Fetcher) -> Fetched:
    """The page a meta-refresh redirect page sends the reader on to (one hop), else `fetched` itself."""
    found = _REFRESH.search(fetched.data[:8192])
    if found is None:
        return fetched
    target = urljoin(fetched.url, unescape(found.group(1).decode("ascii", errors="replace")))
    if urldefrag(target)[0] == urldefrag(fetched.url)[0]:
        return fetched
    return fetcher(target)


def _not_a_page(fetched: Fetched) -> str | None:
    """Why a fetched URL holds no web page (a PDF, an image, a download), or None."""
    kind = fetched.content_type.lower()
    if kind in ("text/html", "application/xhtml+xml", "text/plain", "text/xml", "application/xml", ""):
        return None if b"\x00" not in fetched.data[:4096] else "not a web page (binary data)"
    return f"not a web page or feed ({kind})"


def _have(folder: Path, known: set[str], url: str) -> bool:
    return article_file(folder, url).exists() or urldefrag(url)[0].rstrip("/") in known


def _is_feed(fetched: Fetched) -> bool:
    if fetched.content_type in ("application/rss+xml", "application/atom+xml", "application/feed+json"):
        return True
    head = fetched.data[:600].lstrip().lower()
    return head.startswith(b"<?xml") and (b"<rss" in head or b"<feed" in head or b"<rdf" in head) \
        or head.startswith((b"<rss", b"<feed"))


def _page(fetched: Fetched, fallback: Page | None = None) -> Page:
    text = decode_html(fetched.data, fetched.charset) or fetched.data.decode("utf-8", errors="replace")
    page = extract_page(text, url=fetched.url)
    fallback = fallback or Page("")
    return Page(page.text or fallback.text, page.title or fallback.title, page.date or fallback.date,
                page.author or fallback.author, page.outlet or fallback.outlet,
                page.url or fallback.url or fetched.url)


def _add_feed(fetched: Fetched, folder: Path, known: set[str], fetcher: Fetcher, report: AddReport) -> None:
    import feedparser

    feed = feedparser.parse(fetched.data)
    outlet = " ".join(str(feed.feed.get("title", "")).split()) or host_of(fetched.url)
    if not feed.entries:
        report.failed.append(f"{fetched.url}: a feed without entries")
    for entry in feed.entries:
        link = str(entry.get("link", "")).strip()
        if not link:
            continue
        if _have(folder, known, link):
            report.already.append(link)
            continue
        own = Page(_entry_text(entry), " ".join(str(entry.get("title", "")).split()), _entry_date(entry),
                   str(entry.get("author", "")), outlet, link)
        try:
            page = _page(fetcher(link), own)
        except FetchError as error:
            log.info("using the feed's own text for %s (%s)", link, error)
            page = own
        _save(page, folder, known, link, report)


def _entry_text(entry) -> str:
    """The entry's own text (content, else summary) as paragraphs, its HTML tags removed."""
    parts = entry.get("content") or [{"value": entry.get("summary", "")}]
    html = " ".join(str(part.get("value", "")) for part in parts)
    blocks = re.split(r"(?i)</p>|<br\s*/?>|\n\s*\n", html)
    paragraphs = [" ".join(unescape(re.sub(r"<[^>]+>", " ", block)).split()) for block in blocks]
    return "\n\n".join(p for p in paragraphs if p)


def _entry_date(entry) -> str:
    for key in ("published", "updated", "created"):
        date = normalize_date(str(entry.get(key, "")))
        if date:
            return date
    return ""


def _front_value(key: str, value: str) -> str:
    value = " ".join(value.split())
    return value if key in ("date", "url") else json.dumps(value, ensure_ascii=False)


_NOT_FOUND = re.compile(r"\b404\b|\bpage (was )?not found\b|\b(page|article|story) (does not|doesn't|no longer) "
                        r"exists?\b|^\W*not found\W*$", re.I)
NOT_FOUND_WORDS = 200  # an error page is short; an article about a "404" or a "not found" ruling runs longer


def _save(page: Page, folder: Path, known: set[str], url: str, report: AddReport) -> None:
    if not page.text.strip():
        report.failed.append(f"{url}: no article text found on the page")
        return
    if _NOT_FOUND.search(page.title) and len(page.text.split()) < NOT_FOUND_WORDS:
        # a "soft 404": the server said 200, the page says there is nothing here (and keeps its cookie banner)
        report.failed.append(f"{url}: the page says it was not found ({' '.join(page.title.split())!r})")
        return
    canonical = urldefrag(page.url)[0].rstrip("/")
    if canonical and canonical != urldefrag(url)[0].rstrip("/") and canonical in known:
        report.already.append(url)  # another address of an article the folder holds (its canonical URL)
        return
    path = article_file(folder, url)
    fields = {"title": page.title, "date": page.date, "outlet": page.outlet, "url": page.url or url,
              "author": page.author}
    # Free text is written as a double-quoted scalar, so a title that starts or ends with a quote reads back whole.
    front = "".join(f"{key}: {_front_value(key, value)}\n" for key, value in fields.items() if value.strip())
    path.write_text(f"---\n{front}---\n{page.text.strip()}\n", encoding="utf-8")
    known.update({urldefrag(url)[0].rstrip("/"), urldefrag(page.url)[0].rstrip("/")} - {""})
    report.added.append(path)
