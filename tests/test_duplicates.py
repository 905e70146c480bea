"""Syndicated copies: found by MinHash, searched once, every outlet cited."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from qa import Retriever
from qa.articles import make_article
from qa.duplicates import CACHE, GROUPS, find_copies

from .fakes import CountingEmbedder

WIRE = ("Officials in the port city said on Tuesday that the harbour bridge would stay closed for at least two "
        "more weeks while engineers replace a cracked steel cable. The mayor told reporters the repairs would "
        "cost about four million dollars and that ferries would run every twenty minutes until the bridge "
        "reopens. Traffic on the coastal road has doubled since the closure, the transport office said.")
OTHER = ("The city council voted to raise parking fees in the old town by a third from next spring. Shop owners "
         "said the change would drive customers to the malls on the edge of the city, while residents welcomed "
         "fewer cars on the narrow streets. The fees will pay for a new tram line to the university.")


def article(doc: str, text: str, date: str = "", outlet: str = ""):
    return make_article(doc, f"{doc}.txt", text, doc, title=doc, date=date, outlet=outlet)


def test_reworded_copies_are_one_story_and_the_earliest_comes_first() -> None:
    copy = WIRE.replace("said on Tuesday", "said Tuesday") + " Copyright The Wire Agency."
    groups = find_copies([article("b", copy, "2024-06-02", "cnn.com"), article("a", WIRE, "2024-06-01", "USA Today"),
                          article("c", OTHER, "2024-06-01")])
    assert groups == [["a", "b"]]


def test_different_stories_and_short_texts_are_not_copies() -> None:
    assert find_copies([article("a", WIRE), article("c", OTHER)]) == []
    assert find_copies([article("a", "The bridge closed."), article("b", "The bridge closed.")]) == []


def test_signatures_are_cached_by_content(tmp_path: Path) -> None:
    articles = [article("a", WIRE), article("b", WIRE + " More follows.")]
    assert find_copies(articles, tmp_path) == [["a", "b"]]
    assert (tmp_path / CACHE).is_file()
    assert find_copies(articles, tmp_path) == [["a", "b"]]


@pytest.mark.parametrize("size", [0, 100])
def test_a_damaged_signature_cache_is_computed_again(tmp_path: Path, size: int) -> None:
    articles = [article("a", WIRE), article("b", WIRE + " More follows.")]
    assert find_copies(articles, tmp_path) == [["a", "b"]]
    with (tmp_path / CACHE).open("r+b") as cache:
        cache.truncate(size)
    (tmp_path / GROUPS).unlink()
    assert find_copies(articles, tmp_path) == [["a", "b"]]
    assert (tmp_path / CACHE).stat().st_size > 100  # written again


def test_folders_in_the_caches_places_are_replaced_by_the_caches(tmp_path: Path, caplog) -> None:
    articles = [article("a", WIRE), article("b", WIRE + " More follows.")]
    for name in (CACHE, GROUPS):
        (tmp_path / name).mkdir()
        (tmp_path / name / "junk").write_text("x", encoding="utf-8")
    with caplog.at_level("WARNING"):
        assert find_copies(articles, tmp_path) == [["a", "b"]]
    assert (tmp_path / CACHE).is_file() and (tmp_path / GROUPS).is_file()
    assert "could not save" not in caplog.text  # it used to say so on every run


def test_the_groups_are_reused_only_for_the_same_articles(tmp_path: Path, monkeypatch) -> None:
    import qa.duplicates

    articles = [article("a", WIRE), article("b", WIRE + " More follows."), article("c", OTHER)]
    assert find_copies(articles, tmp_path) == [["a", "b"]] and (tmp_path / GROUPS).is_file()
    monkeypatch.setattr(qa.duplicates, "_buckets", lambda matrix: pytest.fail("the saved groups were not used"))
    assert find_copies(articles, tmp_path) == [["a", "b"]]
    monkeypatch.undo()
    changed = [articles[0], article("b", OTHER), articles[2]]  # b now tells c's story
    assert find_copies(changed, tmp_path) == [["b", "c"]]
    dated = [article("a", WIRE, "2024-06-02"), article("b", WIRE + " More follows.", "2024-06-01"), articles[2]]
    assert find_copies(dated, tmp_path) == [["b", "a"]]  # the original comes first: the order is found again
    (tmp_path / GROUPS).write_text("{not json")
    assert find_copies(articles, tmp_path) == [["a", "b"]]


@pytest.fixture(scope="module")
def retriever(tmp_path_factory: pytest.TempPathFactory) -> Retriever:
    folder = tmp_path_factory.mktemp("copies")
    rows = [{"id": "usa", "title": "Bridge stays shut", "text": WIRE, "date": "2024-06-01", "outlet": "USA Today"},
            {"id": "cnn", "title": "Harbour bridge closed", "text": WIRE + " CNN contributed.", "date": "2024-06-02",
             "outlet": "cnn.com", "url": "https://edition.cnn.com/bridge"},
            {"id": "fees", "title": "Parking fees", "text": OTHER, "date": "2024-06-03", "outlet": "cnn.com"}]
    (folder / "news.jsonl").write_text("\n".join(json.dumps(row) for row in rows) + "\n")
    return Retriever.from_folder(folder, embedder=CountingEmbedder())


def test_a_story_is_listed_once_with_every_copy_cited(retriever: Retriever) -> None:
    assert retriever.report.copies == 1
    hits = retriever.search("harbour bridge cable repairs", k=5)
    assert [h.citation.doc_id for h in hits] == ["news#usa", "news#fees"]
    first = hits[0]
    assert [(c.doc_id, c.outlet) for c in first.copies] == [("news#cnn", "cnn.com")]
    copy = first.copies[0]
    assert retriever.article(copy.doc_id).text[copy.start : copy.end] == first.text  # the same words, in the copy


def test_a_filter_that_leaves_out_the_original_shows_the_copy(retriever: Retriever) -> None:
    hits = retriever.search("harbour bridge cable repairs", k=5, outlets="cnn")
    assert [h.citation.doc_id for h in hits] == ["news#cnn", "news#fees"]
    assert hits[0].copies == ()


def test_answers_cite_every_copy(retriever: Retriever) -> None:
    answer = retriever.ask("How long will the harbour bridge stay closed?")
    assert not answer.abstained
    first = answer.citations[0]
    assert {first.citation.doc_id, *(c.doc_id for c in first.also)} == {"news#usa", "news#cnn"}
