"""`qa add`: pages and feeds from a local HTTP server, saved with their metadata, never twice."""

from __future__ import annotations

import functools
import http.server
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from qa.adding import add_urls
from qa.articles import scan_folder
from qa.cli import main

PAGE = (Path(__file__).parent / "data" / "ledger_page.html").read_text(encoding="utf-8")
SECOND = PAGE.replace("Envoy lands in Doha for a new round of talks", "Talks in Doha end without a deal") \
             .replace("2024/05/31/envoy-doha", "2024/06/14/talks-end").replace("2024-05-31T08:15:00Z", "2024-06-14T18:00:00Z")
FEED = """<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0"><channel><title>The Harbour Ledger: World</title><link>{base}/</link>
<item><title>Envoy lands in Doha for a new round of talks</title><link>{base}/envoy.html</link>
  <pubDate>Fri, 31 May 2024 08:15:00 GMT</pubDate></item>
<item><title>Talks in Doha end without a deal</title><link>{base}/talks.html</link>
  <pubDate>Fri, 14 Jun 2024 18:00:00 GMT</pubDate></item>
<item><title>Gone from the site</title><link>{base}/missing.html</link><pubDate>Sat, 15 Jun 2024 09:00:00 GMT</pubDate>
  <description>&lt;p&gt;The negotiators left Doha on Saturday morning after twelve days of talks.&lt;/p&gt;&lt;p&gt;They will meet again in July, both sides said in short statements to the press.&lt;/p&gt;</description></item>
</channel></rss>"""


@pytest.fixture()
def server(tmp_path: Path) -> Iterator[str]:
    site = tmp_path / "site"
    site.mkdir()
    (site / "envoy.html").write_text(PAGE, encoding="utf-8")
    (site / "talks.html").write_text(SECOND, encoding="utf-8")
    (site / "paris.html").write_bytes(PAGE.replace("<head>", '<head><meta charset="windows-1252">', 1)
                                      .replace("Envoy lands in Doha", "Envoy lands in Zürich")
                                      .replace("2024/05/31/envoy-doha", "2024/05/31/envoy-zurich").encode("cp1252"))
    (site / "moved.html").write_text('<html><head><meta http-equiv="refresh" content="0; url=talks.html"></head>'
                                     '<body>Redirecting…</body></html>', encoding="utf-8")
    (site / "report.pdf").write_bytes(b"%PDF-1.4\n" + bytes(range(256)) * 8)
    handler = functools.partial(_QuietHandler, directory=str(site))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    base = f"http://127.0.0.1:{httpd.server_address[1]}"
    (site / "feed.xml").write_text(FEED.format(base=base), encoding="utf-8")
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield base
    httpd.shutdown()
    httpd.server_close()


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args) -> None:
        pass


