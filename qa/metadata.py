"""Article metadata as people and feeds write it, made comparable: ISO dates and outlet names."""

from __future__ import annotations

import re
from datetime import date, datetime, timezone
from email.utils import parsedate_to_datetime
from urllib.parse import urlsplit

_ISO_PREFIX = re.compile(r"^\d{4}(-\d{2}(-\d{2})?)?$")
_WRITTEN_FORMATS = ("%B %d, %Y", "%b %d, %Y", "%b. %d, %Y", "%d %B %Y", "%d %b %Y", "%Y/%m/%d", "%d.%m.%Y")


def normalize_date(raw: object) -> str:
    """`raw` as ISO 8601: "YYYY-MM-DD", or "YYYY-MM-DDTHH:MM:SS" (UTC when a zone was given) when it carries a
    time; "" when it is empty or not a date. Accepts ISO forms, RFC 822 feed dates and "May 31, 2024"."""
    if not isinstance(raw, str):
        return ""
    text = " ".join(raw.split())
    if not text:
        return ""
    if _ISO_PREFIX.match(text):
        if len(text) != 10:  # "2024" or "2024-05" is no day
            return ""
        try:
            return date.fromisoformat(text).isoformat()
        except ValueError:  # "2024-13-45", "2024-02-30", "0000-00-00"
            return ""
    parsed = _parse(text)
    if parsed is None:
        return ""
    if parsed.tzinfo is not None:
        parsed = parsed.astimezone(timezone.utc).replace(tzinfo=None)
    has_time = bool(re.search(r"\d:\d\d", text))
    return parsed.isoformat(timespec="seconds") if has_time else parsed.date().isoformat()


def _parse(text: str) -> datetime | None:
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        pass
    try:
        return parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        pass
    for layout in _WRITTEN_FORMATS:
        try:
            return datetime.strptime(text, layout)
        except ValueError:
            continue
    return None


_DATE_IN_PATH = re.compile(r"/((?:19|20)\d\d)[/-](0[1-9]|1[0-2])[/-](0[1-9]|[12]\d|3[01])(?=[/-]|$)")


def date_in_url(url: str) -> str:
    """The publication date a news URL's path carries ("/2025/01/28/", "/2024-05-31-"), ISO; "" when none."""
    try:
        path = urlsplit(url.strip()).path
    except ValueError:
        return ""
    found = _DATE_IN_PATH.search(path)
    if found is None:
        return ""
    try:
        return datetime(*(int(part) for part in found.groups())).date().isoformat()
    except ValueError:  # 2025/02/30
        return ""


def check_date_bound(raw: str, name: str) -> str:
    """A --since/--until bound: "YYYY", "YYYY-MM" or "YYYY-MM-DD"; ValueError naming `name` otherwise."""
    text = raw.strip()
    if not _ISO_PREFIX.match(text):
        raise ValueError(f"{name} {raw!r} is not a date: write YYYY-MM-DD, YYYY-MM or YYYY")
    try:  # the shape is right; the month and day must exist too ("2022-13", "2022-02-30" do not)
        date.fromisoformat((text + "-01-01")[:10] if len(text) < 10 else text)
    except ValueError:
        raise ValueError(f"{name} {raw!r} is not a date: no such month or day") from None
    return text


def host_of(url: str) -> str:
    """The host name of `url` without "www." ("https://www.cnn.com/x" -> "cnn.com"); "" when there is none."""
    try:
        host = urlsplit(url.strip()).hostname or ""
    except ValueError:
        return ""
    return host.removeprefix("www.")


def outlet_key(name: str) -> str:
    """A form of an outlet's name that its spellings share: "USA Today", "usatoday.com" and "www.usatoday.com"
    all give "usatoday"."""
    text = name.strip().lower().removeprefix("https://").removeprefix("http://").removeprefix("www.")
    if "." in text and " " not in text:
        text = text.split(".", 1)[0]  # a host name: its first label names the outlet
    return re.sub(r"[^0-9a-z]", "", text)


# A page title that ends by naming its site ("Quake hits Tonga - USA Today", "Cheeto statue unveiled | CNN Business",
# "Ten Things You Need to Know Today | The ..." cut short by a search engine): the part after the last separator.
_TITLE_SUFFIX = re.compile(r"\s+[|\-–—]\s+([^|–—]{2,60}?)\s*$")


def title_without_outlet(title: str, outlet: str, url: str = "") -> str:
    """`title` without a closing " - Outlet" or " | Outlet Section" that repeats who published it (the citation
    names the outlet already). The suffix goes only when it starts with the outlet's name or its host's, or is
    that name cut short ("The ..."); a title that would be left without a word stays as it is."""
    match = _TITLE_SUFFIX.search(title)
    if match is None:
        return title
    suffix = match.group(1)
    shortened = suffix.endswith(("...", "…"))
    key = outlet_key(suffix.rstrip(".… "))
    host = host_of(url)
    labels = host.split(".")[:-1]  # "edition.cnn.com" is CNN's as much as "cnn.com"
    names = {outlet_key(name) for name in (outlet, host, *labels) if name}
    names = {name for name in names if len(name) >= 3}
    if not key or not any(key.startswith(name) or (shortened and len(key) >= 3 and name.startswith(key))
                          for name in names):
        return title
    rest = title[: match.start()].rstrip()
    return rest if re.search(r"\w", rest) else title


_MONTHS = "january|february|march|april|may|june|july|august|september|october|november|december"
_WRITTEN_DAY = re.compile(rf"\b(?:(\d{{1,2}})\s+({_MONTHS})\s+((?:19|20)\d\d)|({_MONTHS})\s+(\d{{1,2}}),?\s+((?:19|20)\d\d))\b",
                          re.I)
# How long before it was fetched a page may have been written for the day its title writes to count: the archive's
# 112 titles that write a day and have no other date (The Week's "Ten Things You Need to Know Today: 19 March 2021")
# were all written that day, fetched up to 1,666 days later; a day further back is what a story is about.
WRITTEN_DATE_DAYS = 5 * 366


def written_date(text: str, fetched: str) -> str:
    """The day a title or an address writes out ("Ten Things You Need to Know Today: 19 November 2022",
    ".../ten-things-19-november-2022"), ISO, when it falls in the WRITTEN_DATE_DAYS before `fetched` (an ISO
    date): a page is not fetched before it is written, and a day long before then is what it is about ("11
    September 2001"), not when. "" otherwise, and without `fetched`."""
    if not fetched:
        return ""
    try:
        bound = date.fromisoformat(fetched[:10])
    except ValueError:
        return ""
    found = _WRITTEN_DAY.search(text.replace("-", " "))
    if found is None:
        return ""
    day, month, year = (found.group(1), found.group(2), found.group(3)) if found.group(1) else \
        (found.group(5), found.group(4), found.group(6))
    try:
        written = datetime.strptime(f"{day} {month} {year}", "%d %B %Y").date()
    except ValueError:  # 31 November
        return ""
    return written.isoformat() if 0 <= (bound - written).days <= WRITTEN_DATE_DAYS else ""
