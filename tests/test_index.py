"""The persisted index: reuse, incremental updates, invalidation and repair."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import numpy as np
import pytest

from qa import Retriever
from qa.index import MANIFEST, PARTIAL, PASSAGES, VECTORS

from .conftest import SEEDS
from .fakes import CountingEmbedder


def open_with(corpus: Path, embedder: CountingEmbedder, **settings) -> Retriever:
    return Retriever.from_folder(corpus, embedder=embedder, **settings)


def sentences(retriever: Retriever, doc_id: str | None = None) -> int:
    """How many sentence vectors the index holds (for one article, or all)."""
    return sum(len(p.sentences) for p in retriever._passages if doc_id in (None, p.doc_id))


def test_reopening_an_unchanged_folder_embeds_nothing(corpus: Path) -> None:
    first = CountingEmbedder()
    built = open_with(corpus, first)
    assert first.encoded == sentences(built) > len(built) > 0
    again = CountingEmbedder()
    reopened = open_with(corpus, again)
    assert again.encoded == 0
    assert reopened.report.sync.reused == 5
    assert [h.citation for h in reopened.search("envoy Qatar", method="bm25")] == \
        [h.citation for h in built.search("envoy Qatar", method="bm25")]


def test_changing_one_article_embeds_only_its_new_sentences(corpus: Path) -> None:
    open_with(corpus, CountingEmbedder())
    changed = corpus / "001_f1fe2993f030a849.txt"
    changed.write_text(changed.read_text() + "\n\nA new closing paragraph about the envoy in Doha.\n")
    embedder = CountingEmbedder()
    retriever = open_with(corpus, embedder)
    sync = retriever.report.sync
    assert embedder.encoded == sync.sentences_embedded == 1  # the added sentence; the others keep their vectors
    assert sync.sentences_kept == sentences(retriever, "001_f1fe2993f030a849") - 1
    assert (sync.embedded, sync.reused, sync.updated) == (1, 4, 0)
    assert sync.changed_paths == ("001_f1fe2993f030a849.txt",)


def test_adding_and_deleting_articles(corpus: Path) -> None:
    open_with(corpus, CountingEmbedder())
    (corpus / "002_8157d92ee579a465.txt").unlink()
    (corpus / "new.md").write_text("# Envoy returns to Washington\n\nThe envoy flew home on Sunday night.\n")
    embedder = CountingEmbedder()
    retriever = open_with(corpus, embedder)
    assert retriever.report.sync.removed == 1 and retriever.report.sync.embedded == 1
    assert retriever.report.sync.removed_paths == ("002_8157d92ee579a465.txt",)
    assert retriever.report.sync.changed_paths == ("new.md",)
    assert embedder.encoded == sentences(retriever, "new")
    assert {a.doc_id for a in retriever.articles} == {
        "000_3508494580fc35c5", "001_f1fe2993f030a849", "003_9623a98c6a797b2a", "004_52d8e2bfa1f724e8", "new"}
    assert all(p.doc_id != "002_8157d92ee579a465" for p in retriever._passages)
    assert retriever.search("envoy flew home Sunday", k=1, method="bm25")[0].citation.doc_id == "new"
    assert open_with(corpus, CountingEmbedder()).report.sync.embedded == 0


def generation(corpus: Path) -> Path:
    folder = corpus / ".qa-index"
    return folder / json.loads((folder / MANIFEST).read_text())["generation"]


def test_index_files_are_plain_and_consistent(corpus: Path) -> None:
    retriever = open_with(corpus, CountingEmbedder())
    folder = corpus / ".qa-index"
    manifest = json.loads((folder / MANIFEST).read_text())
    assert manifest["model"] == "fake-model" and manifest["splitter"]["max_words"] == 180
    # readable by others who share the folder, like the index's other files (mkstemp's own mode is 0600)
    assert {path.name: path.stat().st_mode & 0o777 for path in folder.iterdir() if path.is_file()
            and path.suffix in (".json", ".npz")} == {MANIFEST: 0o644, "minhash.npz": 0o644, "copies.json": 0o644}
    assert {entry["path"] for entry in manifest["articles"]} == {p.name for p in SEEDS.glob("*.txt")}
    vectors = np.load(generation(corpus) / VECTORS, allow_pickle=False)
    table = np.load(generation(corpus) / PASSAGES, allow_pickle=False)
    assert vectors.dtype == np.float16 and vectors.shape[0] == sentences(retriever)
    assert len(table) == len(retriever)
    number, ordinal, start, end, _ = table[0]
    article = retriever.article(manifest["articles"][number]["doc_id"])
    assert article.text[start:end] == retriever._passages[0].text and ordinal == 0
    assert not (folder / PARTIAL).exists()  # a finished run leaves no segments


@pytest.mark.parametrize("damage", ["truncate_vectors", "garbage_manifest", "drop_passages", "edit_passages",
                                    "odd_manifest_files", "odd_manifest_articles", "manifest_is_a_folder"])
def test_damaged_index_is_rebuilt_with_a_warning(corpus: Path, damage: str, caplog) -> None:
    open_with(corpus, CountingEmbedder())
    folder, files = corpus / ".qa-index", generation(corpus)
    if damage == "truncate_vectors":
        data = (files / VECTORS).read_bytes()
        (files / VECTORS).write_bytes(data[: len(data) // 2])
    elif damage == "garbage_manifest":
        (folder / MANIFEST).write_bytes(b"\x00\xffnot json")
    elif damage == "manifest_is_a_folder":
        (folder / MANIFEST).unlink()
        (folder / MANIFEST).mkdir()
        (folder / MANIFEST / "stray").write_text("x")
    elif damage.startswith("odd_manifest"):  # valid JSON, wrong shapes: edited by hand or by another tool
        manifest = json.loads((folder / MANIFEST).read_text())
        if damage == "odd_manifest_files":
            manifest["files"] = "x"
        else:
            manifest["articles"] = [{} for _ in manifest["articles"]]
        (folder / MANIFEST).write_text(json.dumps(manifest))
    elif damage == "drop_passages":
        (files / PASSAGES).unlink()
    else:
        data = bytearray((files / PASSAGES).read_bytes())
        data[-3] ^= 0x55
        (files / PASSAGES).write_bytes(bytes(data))
    embedder = CountingEmbedder()
    with caplog.at_level(logging.WARNING):
        retriever = open_with(corpus, embedder)
    assert "rebuilding the index" in caplog.text
    assert embedder.encoded == sentences(retriever) > 0
    assert retriever.report.sync.rebuilt_because
    assert open_with(corpus, CountingEmbedder()).report.sync.embedded == 0  # repaired on disk


def test_index_of_another_model_is_rebuilt(corpus: Path, caplog) -> None:
    open_with(corpus, CountingEmbedder("model-a"))
    other = CountingEmbedder("model-b")
    with caplog.at_level(logging.WARNING):
        open_with(corpus, other)
    assert other.encoded > 0 and "another model" in caplog.text


def dense_ranking(retriever: Retriever, query: str) -> list[tuple]:
    return [(h.citation.path, h.citation.start, h.citation.end, round(h.score, 5))
            for h in retriever.search(query, k=10, method="dense")]


def test_another_splitter_splits_again_and_keeps_the_sentence_vectors(corpus: Path, tmp_path: Path,
                                                                      monkeypatch, caplog) -> None:
    import qa.index as index_module

    first = open_with(corpus, CountingEmbedder())
    monkeypatch.setattr(index_module, "SPLITTER_VERSION", index_module.SPLITTER_VERSION + 1)
    embedder = CountingEmbedder()
    with caplog.at_level(logging.WARNING):
        again = open_with(corpus, embedder)
    assert embedder.encoded == 0 and again.report.sync.resplit == 5 and "splitting the articles" in caplog.text
    version = index_module.SPLITTER_VERSION
    assert f"it was split by an older release of the page cleaner and splitter (version {version - 1}; this one is " \
           f"{version})" in caplog.text
    assert dense_ranking(again, "envoy Qatar talks") == dense_ranking(first, "envoy Qatar talks")
    assert open_with(corpus, CountingEmbedder()).report.sync.reused == 5  # written under the new splitter

    # Passages cut shorter: the same sentences, regrouped, with the vectors a fresh build gives them.
    resized = CountingEmbedder()
    regrouped = open_with(corpus, resized, max_words=120)
    assert resized.encoded == 0 and regrouped.report.sync.resplit == 5 and len(regrouped) > len(first)
    fresh = open_with(corpus, CountingEmbedder(), max_words=120, index_dir=tmp_path / "fresh")
    assert dense_ranking(regrouped, "envoy Qatar talks") == dense_ranking(fresh, "envoy Qatar talks")

    # An article changed meanwhile has only its new sentence embedded, the others split again.
    changed = corpus / "001_f1fe2993f030a849.txt"
    changed.write_text(changed.read_text() + "\n\nA new closing paragraph about the envoy in Doha.\n")
    monkeypatch.setattr(index_module, "SPLITTER_VERSION", index_module.SPLITTER_VERSION + 1)
    partly = CountingEmbedder()
    updated = open_with(corpus, partly, max_words=120)
    assert updated.report.sync.resplit == 4 and updated.report.sync.embedded == 1
    assert partly.encoded == 1 and updated.report.sync.rebuilt_because is None
    fresh = open_with(corpus, CountingEmbedder(), max_words=120, index_dir=tmp_path / "fresh-edited")
    assert dense_ranking(updated, "envoy Doha closing") == dense_ranking(fresh, "envoy Doha closing")


def test_interrupted_write_keeps_the_previous_index_and_what_was_embedded(corpus: Path, monkeypatch) -> None:
    before = open_with(corpus, CountingEmbedder())
    (corpus / "000_3508494580fc35c5.txt").write_text("A brand new headline for the story\n\nNew body text here.")
    import qa.index as index_module

    real_write = index_module.write_atomically

    def crash_before_manifest(path: Path, data: bytes) -> None:
        if path.name == MANIFEST:
            raise KeyboardInterrupt
        real_write(path, data)

    monkeypatch.setattr(index_module, "write_atomically", crash_before_manifest)
    with pytest.raises(KeyboardInterrupt):
        open_with(corpus, CountingEmbedder())
    monkeypatch.setattr(index_module, "write_atomically", real_write)
    folder = corpus / ".qa-index"
    assert not [p for p in folder.iterdir() if p.name.startswith(".")]  # no temp files left
    assert [p.name for p in folder.glob("gen-*")] == [generation(corpus).name]  # the half-written one is gone
    embedder = CountingEmbedder()
    retriever = open_with(corpus, embedder)
    assert embedder.encoded == 0  # the changed article's vectors were committed before the crash
    assert retriever.report.sync.resumed == 1 and retriever.report.sync.reused == 4
    assert len(retriever) != len(before) or retriever.search("brand new headline", k=1, method="bm25")
    assert retriever.search("brand new headline", k=1, method="bm25")[0].citation.doc_id == "000_3508494580fc35c5"


def test_a_corpus_without_searchable_words_is_indexed_and_searched(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("The\n\nAnd then it was what it was, and so it is.\n")
    built = open_with(tmp_path, CountingEmbedder())
    assert [len(built.search("what was it", method=m)) for m in ("bm25", "dense", "hybrid")] == [1, 1, 1]
    again = CountingEmbedder()
    reopened = open_with(tmp_path, again)
    assert again.encoded == 0 and reopened.report.sync.reused == 1
    assert reopened.search("was it", method="bm25")[0].score == 0.0


def test_an_index_written_before_fetch_dates_were_marked_reopens_without_embedding(tmp_path: Path,
                                                                                     monkeypatch) -> None:
    export = tmp_path / "news" / "export.jsonl"
    export.parent.mkdir()
    export.write_text(json.dumps({"id": "a", "outlet": "The Week", "retrieved": "2023-01-28",
                                  "text": "The envoy arrived in Doha on Monday for talks."}) + "\n")
    with monkeypatch.context() as before:  # as written before: the fetch date unmarked, like a publication date
        before.setattr("qa.exports.FETCHED", "")
        built = open_with(export.parent, CountingEmbedder())
        assert built.search("envoy Doha", k=1, method="bm25")[0].citation.byline == "The Week · 2023-01-28"
    again = CountingEmbedder()
    reopened = open_with(export.parent, again)
    assert again.encoded == 0 and reopened.report.sync.reused == 1 and not reopened.report.sync.changed
    [hit] = reopened.search("envoy Doha", k=1, method="bm25")
    assert (hit.citation.date, hit.citation.date_kind) == ("2023-01-28", "fetched")
    assert hit.citation.byline == "The Week · fetched 2023-01-28"