def test_a_page_is_saved_with_its_metadata_once(server: str, tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    report = add_urls([f"{server}/envoy.html"], corpus)
    assert len(report.added) == 1 and not report.failed
    article = scan_folder(corpus).articles[0]
    assert article.title == "Envoy lands in Doha for a new round of talks"
    assert (article.date, article.outlet, article.author) == ("2024-05-31T08:15:00", "The Harbour Ledger", "Jane Roe")
    assert article.url == "https://ledger.example/world/2024/05/31/envoy-doha"
    assert "prisoner exchange & a reduction in violence" in article.text
    again = add_urls([f"{server}/envoy.html"], corpus)
    assert again.added == [] and again.already == [f"{server}/envoy.html"]


def test_a_feed_adds_each_entry_and_falls_back_to_its_own_text(server: str, tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    report = add_urls([f"{server}/feed.xml"], corpus)
    assert len(report.added) == 3 and not report.failed
    articles = {a.title: a for a in scan_folder(corpus).articles}
    assert set(articles) == {"Envoy lands in Doha for a new round of talks", "Talks in Doha end without a deal",
                             "Gone from the site"}
    gone = articles["Gone from the site"]
    assert (gone.date, gone.outlet, gone.url) == ("2024-06-15T09:00:00", "The Harbour Ledger: World",
                                                  f"{server}/missing.html")
    assert "twelve days of talks." in gone.text and "<p>" not in gone.text
    assert articles["Talks in Doha end without a deal"].date == "2024-06-14T18:00:00"
    again = add_urls([f"{server}/feed.xml", f"{server}/envoy.html"], corpus)
    assert again.added == [] and len(again.already) == 4


def test_unreachable_and_bad_addresses_fail_with_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status = main(["add", "http://127.0.0.1:9/nothing.html", "ftp://example.org/x", "--corpus", str(tmp_path)])
    err = capsys.readouterr().err
    assert status == 1
    assert "http://127.0.0.1:9/nothing.html:" in err and "only http:// and https://" in err
    assert "Traceback" not in err


def test_a_corpus_file_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    corpus = tmp_path / "news.jsonl"
    corpus.write_text("{}\n")
    assert main(["add", "http://127.0.0.1:9/x", "--corpus", str(corpus)]) == 2
    assert "is a file" in capsys.readouterr().err


def test_a_page_that_says_it_was_not_found_is_not_saved(tmp_path: Path) -> None:
    from qa.adding import AddReport, _save
    from qa.htmltext import Page

    report = AddReport()
    banner = "We use cookies to improve your experience. Accept all cookies. Manage settings."
    _save(Page(f"Sorry, we couldn't find that page.\n\n{banner}", title="Page Not Found | The Ledger"), tmp_path,
          set(), "https://ex.example/gone", report)
    _save(Page(f"Error 404\n\n{banner}", title="404"), tmp_path, set(), "https://ex.example/old", report)
    _save(Page("The court ruled on Tuesday.", title="Jury: not found guilty"), tmp_path, set(), "https://ex.example/v",
          report)  # a short story about a "not found" verdict is kept
    feature = "The error page became a meme. " * 60  # ... and a long one about 404 pages
    _save(Page(feature, title="The 404 page turns 30"), tmp_path, set(), "https://ex.example/f", report)
    assert [line.split(": ", 1)[1] for line in report.failed] == [
        "the page says it was not found ('Page Not Found | The Ledger')", "the page says it was not found ('404')"]
    assert sorted(path.name for path in report.added) == sorted(p.name for p in tmp_path.iterdir())
    assert len(report.added) == 2


def test_a_saved_title_with_quotes_and_accents_reads_back_whole(tmp_path: Path) -> None:
    from qa.adding import AddReport, _save
    from qa.htmltext import Page

    page = Page("The film opens in November.\n\nCritics liked it.", title="'Spectre' review: 'a triumph'",
                outlet="\"Beyoncé\" Weekly", author="It's Me", url="https://ex.example/spectre")
    _save(page, tmp_path, set(), "https://ex.example/spectre", AddReport())
    article = scan_folder(tmp_path).articles[0]
    assert (article.title, article.outlet, article.author) == ("'Spectre' review: 'a triumph'", "\"Beyoncé\" Weekly",
                                                               "It's Me")


def test_pages_in_their_declared_charset_redirects_and_other_addresses(server: str, tmp_path: Path,
                                                                       capsys: pytest.CaptureFixture[str]) -> None:
    corpus = tmp_path / "corpus"
    report = add_urls([f"{server}/paris.html", f"{server}/moved.html", f"{server}/report.pdf"], corpus)
    assert report.failed == [f"{server}/report.pdf: not a web page or feed (application/pdf)"]
    titles = sorted(a.title for a in scan_folder(corpus).articles)
    assert titles == ["Envoy lands in Zürich for a new round of talks", "Talks in Doha end without a deal"]
    # the same article under another address (its canonical URL is in the folder already) is not saved twice
    again = add_urls([f"{server}/talks.html?utm_source=rss"], corpus)
    assert again.added == [] and again.already == [f"{server}/talks.html?utm_source=rss"]
    assert main(["add", f"{server}/report.pdf", "--corpus", str(corpus), "--no-index"]) == 1
    assert capsys.readouterr().err.count("\n") == 1  # one line: no parser chatter
