"""Edited articles: only sentences whose text changed are embedded again; a metadata edit embeds nothing."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from qa import Retriever
from qa.articles import scan_folder
from qa.index import DIGESTS, MANIFEST
from qa.passages import split_passages

from .fakes import CountingEmbedder

STORY = """---
title: Walrus colony returns to the fjord
date: 2021-08-10
outlet: Arctic Wire
url: https://example.org/walrus
---

A walrus colony returned to the fjord on Tuesday for the first time in forty years.

Rangers counted 212 animals on the northern beach. The herd arrived from the east after the ice broke early.

The council closed the beach to boats until September, and a viewing platform opens next week.
"""
WIRE = [{"id": "1", "title": "Heron count rises", "date": "2020-03-01", "outlet": "Bird News",
         "text": "Herons were counted at the lake on Sunday.\n\nVolunteers found 48 nests, up from 31 last spring."},
        {"id": "2", "title": "Owl survey begins", "date": "2020-03-02", "outlet": "Bird News",
         "text": "The owl survey began at dusk.\n\nEach team walks two kilometres of forest road."}]
QUESTIONS = ["walrus colony fjord", "How many animals did the rangers count?", "herons counted lake nests",
             "Which countries did the envoy visit?", "Who freed Baradar from prison?", "owl survey forest road"]


@pytest.fixture
def folder(corpus: Path) -> Path:
    """The seed articles, a Markdown article with front matter and a JSON export of two articles."""
    (corpus / "walrus.md").write_text(STORY, encoding="utf-8")
    write_wire(corpus, WIRE)
    return corpus


def write_wire(folder: Path, records: list[dict]) -> None:
    (folder / "wire.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")


def results(retriever: Retriever) -> list[list[tuple]]:
    """Every method's hits for every question, with their citations (metadata included) and scores."""
    return [[(h.citation, h.text, round(h.score, 6)) for h in retriever.search(question, k=8, method=method)]
            for question in QUESTIONS for method in ("dense", "bm25", "hybrid")]


def assert_as_built_from_scratch(retriever: Retriever, folder: Path, scratch: Path) -> None:
    fresh = Retriever.from_folder(folder, embedder=CountingEmbedder(), index_dir=scratch)
    assert results(retriever) == results(fresh)
    vectors = CountingEmbedder().encode(QUESTIONS)
    assert np.array_equal(retriever.store.dense_scores(vectors), fresh.store.dense_scores(vectors))


def new_sentence_texts(folder: Path, before: dict[str, list[str]]) -> int:
    """How many sentences of the folder's articles have a text their saved version lacks."""
    count = 0
    for article in scan_folder(folder).articles:
        old = set(before.get(article.path, []))
        count += sum(1 for text in sentence_texts(article) if text not in old)
    return count


def sentence_texts(article) -> list[str]:
    return [article.text[s.start : s.end] for p in split_passages(article) for s in p.sentences]


def test_a_front_matter_edit_embeds_nothing_and_cites_the_new_metadata(folder: Path, tmp_path: Path) -> None:
    Retriever.from_folder(folder, embedder=CountingEmbedder())
    # A longer date and outlet: every sentence of the file moves, none of their texts changes.
    (folder / "walrus.md").write_text(STORY.replace("date: 2021-08-10", "date: 2021-08-12T09:30")
                                      .replace("outlet: Arctic Wire", "outlet: The Arctic Wire Service")
                                      .replace("example.org/walrus", "example.org/news/walrus-colony"))
    write_wire(folder, [{**WIRE[0], "date": "2020-03-05", "outlet": "Bird News Weekly"}, WIRE[1]])
    embedder = CountingEmbedder()
    edited = Retriever.from_folder(folder, embedder=embedder)
    sync = edited.report.sync
    assert embedder.encoded == 0 and sync.sentences_embedded == 0
    assert (sync.updated, sync.embedded, sync.reused, sync.removed) == (2, 0, 6, 0) and sync.changed
    assert sync.updated_paths == ("walrus.md", "wire.jsonl#1") and sync.changed_paths == ()
    [hit] = edited.search("How many animals did the rangers count?", k=1, method="dense")
    assert (hit.citation.date, hit.citation.outlet, hit.citation.url) == (
        "2021-08-12T09:30:00", "The Arctic Wire Service", "https://example.org/news/walrus-colony")
    assert edited.article(hit.citation.doc_id).text[hit.citation.start : hit.citation.end] == hit.text
    [heron] = edited.search("herons counted lake nests", k=1, method="hybrid")
    assert (heron.citation.path, heron.citation.date, heron.citation.outlet) == (
        "wire.jsonl#1", "2020-03-05", "Bird News Weekly")
    assert_as_built_from_scratch(edited, folder, tmp_path / "scratch")
    again = CountingEmbedder()
    assert Retriever.from_folder(folder, embedder=again).report.sync.reused == 8 and again.encoded == 0


