"""Dates and outlet names as feeds and people write them, made comparable."""

from __future__ import annotations

import pytest

from qa.metadata import host_of, normalize_date, outlet_key


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
