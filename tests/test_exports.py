"""JSONL exports as corpora: field names mapped, bad lines skipped with a reason, a file as the corpus."""

from __future__ import annotations

import gzip
import json
import logging
from pathlib import Path

import pytest

from qa.articles import log_skipped, scan_folder
from qa.errors import CorpusError
from qa.settings import Settings

BODY = "The envoy arrived in Doha on Monday for talks. Officials said the talks would last a week."


def write_jsonl(path: Path, rows: list[object]) -> Path:
    lines = [row if isinstance(row, str) else json.dumps(row) for row in rows]
    data = ("\n".join(lines) + "\n").encode()
    path.write_bytes(gzip.compress(data) if path.name.endswith(".gz") else data)
    return path


def test_common_field_names_are_mapped(tmp_path: Path) -> None:
    write_jsonl(tmp_path / "export.jsonl", [
        {"id": "a1", "title": "Envoy in Doha", "text": BODY, "date": "2024-05-31", "outlet": "USA Today",
         "url": "https://www.usatoday.com/a1"},
        {"_id": 7, "headline": "Talks resume", "content": BODY, "publishedAt": "2024-06-01T10:30:00Z",
         "source": {"id": "bbc-news", "name": "BBC News"}, "link": "https://www.bbc.co.uk/news/7",
         "author": "Jane Roe"},
        {"headline": "Third story", "body": BODY, "retrieved": "Fri, 07 Jun 2024 09:00:00 GMT",
         "url": "https://edition.cnn.com/x"},
    ])
    articles = scan_folder(tmp_path / "export.jsonl").articles
    assert [(a.doc_id, a.path) for a in articles] == [
        ("export#a1", "export.jsonl#a1"), ("export#7", "export.jsonl#7"), ("export#line-3", "export.jsonl#line-3")]
    first, second, third = articles
    assert (first.title, first.date, first.outlet, first.url) == (
        "Envoy in Doha", "2024-05-31", "USA Today", "https://www.usatoday.com/a1")
    assert (second.title, second.date, second.outlet, second.author) == (
        "Talks resume", "2024-06-01T10:30:00", "BBC News", "Jane Roe")
    assert (third.date, third.outlet) == ("2024-06-07T09:00:00", "edition.cnn.com")  # outlet from the URL host
    assert all(a.text == BODY for a in articles)  # citations point into the record's text


def test_newsapi_records_use_the_description_and_lose_the_truncation_marker(tmp_path: Path) -> None:
    write_jsonl(tmp_path / "newsapi.jsonl", [
        {"title": "Port strike ends", "content": "Dock workers returned on Monday after a deal… [+1523 chars]",
         "description": "A summary.", "publishedAt": "2024-06-01T10:30:00Z"},
        {"title": "Ferry fares rise", "content": None, "description": "Fares rise by a tenth from July.",
         "publishedAt": "2024-06-02T08:00:00Z"},
    ])
    first, second = scan_folder(tmp_path / "newsapi.jsonl").articles
    assert first.text == "Dock workers returned on Monday after a deal"
    assert second.text == "Fares rise by a tenth from July."


def test_a_date_in_the_url_outranks_when_the_article_was_fetched(tmp_path: Path) -> None:
    write_jsonl(tmp_path / "export.jsonl", [
        {"id": "old", "text": BODY, "retrieved": "2026-07-03",
         "url": "https://www.usatoday.com/story/news/nation/2025/01/28/space-shuttle-challenger/77927970007/"},
        {"id": "dashed", "text": BODY, "retrieved": "2026-07-03", "url": "https://example.com/2024-05-31-envoy"},
        {"id": "stated", "text": BODY, "date": "2024-06-02", "url": "https://example.com/2024/05/31/envoy"},
        {"id": "impossible", "text": BODY, "retrieved": "2026-07-03", "url": "https://example.com/2025/02/30/x"},
        {"id": "numbers", "text": BODY, "url": "https://example.com/story/20250128/x"},
    ])
    dates = [a.date for a in scan_folder(tmp_path / "export.jsonl").articles]
    assert dates == ["2025-01-28", "2024-05-31", "2024-06-02", "2026-07-03", ""]


