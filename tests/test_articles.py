"""Reading folders of articles and dropping page debris by general rules."""

from __future__ import annotations

from pathlib import Path

import pytest

from qa.articles import keep_article_lines, parse_article, scan_folder
from qa.errors import CorpusError

from .conftest import SEEDS


def kept(text: str) -> list[str]:
    return [text[s:e] for s, e in keep_article_lines(text)]


def test_page_chrome_before_the_headline_is_dropped() -> None:
    text = "Skip navigation\n\nLatest Stories\n\nEnvoy arrives in Doha for talks\n\nThe envoy arrived on Monday."
    assert kept(text) == ["Envoy arrives in Doha for talks", "The envoy arrived on Monday."]


def test_image_rows_captions_and_placeholders_are_dropped() -> None:
    text = "\n".join([
        "Envoy arrives in Doha for talks",
        "![](https://x/y.jpg) |",
        "The envoy in Doha. Photo: Reuters |",
        "  – 4x3 Image",
        "Photo gallery",
        "The envoy arrived on Monday.",
        "Leaders shake hands after signing [Jane Doe/Reuters]",
    ])
    assert kept(text) == ["Envoy arrives in Doha for talks", "The envoy arrived on Monday."]


def test_comment_newsletter_and_adblock_prompts_are_dropped() -> None:
    text = "\n".join([
        "Envoy arrives in Doha for talks",
        "The envoy arrived on Monday.",
        "Subscribe to our daily newsletter!",
        "Leave a comment",
        "Your e-mail address will not be published. Required fields are marked *",
        "We noticed you use an ad-blocker. Please whitelist us to support our journalism.",
        "Scroll to top",
    ])
    assert kept(text) == ["Envoy arrives in Doha for talks", "The envoy arrived on Monday."]


def test_repeated_caption_line_is_dropped_once() -> None:
    text = "Headline about the envoy visit\nThe envoy visits Pakistan.\nThe envoy visits Pakistan.\nMore news follows."
    assert kept(text) == ["Headline about the envoy visit", "The envoy visits Pakistan.", "More news follows."]


def test_seed_titles_skip_chrome() -> None:
    titles = {a.path: a.title for a in scan_folder(SEEDS).articles}
    assert titles["003_9623a98c6a797b2a.txt"].startswith("Khalilzad, In Pakistan")
    assert titles["004_52d8e2bfa1f724e8.txt"].startswith("U.S. Envoy In Pakistan")
    assert titles["002_8157d92ee579a465.txt"] == "US envoy Zalmay Khalilzad and the Taliban’s rise"


def test_seed_debris_is_gone_and_body_kept() -> None:
    for article in scan_folder(SEEDS).articles:
        body = "\n".join(article.text[s:e] for s, e in article.lines)
        for debris in ("Accessibility links", "![]()", "16x9 Image", "Adblocker", "Leave a Reply", "Back to top"):
            assert debris not in body, (article.path, debris)
    article = {a.path: a for a in scan_folder(SEEDS).articles}["002_8157d92ee579a465.txt"]
    assert "By then, it was too late." in "\n".join(article.text[s:e] for s, e in article.lines)


def test_bad_files_are_skipped_with_reasons(tmp_path: Path) -> None:
    (tmp_path / "good.txt").write_text("A good headline for a story\n\nSome text of the story here.")
    (tmp_path / "empty.txt").write_text("  \n")
    (tmp_path / "binary.txt").write_bytes(b"\x00\x01\x02binary")
    (tmp_path / "latin1.txt").write_bytes("Caf\xe9 story headline here".encode("latin-1"))
    (tmp_path / "notes.pdf").write_bytes(b"%PDF")
    (tmp_path / ".hidden").mkdir()
    (tmp_path / ".hidden" / "x.txt").write_text("Hidden headline of the story\n\nText.")
    scan = scan_folder(tmp_path)
    assert [a.path for a in scan.articles] == ["good.txt"]
    reasons = {s.path: s.reason for s in scan.skipped}
    assert reasons.keys() == {"empty.txt", "binary.txt", "latin1.txt"}
    assert "empty" in reasons["empty.txt"] and "binary" in reasons["binary.txt"] and "UTF-8" in reasons["latin1.txt"]


def test_nested_markdown_and_html_articles(tmp_path: Path) -> None:
    (tmp_path / "world").mkdir()
    (tmp_path / "world" / "story.md").write_text("# Envoy lands in Doha today\n\nThe envoy landed. Talks begin.\n")
    (tmp_path / "page.html").write_text(
        "<html><head><title>Site | Envoy</title><script>var x='[bold]';</script></head><body><nav>Home News</nav>"
        "<h1>Envoy lands in Doha</h1><p>The envoy &amp; his team landed.</p><footer>© Site</footer></body></html>")
    articles = {a.doc_id: a for a in scan_folder(tmp_path).articles}
    assert articles["world/story"].title == "Envoy lands in Doha today"
    html = articles["page"]
    assert html.title == "Envoy lands in Doha"
    assert "The envoy & his team landed." in html.text
    assert "var x" not in html.text and "Home News" not in html.text


def test_missing_folder_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(CorpusError, match="does not exist"):
        scan_folder(tmp_path / "nope")


def test_file_with_only_debris_is_skipped(tmp_path: Path) -> None:
    assert parse_article("x.txt", b"![]() |\nAccessibility links\n") is None
