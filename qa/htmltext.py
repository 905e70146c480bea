"""A saved web page's article: main text and metadata (title, date, author, site, canonical URL) by trafilatura."""

from __future__ import annotations

import logging
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

    document = trafilatura.bare_extraction(html, url=url, with_metadata=True, include_comments=False,
                                           include_tables=True, deduplicate=False)
    if document is None:
        return Page("")
    data = document.as_dict() if hasattr(document, "as_dict") else dict(document)
    lines = [" ".join(line.split()) for line in (data.get("text") or "").splitlines()]
    text = "\n\n".join(line for line in lines if line)
    page_url = _text(data.get("url")) or (url or "")
    outlet = _text(data.get("sitename")) or _text(data.get("hostname")) or host_of(page_url)
    return Page(text, _text(data.get("title")), normalize_date(_text(data.get("date"))),
                _text(data.get("author")), outlet, page_url)


def _text(value: object) -> str:
    return " ".join(value.split()) if isinstance(value, str) else ""