def test_a_paragraph_edit_embeds_only_the_changed_sentences(folder: Path, tmp_path: Path) -> None:
    Retriever.from_folder(folder, embedder=CountingEmbedder())
    before = {a.path: sentence_texts(a) for a in scan_folder(folder).articles}
    envoy = folder / "001_f1fe2993f030a849.txt"
    text = envoy.read_text(encoding="utf-8")
    assert "help formulate a joint" in text
    envoy.write_text(text.replace("help formulate a joint", "help draft a joint"), encoding="utf-8")  # one sentence
    (folder / "walrus.md").write_text(STORY.replace("Rangers counted 212 animals on the northern beach.",
                                                    "Rangers counted 214 animals on the north beach. Two calves were "
                                                    "among them."), encoding="utf-8")
    embedder = CountingEmbedder()
    edited = Retriever.from_folder(folder, embedder=embedder)
    sync = edited.report.sync
    assert embedder.encoded == sync.sentences_embedded == new_sentence_texts(folder, before) == 3
    assert set(sync.changed_paths) == {"001_f1fe2993f030a849.txt", "walrus.md"} and sync.embedded == 2
    assert sync.sentences_kept == len(before["001_f1fe2993f030a849.txt"]) - 1 + len(before["walrus.md"]) - 1
    assert_as_built_from_scratch(edited, folder, tmp_path / "scratch")


def test_paragraphs_moved_removed_and_added_keep_the_vectors_of_every_sentence_still_there(
        folder: Path, tmp_path: Path) -> None:
    Retriever.from_folder(folder, embedder=CountingEmbedder())
    before = {a.path: sentence_texts(a) for a in scan_folder(folder).articles}
    story = folder / "003_9623a98c6a797b2a.txt"
    head, *paragraphs = story.read_text(encoding="utf-8").split("\n\n")
    paragraphs = [paragraphs[-1], *paragraphs[1:-1], "A paragraph written today. It has two sentences."]
    story.write_text("\n\n".join([head, *paragraphs]), encoding="utf-8")
    embedder = CountingEmbedder()
    edited = Retriever.from_folder(folder, embedder=embedder)
    assert 0 < embedder.encoded == new_sentence_texts(folder, before) < len(before[story.name]) // 2
    assert_as_built_from_scratch(edited, folder, tmp_path / "scratch")


def without_digests(index: Path) -> None:
    """Make the live generation look as an older newsqa wrote it: no sentence digests."""
    manifest = json.loads((index / MANIFEST).read_text())
    del manifest["files"][DIGESTS]
    (index / manifest["generation"] / DIGESTS).unlink()
    (index / MANIFEST).write_text(json.dumps(manifest))


def test_an_index_written_before_digests_gets_them_without_embedding(folder: Path) -> None:
    Retriever.from_folder(folder, embedder=CountingEmbedder())
    index = folder / ".qa-index"
    without_digests(index)
    unchanged = CountingEmbedder()
    opened = Retriever.from_folder(folder, embedder=unchanged)
    assert unchanged.encoded == 0 and opened.report.sync.reused == 8 and not opened.report.sync.changed
    assert DIGESTS in json.loads((index / MANIFEST).read_text())["files"]  # added on that open
    (folder / "walrus.md").write_text(STORY.replace("date: 2021-08-10", "date: 2021-08-12"), encoding="utf-8")
    edited = CountingEmbedder()
    assert Retriever.from_folder(folder, embedder=edited).report.sync.updated == 1 and edited.encoded == 0

    # An article edited before its index had digests is embedded whole: its saved text is unknown.
    without_digests(index)
    (folder / "walrus.md").write_text(STORY, encoding="utf-8")
    whole = CountingEmbedder()
    reopened = Retriever.from_folder(folder, embedder=whole)
    assert whole.encoded == len(sentence_texts(reopened.article("walrus"))) and reopened.report.sync.embedded == 1


def test_an_interrupted_partial_re_embed_resumes_without_embedding_again(folder: Path, tmp_path: Path,
                                                                         monkeypatch) -> None:
    import qa.index as index_module

    Retriever.from_folder(folder, embedder=CountingEmbedder())
    (folder / "walrus.md").write_text(STORY.replace("for the first time in forty years", "after forty years"),
                                      encoding="utf-8")
    real_write = index_module.write_atomically

    def crash_before_manifest(path: Path, data: bytes) -> None:
        if path.name == MANIFEST:
            raise KeyboardInterrupt
        real_write(path, data)

    monkeypatch.setattr(index_module, "write_atomically", crash_before_manifest)
    crashed = CountingEmbedder()
    with pytest.raises(KeyboardInterrupt):
        Retriever.from_folder(folder, embedder=crashed)
    assert crashed.encoded == 1
    monkeypatch.setattr(index_module, "write_atomically", real_write)
    embedder = CountingEmbedder()
    resumed = Retriever.from_folder(folder, embedder=embedder)
    assert embedder.encoded == 0 and resumed.report.sync.resumed == 1
    assert_as_built_from_scratch(resumed, folder, tmp_path / "scratch")
