"""A saved web page's article: main text and metadata (title, date, author, site, canonical URL) by trafilatura."""

from __future__ import annotations

import codecs
import logging
import re
from dataclasses import dataclass

from .metadata import host_of, normalize_date

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Page:
    """What a page holds: its article text (paragraphs separated by blank lines) and metadata ("" if unknown)."""

    text: str
    title: str = ""
    date: str = ""
    author: str = ""
    outlet: str = ""  # the site's name, else its host name
    url: str = ""  # canonical URL when the page names one


def extract_page(html: str, url: str | None = None) -> Page:
    """The main text of `html` without navigation, ads and comments, with its metadata.

    trafilatura (with lxml_html_clean) is imported on first use: it takes about half a second.
    """
    import trafilatura

    # trafilatura logs a page it cannot parse (a PDF, an empty page) as an error; Page("") says it already.
    logging.getLogger("trafilatura").setLevel(logging.CRITICAL)
    # Dates only from the page's markup (meta tags, JSON-LD, <time>, the URL): the extensive search also takes
    # a footer's "© 2019" for 2019-01-01, a date that would pass --since filters it should not.
    html = _CONTROL_REFERENCE.sub("&#xFFFD;", html)  # lxml gives up on a whole page over one "&#27;"
    document = trafilatura.bare_extraction(html, url=url, with_metadata=True, include_comments=False,
                                           include_tables=True, deduplicate=False,
                                           date_extraction_params={"extensive_search": False, "original_date": True})
    if document is None:
        return Page("")
    data = document.as_dict() if hasattr(document, "as_dict") else dict(document)
    lines = [" ".join(line.split()) for line in (data.get("text") or "").splitlines()]
    text = "\n\n".join(line for line in lines if line)
    linked = _json_ld_articles(html)  # what the page's JSON-LD says of its article, read once
    page_url = _text(data.get("url")) or _json_ld_url(linked) or (url or "")
    outlet = _text(data.get("sitename")) or _text(data.get("hostname")) or host_of(page_url)
    day = normalize_date(_text(data.get("date")))
    return Page(text, _text(data.get("title")), _with_time(day, html, linked), _text(data.get("author")), outlet,
                page_url)


# Character references to C0 controls other than tab, line feed and carriage return (not allowed in XML).
_CONTROL_REFERENCE = re.compile(r"&#(?:0*(?:[1-8]|1[124-9]|2\d|3[01])|[xX]0*(?:[1-8bBcCeEfF]|1[\da-fA-F]));")


_PUBLISHED_META = re.compile(
    r"""<meta\b(?=[^>]*\b(?:property|name|itemprop)\s*=\s*["'](?:article:published_time|og:published_time|"""
    r"""datePublished|pubdate|publishdate|publish-date|parsely-pub-date|sailthru\.date)["'])"""
    r"""[^>]*\bcontent\s*=\s*["']([^"']+)["']""", re.IGNORECASE)


def _with_time(day: str, html: str, linked: list[dict]) -> str:
    """`day` (trafilatura gives dates only) with the time of publication the page's markup states for that same
    day (a meta tag or the article's JSON-LD `datePublished`), in UTC as other times are; else `day`."""
    if len(day) != 10:
        return day
    stamps = _PUBLISHED_META.findall(html) + [value for item in linked
                                              if isinstance(value := item.get("datePublished"), str)]
    for stamp in stamps:
        stamp = stamp.strip()
        if stamp.startswith(day) and "T" in stamp:
            timed = normalize_date(stamp)
            if len(timed) > 10:
                return timed
    return day


_JSON_LD = re.compile(r"<script[^>]+application/ld\+json[^>]*>(.*?)</script>", re.IGNORECASE | re.DOTALL)


def _json_ld_url(linked: list[dict]) -> str:
    """The address a page's JSON-LD gives its article (`url`, else `mainEntityOfPage`), for pages that name it
    nowhere else (no canonical link, no og:url); "" when none does."""
    for item in linked:
        entity = item.get("mainEntityOfPage")
        for value in (item.get("url"), entity.get("@id") if isinstance(entity, dict) else entity):
            if isinstance(value, str) and re.match(r"https?://\S+$", value.strip()):
                return value.strip()
    return ""


def _json_ld_articles(html: str) -> list[dict]:
    """The JSON-LD objects of a page whose type is an article (NewsArticle, Article, BlogPosting ...), also
    inside lists and `@graph`; blocks that are not JSON are passed over."""
    import json

    articles = []
    for block in _JSON_LD.findall(html):
        try:
            found = [json.loads(block)]
        except (ValueError, RecursionError):
            continue
        while found:
            item = found.pop()
            if isinstance(item, list):
                found.extend(item)
            elif isinstance(item, dict):
                graph = item.get("@graph")
                if isinstance(graph, list):
                    found.extend(graph)
                kinds = item.get("@type")
                kinds = kinds if isinstance(kinds, list) else [kinds]
                if any(isinstance(kind, str) and kind.endswith(("Article", "BlogPosting")) for kind in kinds):
                    articles.append(item)
    return articles


def _text(value: object) -> str:
    return " ".join(value.split()) if isinstance(value, str) else ""


_META_CHARSET = re.compile(rb"""<meta[^>]+?charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)""", re.IGNORECASE)
# As browsers do (WHATWG): pages labelled Latin-1 or ASCII are read as Windows-1252, which they mostly are.
_AS_BROWSERS_READ = {"iso-8859-1": "cp1252", "latin-1": "cp1252", "latin1": "cp1252", "us-ascii": "cp1252",
                     "ascii": "cp1252"}


def decode_html(data: bytes, declared: str | None = None) -> str | None:
    """A page's text: by its byte-order mark, else the charset its server (`declared`) or its own <meta> names,
    else UTF-8; None when none of them reads it."""
    if data.startswith(codecs.BOM_UTF8):
        return data[len(codecs.BOM_UTF8):].decode("utf-8", errors="replace")
    meta = _META_CHARSET.search(data[:4096])
    for name in (declared, meta.group(1).decode("ascii") if meta else None, "utf-8"):
        if not name:
            continue
        name = _AS_BROWSERS_READ.get(name.strip().lower(), name.strip())
        try:
            return data.decode(name)
        except (LookupError, UnicodeDecodeError):
            continue
    return None
