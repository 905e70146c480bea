"""Dates and outlet names as feeds and people write them, made comparable."""

from __future__ import annotations

import pytest

from qa.articles import make_article
from qa.metadata import host_of, normalize_date, outlet_key, title_without_outlet, written_date


@pytest.mark.parametrize(("raw", "iso"), [
    ("2024-05-31", "2024-05-31"),
    ("2024-05-31T10:30:00Z", "2024-05-31T10:30:00"),
    ("2024-05-31T12:30:00+02:00", "2024-05-31T10:30:00"),
    ("Fri, 31 May 2024 10:30:00 GMT", "2024-05-31T10:30:00"),
    ("May 31, 2024", "2024-05-31"),
    ("31 May 2024", "2024-05-31"),
    ("2024-05", ""),
    ("2024-13-45", ""),  # no such month or day: dropped, so the URL's or the fetch date can stand in
    ("2024-02-30", ""),
    ("0000-00-00", ""),
    ("yesterday", ""),
    ("", ""),
])
def test_dates_become_iso(raw: str, iso: str) -> None:
    assert normalize_date(raw) == iso


def test_outlet_spellings_share_a_key() -> None:
    assert outlet_key("USA Today") == outlet_key("usatoday.com") == outlet_key("www.usatoday.com") == "usatoday"
    assert outlet_key("CNN") == outlet_key("cnn.com") == "cnn"
    assert host_of("https://www.theweek.co.uk/news/1") == "theweek.co.uk" and host_of("not a url") == ""


@pytest.mark.parametrize(("title", "outlet", "url", "expected"), [
    ("5.8-magnitude earthquake hits Tonga - USA Today", "usatoday.com", "", "5.8-magnitude earthquake hits Tonga"),
    ("Canadian hamlet unveils Cheeto statue | CNN Business", "cnn.com", "", "Canadian hamlet unveils Cheeto statue"),
    ("Supreme Court overturns Roe v Wade - CNNPolitics", "", "https://edition.cnn.com/x", "Supreme Court overturns Roe v Wade"),
    ("Ten Things You Need to Know Today | The ...", "theweek.co.uk", "", "Ten Things You Need to Know Today"),
    ("Pros and cons of compulsory vaccination | The Week UK", "The Week", "", "Pros and cons of compulsory vaccination"),
    ("Trump's call to end filibuster | Opinion", "usatoday.com", "", "Trump's call to end filibuster | Opinion"),
    ("Watch Out for This Credit Card Scam | The Motley Fool", "usatoday.com", "", "Watch Out for This Credit Card Scam | The Motley Fool"),
    ("Anti-war rally in Kabul - Reuters", "cnn.com", "", "Anti-war rally in Kabul - Reuters"),
    ("USA Today", "usatoday.com", "", "USA Today"),
    ("- | CNN", "cnn.com", "", "- | CNN"),
    ("How Helene's path created destruction – and ...", "usatoday.com", "", "How Helene's path created destruction – and ..."),
])
def test_a_title_loses_a_closing_name_of_its_own_outlet_only(title: str, outlet: str, url: str, expected: str) -> None:
    assert title_without_outlet(title, outlet, url) == expected


def test_an_exported_articles_title_is_shown_without_its_outlet() -> None:
    article = make_article("a#1", "a.jsonl#1", "The quake struck at dawn.\n", "h", title="Quake hits Tonga - USA Today",
                           outlet="usatoday.com")
    assert article is not None and article.title == "Quake hits Tonga"


@pytest.mark.parametrize(("text", "fetched", "expected"), [
    ("Ten Things You Need to Know Today: 19 March 2021 | The Week", "2025-06-28", "2021-03-19"),
    ("https://www.theweek.co.uk/news/958570/ten-things-you-need-to-know-today-19-november-2022", "2023-01-28",
     "2022-11-19"),
    ("Markets on November 3, 2024: stocks rally", "2024-11-04", "2024-11-03"),
    ("Remembering 11 September 2001", "2021-09-11", ""),  # what the story is about, not when it was written
    ("Ten Things You Need to Know Today: 19 March 2021", "2021-03-18", ""),  # fetched before it was written?
    ("Ten Things You Need to Know Today: 31 November 2022", "2022-12-02", ""),
    ("Ten Things You Need to Know Today: 19 March 2021", "", ""),
    ("Quake hits Tonga", "2024-01-01", ""),
])
def test_a_day_written_in_a_title_or_address_dates_an_article_fetched_soon_after(text, fetched, expected) -> None:
    assert written_date(text, fetched) == expected
