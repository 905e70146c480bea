"""Searching and answering within dates and outlets."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from qa import Retriever
from qa.articles import Article
from qa.filters import FilterError, Filters

from .fakes import CountingEmbedder

STORIES = [
    ("a", "2024-05-31", "USA Today", "The harbour bridge reopened after repairs to its steel cables and deck."),
    ("b", "2024-06-15", "cnn.com", "The harbour bridge closed again when engineers found cracks in a cable."),
    ("c", "2023-01-02", "theweek.co.uk", "The harbour bridge was first planned a century ago by city engineers."),
    ("d", "", "", "The harbour bridge tolls will rise next year, the city council decided."),
]


@pytest.fixture(scope="module")
def retriever(tmp_path_factory: pytest.TempPathFactory) -> Retriever:
    folder = tmp_path_factory.mktemp("filters")
    rows = [{"id": i, "title": f"Bridge story {i}", "text": text, "date": date, "outlet": outlet}
            for i, date, outlet, text in STORIES]
    (folder / "news.jsonl").write_text("\n".join(json.dumps(row) for row in rows) + "\n")
    return Retriever.from_folder(folder, embedder=CountingEmbedder())


def docs(hits) -> set[str]:
    return {hit.citation.doc_id.split("#")[1] for hit in hits}


def test_no_filter_searches_everything(retriever: Retriever) -> None:
    assert docs(retriever.search("harbour bridge", k=10)) == {"a", "b", "c", "d"}


def test_date_bounds_are_inclusive_prefixes(retriever: Retriever) -> None:
    assert docs(retriever.search("harbour bridge", k=10, since="2024")) == {"a", "b"}
    assert docs(retriever.search("harbour bridge", k=10, since="2024-06")) == {"b"}
    assert docs(retriever.search("harbour bridge", k=10, until="2024-05")) == {"a", "c"}
    assert docs(retriever.search("harbour bridge", k=10, since="2024-05-31", until="2024-05-31")) == {"a"}


def test_outlets_match_whatever_their_spelling(retriever: Retriever) -> None:
    assert docs(retriever.search("harbour bridge", k=10, outlets=["usatoday.com", "CNN"])) == {"a", "b"}
    assert docs(retriever.search("harbour bridge", k=10, outlets="The Week")) == {"c"}  # theweek.co.uk
    assert docs(retriever.search("harbour bridge", k=10, outlets="BBC")) == set()


def test_citations_carry_the_metadata(retriever: Retriever) -> None:
    hit = retriever.search("bridge reopened repairs", k=1, outlets="usatoday")[0]
    c = hit.citation
    assert (c.date, c.outlet, c.byline, c.path) == ("2024-05-31", "USA Today", "USA Today · 2024-05-31", "news.jsonl#a")
    assert hit.to_dict()["citation"]["outlet"] == "USA Today"


def test_filtered_view_and_ask_keep_to_the_filters(retriever: Retriever) -> None:
    view = retriever.filtered(outlets="cnn")
    assert docs(view.search("harbour bridge", k=10)) == {"b"}
    assert docs(view.search("harbour bridge", k=10, since="2025")) == set()
    answer = retriever.ask("Why did the harbour bridge close again?", since="2024-06")
    cited = {c.citation.doc_id for c in answer.citations} | {h.citation.doc_id for h in answer.closest}
    assert cited <= {"news#b"}


def test_bad_filters_are_refused_with_a_reason() -> None:
    with pytest.raises(FilterError, match="not a date"):
        Filters.of(since="last week")
    for impossible in ("2022-13", "2022-00", "2022-02-30", "2023-02-29"):
        with pytest.raises(FilterError, match="no such month or day"):
            Filters.of(until=impossible)
    assert Filters.of(since="2024-02-29", until="2024-12").since == "2024-02-29"
    with pytest.raises(FilterError, match="after"):
        Filters.of(since="2024-06", until="2024-05")
    article = Article("x", "x.txt", "T", "text", ((0, 4),), "h", "2024-05-31", "USA Today")
    assert Filters.of(until="2024-05-31").admits(article) and not Filters.of(until="2024-05-30").admits(article)


def test_cli_refuses_a_bad_date_before_loading(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from qa.cli import main

    assert main(["search", "bridge", "--since", "soon", "--corpus", str(tmp_path)]) == 2
    assert "not a date" in capsys.readouterr().err


def test_cli_says_when_the_filters_leave_no_article(retriever: Retriever, capsys, monkeypatch) -> None:
    from qa import cli

    monkeypatch.setattr(cli, "_open", lambda settings, quiet: retriever)
    assert cli.main(["search", "harbour bridge", "--outlet", "bbc"]) == 0
    out, err = capsys.readouterr()
    assert out.strip() == "No passages."
    assert err == "qa: warning: no article matches outlets bbc (outlets here: USA Today, cnn.com, theweek.co.uk)\n"
    assert cli.main(["ask", "Why did the bridge close?", "--since", "2030"]) == 0
    assert capsys.readouterr().err == ("qa: warning: no article matches since 2030 "
                                       "(articles here are dated 2023-01-02 to 2024-06-15)\n")
    assert cli.main(["search", "harbour bridge", "--outlet", "cnn"]) == 0
    assert capsys.readouterr().err == ""


def test_a_date_filter_on_articles_without_dates_says_so(tmp_path: Path) -> None:
    (tmp_path / "bridge.txt").write_text("Bridge closes\n\nThe harbour bridge closed on Monday for repairs.\n")
    retriever = Retriever.from_folder(tmp_path, embedder=CountingEmbedder())
    assert retriever.no_article_matches(since="2020", outlets="bbc") == (
        "no article matches since 2020, outlets bbc (no article here has a date; no article here names its outlet)")
    assert retriever.no_article_matches() is None


def test_inline_filters_are_split_from_the_question() -> None:
    from qa.filters import split_filters

    text, found = split_filters("since:2024-05 What closed the bridge? outlet:cnn,usatoday.com OUTLET:bbc")
    assert text == "What closed the bridge?"
    assert found == {"since": "2024-05", "until": None, "outlets": ["cnn", "usatoday.com", "bbc"]}
    assert split_filters("Who said: since when?") == ("Who said: since when?",
                                                      {"since": None, "until": None, "outlets": None})


def test_a_narrow_filter_still_finds_k_passages_at_scale(tmp_path: Path, monkeypatch) -> None:
    """On a large corpus search fuses each side's best candidates; the filter must go into that candidate
    search, or an outlet whose articles all rank below the candidate pool would find nothing."""
    import qa.fusion
    import qa.retriever

    rows = [{"id": f"big{i}", "title": f"Bridge report {i}", "outlet": "Big Paper",
             "text": f"The harbour bridge cables and the harbour bridge deck were inspected, report {i}."}
            for i in range(60)]
    rows += [{"id": f"small{i}", "title": f"Council note {i}", "outlet": "Small Paper",
              "text": f"The council also spoke about a bridge, among many other things, note {i}."}
             for i in range(3)]
    (tmp_path / "news.jsonl").write_text("\n".join(json.dumps(row) for row in rows) + "\n")
    monkeypatch.setattr(qa.retriever, "EXACT_PASSAGES", 0)
    monkeypatch.setattr(qa.fusion, "CANDIDATES", 5)
    scaled = Retriever.from_folder(tmp_path, embedder=CountingEmbedder(), find_copies=False)
    unfiltered = scaled.search("harbour bridge cables", k=5)
    assert all(hit.citation.outlet == "Big Paper" for hit in unfiltered)
    hits = scaled.search("harbour bridge cables", k=3, outlets="Small Paper")
    assert docs(hits) == {"small0", "small1", "small2"}
