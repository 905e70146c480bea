"""The storage-backend interface, on the embedded store with a fake model."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from qa.articles import scan_folder
from qa.settings import Settings
from qa.stores import PassageStore, open_store
from qa.stores.embedded import top_k
from tests.fakes import CountingEmbedder

ROOT = Path(__file__).resolve().parents[1]


def synced_store(tmp_path: Path) -> tuple[PassageStore, CountingEmbedder]:
    embedder = CountingEmbedder()
    settings = Settings(corpus=ROOT / "seeds", index_dir=tmp_path / "index")
    store = open_store(settings, embedder.source)
    store.sync(scan_folder(settings.corpus).articles, embedder)
    return store, embedder


def test_the_embedded_store_implements_the_interface(tmp_path: Path) -> None:
    store, _ = synced_store(tmp_path)
    assert isinstance(store, PassageStore)
    assert len(store.passages) > 10
    assert store.sentence_vectors(0).shape == (len(store.passages[0].sentences), 64)


def test_candidate_search_agrees_with_full_scores(tmp_path: Path) -> None:
    store, embedder = synced_store(tmp_path)
    questions = ["Who freed Baradar from prison?", "Doha talks with the Taliban"]
    vectors = embedder.encode(questions)
    dense, lexical = store.dense_scores(vectors), store.lexical_scores(questions)
    for i, found in enumerate(store.dense_search(vectors, 5)):
        assert list(found.rows) == list(np.argsort(-dense[i], kind="stable")[:5])
        assert np.allclose(found.scores, dense[i, found.rows])
    for i, found in enumerate(store.lexical_search(questions, 5)):
        assert np.allclose(found.scores, np.sort(lexical[i])[::-1][:5])
    rows = np.array([3, 1, 7])
    assert np.allclose(store.dense_scores(vectors, rows), dense[:, rows])
    assert np.allclose(store.lexical_scores(questions, rows), lexical[:, rows])


def test_allowed_rows_restrict_candidates(tmp_path: Path) -> None:
    store, embedder = synced_store(tmp_path)
    allowed = np.zeros(len(store.passages), dtype=bool)
    allowed[[2, 5]] = True
    found = store.dense_search(embedder.encode(["the envoy"]), 5, allowed)[0]
    assert sorted(found.rows) == [2, 5]


def test_top_k_orders_best_first_ties_by_row_and_drops_zeros_when_asked() -> None:
    scores = np.array([0.0, 2.0, 1.0, 2.0], dtype=np.float32)
    assert list(top_k(scores, 3).rows) == [1, 3, 2]
    assert list(top_k(scores, 10, positive=True).rows) == [1, 3, 2]
    assert len(top_k(scores, 0).rows) == 0