def test_bad_lines_are_skipped_with_a_clear_warning(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    write_jsonl(tmp_path / "news.jsonl.gz", [
        {"id": "ok1", "title": "First", "text": BODY},
        "{not json",
        "[1, 2]",
        {"id": "no-text", "title": "Empty", "text": "  "},
        {"id": "ok1", "title": "Again", "text": BODY},
        "",
        {"id": "ok2", "title": "Second", "text": BODY},
        {"id": "no-field", "title": "Headline only"},
        '{"id": "deep", "text": "x", "junk": ' + "[" * 100_000 + "]" * 100_000 + "}",
        {"id": "debris", "text": "Advertisement"},
    ])
    scan = scan_folder(tmp_path)
    with caplog.at_level(logging.WARNING):
        log_skipped(scan.skipped)
    assert [a.doc_id for a in scan.articles] == ["news#ok1", "news#ok2"]
    reasons = {s.path: s.reason for s in scan.skipped}
    assert set(reasons) == {"news.jsonl.gz line 2", "news.jsonl.gz line 3", "news.jsonl.gz line 4",
                            "news.jsonl.gz line 5", "news.jsonl.gz line 8", "news.jsonl.gz line 9",
                            "news.jsonl.gz line 10"}
    assert reasons["news.jsonl.gz line 10"] == "holds no article text (only page debris)"
    assert reasons["news.jsonl.gz line 8"].startswith("has no article text (no text, content, body")
    assert reasons["news.jsonl.gz line 9"] == "is nested too deeply to read"
    assert "not JSON" in reasons["news.jsonl.gz line 2"] and "not a JSON object" in reasons["news.jsonl.gz line 3"]
    assert reasons["news.jsonl.gz line 4"] == "has no text in its 'text' field" and "repeats the id" in reasons["news.jsonl.gz line 5"]
    assert "skipped news.jsonl.gz line 2: is not JSON" in caplog.text


def test_truncated_gzip_keeps_what_was_read(tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "cut.jsonl.gz", [{"id": str(i), "title": "T", "text": BODY * 40}
                                                   for i in range(200)])
    path.write_bytes(path.read_bytes()[:-200])
    scan = scan_folder(path)
    assert 0 < len(scan.articles) < 200
    assert any("cannot be read past" in s.reason for s in scan.skipped)


def test_a_file_that_cannot_be_read_is_told_before_its_bad_lines(tmp_path: Path,
                                                                 caplog: pytest.LogCaptureFixture) -> None:
    rows = ["{not json"] * 12 + [{"id": str(i), "title": "T", "text": BODY * 40} for i in range(200)]
    path = write_jsonl(tmp_path / "cut.jsonl.gz", rows)
    path.write_bytes(path.read_bytes()[:-200])
    with caplog.at_level(logging.WARNING):
        log_skipped(scan_folder(tmp_path).skipped)
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert "cannot be read past" in warnings[0] and warnings[-1].startswith("skipped 3 more")


def test_folder_mixes_exports_and_files(tmp_path: Path) -> None:
    (tmp_path / "story.txt").write_text("Envoy lands in Doha\n\nThe envoy arrived on Monday.\n")
    (tmp_path / "feeds").mkdir()
    write_jsonl(tmp_path / "feeds" / "wire.jsonl", [{"id": "w1", "title": "Wire story", "text": BODY}])
    assert [a.path for a in scan_folder(tmp_path).articles] == ["feeds/wire.jsonl#w1", "story.txt"]


def test_a_file_that_is_no_corpus_is_refused(tmp_path: Path) -> None:
    (tmp_path / "notes.pdf").write_bytes(b"%PDF")
    with pytest.raises(CorpusError, match="neither a folder nor an article file"):
        scan_folder(tmp_path / "notes.pdf")


def test_index_of_a_corpus_file_lives_beside_it(tmp_path: Path) -> None:
    corpus = write_jsonl(tmp_path / "export.jsonl", [{"id": "a", "text": BODY}])
    assert Settings(corpus=corpus).index_path == tmp_path / ".export.jsonl.qa-index"
    assert Settings(corpus=tmp_path).index_path == tmp_path / ".qa-index"


def test_an_unterminated_line_is_said_in_words(tmp_path: Path) -> None:
    (tmp_path / "wire.jsonl").write_text('{"id": "a", "text": "Fine words here."}\n{"id": "b", "text": "unterminated\n',
                                         encoding="utf-8")
    scan = scan_folder(tmp_path)
    [skip] = scan.skipped
    assert skip.reason == "is not JSON (Invalid control character at column 34)"  # was "... character at, column 34"


def test_an_export_without_a_date_takes_the_day_its_title_writes_before_the_fetch_date(tmp_path: Path) -> None:
    (tmp_path / "week.jsonl").write_text(
        '{"id": "a", "title": "Ten Things You Need to Know Today: 19 March 2021 | The Week", '
        '"url": "https://www.theweek.co.uk/news/952000/ten-things", "retrieved": "2025-06-28", '
        '"text": "The Oxford jab is safe, the regulator said."}\n', encoding="utf-8")
    [article] = scan_folder(tmp_path).articles
    assert article.date == "2021-03-19"  # it was dated by the fetch, 2025-06-28



def test_a_date_known_only_from_the_fetch_is_marked_as_fetched(tmp_path: Path) -> None:
    week = "https://www.theweek.co.uk/news/959000/why-the-talks-failed"
    write_jsonl(tmp_path / "export.jsonl", [
        {"id": "fetched", "text": BODY, "retrieved": "2023-01-28", "url": week},
        {"id": "stated", "text": BODY, "date": "2023-01-02", "retrieved": "2023-01-28", "url": week},
        {"id": "in-url", "text": BODY, "retrieved": "2026-07-03", "url": "https://example.com/2025/01/28/envoy"},
        {"id": "in-title", "title": "Ten Things You Need to Know Today: 19 March 2021", "text": BODY,
         "retrieved": "2021-03-20", "url": week},
        {"id": "undated", "text": BODY},
    ])
    articles = scan_folder(tmp_path / "export.jsonl").articles
    assert [(a.date, a.date_kind) for a in articles] == [
        ("2023-01-28", "fetched"), ("2023-01-02", ""), ("2025-01-28", ""), ("2021-03-19", ""), ("", "")]
    assert [a.byline for a in articles[:2]] == ["theweek.co.uk · fetched 2023-01-28", "theweek.co.uk · 2023-01-02"]


def test_a_copy_dated_by_its_fetch_goes_after_a_copy_that_ran_the_same_day(tmp_path: Path) -> None:
    from qa.duplicates import find_copies

    story = " ".join([BODY] * 4) + " The envoy will report to the foreign ministry when the week is over."
    write_jsonl(tmp_path / "export.jsonl", [
        {"id": "a-week", "text": story, "retrieved": "2023-01-28", "outlet": "The Week"},
        {"id": "b-wire", "text": story, "date": "2023-01-28", "outlet": "Reuters"},
        {"id": "c-earlier", "text": story, "retrieved": "2023-01-27", "outlet": "CNN"},
    ])
    articles = scan_folder(tmp_path / "export.jsonl").articles
    # fetched on the 27th, it ran by then: before the wire; fetched on the 28th, it may have run that day or earlier
    assert find_copies(articles) == [["export#c-earlier", "export#b-wire", "export#a-week"]]
