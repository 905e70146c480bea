"""Saved pages through trafilatura: main text without chrome, and the page's metadata."""

from __future__ import annotations

from pathlib import Path

from qa.articles import parse_article, scan_folder

PAGE = Path(__file__).parent / "data" / "ledger_page.html"


def test_saved_page_gives_text_and_metadata() -> None:
    article = parse_article("ledger_page.html", PAGE.read_bytes())
    assert article.title == "Envoy lands in Doha for a new round of talks"
    assert (article.date, article.outlet, article.author) == ("2024-05-31T08:15:00", "The Harbour Ledger", "Jane Roe")
    assert article.url == "https://ledger.example/world/2024/05/31/envoy-doha"
    body = [article.text[s:e] for s, e in article.lines]
    assert any(line.startswith("Officials said the talks would focus on a prisoner exchange & a reduction")
               for line in body)
    assert body[-1] == "Analysts in the region expect the round to last at least ten days, longer than any before it."
    for chrome in ("Most read", "Storm hits the coast", "cookies", "All rights reserved", "tracking", "Sport"):
        assert chrome not in article.text, chrome


def test_page_without_article_text_is_skipped(tmp_path: Path) -> None:
    (tmp_path / "empty.html").write_text("<html><head><title>Nothing</title></head><body><nav>Home</nav></body></html>")
    scan = scan_folder(tmp_path)
    assert scan.articles == [] and scan.skipped[0].path == "empty.html"


def test_a_copyright_year_is_not_taken_for_the_date() -> None:
    from qa.htmltext import extract_page

    html = ("<html><head><title>Ferry fares rise</title></head><body><article><h1>Ferry fares rise</h1>"
            "<p>Ferry fares will rise by a tenth from July, the operator said, the first rise in four years.</p>"
            "<p>Season tickets are spared until the autumn, when the council reviews the contract.</p></article>"
            "<footer>© 2019 The Harbour Ledger. All rights reserved.</footer></body></html>")
    page = extract_page(html)
    assert "Ferry fares will rise" in page.text and page.date == ""
    dated = html.replace("<head>", '<head><meta property="article:published_time" content="2024-06-02T08:00:00Z">')
    assert extract_page(dated).date.startswith("2024-06-02")


def test_a_page_whose_address_is_only_in_its_json_ld_keeps_it() -> None:
    from qa.htmltext import extract_page

    body = ("<article><h1>Envoy visits Doha</h1><p>The envoy arrived in Doha on Friday for talks with officials "
            "from several countries about the peace process.</p><p>He will travel on to Pakistan and Norway next "
            "week, officials said, before returning home.</p></article>")
    graph = ('{"@context": "https://schema.org", "@graph": [{"@type": "WebSite", "url": "https://news.example.com/"},'
             ' {"@type": ["NewsArticle"], "headline": "Envoy visits Doha", "mainEntityOfPage": {"@id": '
             '"https://news.example.com/2024/05/31/envoy-doha"}}]}')
    page = extract_page(f'<html><head><script type="application/ld+json">{graph}</script></head><body>{body}</body>'
                        "</html>")
    assert page.url == "https://news.example.com/2024/05/31/envoy-doha"  # the article's, not the site's
    broken = extract_page('<html><head><script type="application/ld+json">{"url": </script></head>'
                          f"<body>{body}</body></html>")
    assert broken.url == "" and "Doha" in broken.text
    canonical = extract_page('<html><head><link rel="canonical" href="https://news.example.com/envoy">'
                             f'<script type="application/ld+json">{graph}</script></head><body>{body}</body></html>')
    assert canonical.url == "https://news.example.com/envoy"  # the page's own link comes first


def test_a_page_keeps_the_time_of_publication_its_markup_states() -> None:
    from qa.htmltext import extract_page

    body = ("<body><article><h1>Envoy visits Doha</h1><p>The envoy arrived in Doha on Friday for talks with officials "
            "from several countries about the peace process.</p><p>He will travel on to Pakistan and Norway next "
            "week, officials said, before returning home.</p></article></body></html>")
    for head, date in [('<meta property="article:published_time" content="2024-05-31T10:30:00Z">', "2024-05-31T10:30:00"),
                       ('<meta content="2024-05-31T22:30:00-05:00" itemprop="datePublished">', "2024-06-01T03:30:00"),
                       ('<script type="application/ld+json">{"@type": "NewsArticle", "datePublished": '
                        '"2024-05-31T08:15:00+02:00"}</script>', "2024-05-31T06:15:00"),  # in UTC, as feeds' are
                       ('<meta property="article:published_time" content="2024-05-31">', "2024-05-31")]:
        assert extract_page(f"<html><head><title>Envoy</title>{head}</head>{body}").date == date, head


def test_a_character_reference_to_a_control_does_not_lose_the_page() -> None:
    from qa.htmltext import extract_page

    page = extract_page("<html><head><title>Envoy</title></head><body><article><h1>Envoy visits Doha</h1><p>The "
                        "envoy arrived in Doha on Friday &#27;[31mfor talks with officials from several countries."
                        "</p><p>He will travel on to Pakistan and Norway next week, officials said.</p></article>"
                        "</body></html>")
    assert "\ufffd[31mfor talks" in page.text and "Norway next week" in page.text  # the page, its escape made harmless
