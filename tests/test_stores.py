"""The storage-backend interface, on the embedded store with a fake model."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

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


def test_bm25_is_reopened_from_its_files_without_rebuilding(tmp_path: Path, monkeypatch) -> None:
    store, _ = synced_store(tmp_path)
    questions = ["Who freed Baradar from prison?", "Doha talks with the Taliban"]
    before = store.lexical_scores(questions)

    def no_rebuild(*args, **kwargs):
        raise AssertionError("BM25 was rebuilt")

    import bm25s

    monkeypatch.setattr(bm25s.BM25, "index", no_rebuild)
    reopened, embedder = synced_store(tmp_path)
    assert embedder.encoded == 0
    assert isinstance(reopened.lexical._bm25.scores["data"], np.memmap)  # mapped, not read into memory
    assert np.array_equal(reopened.lexical_scores(questions), before)
    assert reopened.idf("doha") == store.idf("doha") < reopened.idf("neverseen")


def test_float16_vectors_rank_as_float32_ones(seed_retriever) -> None:
    """The stored vectors are float16: on the seed eval questions the dense ranking matches float32's."""
    import json

    store = seed_retriever.store
    texts = [seed_retriever.article(p.doc_id).text[s.start : s.end] for p in store.passages for s in p.sentences]
    exact = seed_retriever.embedder.encode(texts)
    starts = np.cumsum([0] + [len(p.sentences) for p in store.passages])[:-1]
    lines = (ROOT / "eval" / "questions.jsonl").read_text().splitlines()
    questions = [json.loads(line)["question"] for line in lines]
    vectors = seed_retriever.embedder.encode(questions)
    stored = store.dense_scores(vectors)
    full = np.maximum.reduceat(vectors @ exact.T, starts, axis=1)
    assert np.abs(stored - full).max() < 2e-3
    same_top = np.mean(stored.argmax(axis=1) == full.argmax(axis=1))
    overlap = np.mean([len(set(np.argsort(-a)[:10]) & set(np.argsort(-b)[:10])) / 10 for a, b in zip(stored, full)])
    assert same_top >= 0.98 and overlap >= 0.97


def test_at_scale_search_fuses_candidates_from_the_approximate_index(tmp_path: Path, monkeypatch) -> None:
    """With the size thresholds lowered, the seeds take the large-corpus path: a graph index proposes
    sentences, their passages are scored exactly from vectors read off the file, and the hybrid fuses the two
    sides' candidate union."""
    import qa.ann
    import qa.retriever
    import qa.stores.embedded
    from qa import Retriever
    from qa.vectorfile import VectorFile

    questions = ["Who freed Baradar from prison?", "Doha talks with the Taliban", "envoy Khalilzad resigned"]
    exact = Retriever.from_folder(ROOT / "seeds", embedder=CountingEmbedder(), index_dir=tmp_path / "exact")
    monkeypatch.setattr(qa.ann, "ANN_MIN_SENTENCES", 0)
    monkeypatch.setattr(qa.retriever, "EXACT_PASSAGES", 0)
    monkeypatch.setattr(qa.stores.embedded, "RAM_VECTORS", 0)
    scaled = Retriever.from_folder(ROOT / "seeds", embedder=CountingEmbedder(), index_dir=tmp_path / "scaled")
    assert scaled.store._approximate is not None and isinstance(scaled.store._vectors, VectorFile)
    for method in ("hybrid", "dense", "bm25", "rrf"):
        for question in questions:
            want = exact.search(question, k=3, method=method)
            got = scaled.search(question, k=3, method=method)
            assert got[0].citation == want[0].citation, (method, question)
            if method in ("dense", "bm25"):
                assert abs(got[0].score - want[0].score) < 1e-3


def test_the_approximate_index_finds_the_sentences_nearest_a_question(tmp_path: Path) -> None:
    """The graph index proposes, for a question, sentences that include the ones nearest to it (here: stored
    vectors, slightly moved, must find themselves), and reopens memory-mapped from its file."""
    from qa.ann import ApproximateIndex, build

    rng = np.random.default_rng(3)
    centres = rng.standard_normal((64, 384)).astype(np.float32)  # clustered, as sentence vectors are
    vectors = centres[rng.integers(0, 64, 20_000)] + 0.6 * rng.standard_normal((20_000, 384))
    vectors = (vectors / np.linalg.norm(vectors, axis=1, keepdims=True)).astype(np.float16)
    build(vectors, tmp_path / "dense.usearch")
    wanted = rng.choice(len(vectors), 40, replace=False)
    questions = vectors[wanted].astype(np.float32) + 0.05 * rng.standard_normal((40, 384)).astype(np.float32)
    questions /= np.linalg.norm(questions, axis=1, keepdims=True)
    found = ApproximateIndex(tmp_path / "dense.usearch").search(questions, 256)
    assert found.shape == (40, 256) and found.max() < len(vectors)
    assert np.mean([w in row for w, row in zip(wanted, found)]) >= 0.95


def test_a_large_index_without_its_approximate_index_gets_one_when_opened(tmp_path: Path, monkeypatch) -> None:
    """An index written before the approximate index was a graph (or whose file was removed) builds it once."""
    import qa.ann
    import qa.stores.embedded
    from qa import Retriever

    first = Retriever.from_folder(ROOT / "seeds", embedder=CountingEmbedder(), index_dir=tmp_path / "index")
    assert first.store._approximate is None and not list((tmp_path / "index").glob("gen-*/dense.usearch"))
    monkeypatch.setattr(qa.ann, "ANN_MIN_SENTENCES", 0)  # now it counts as large
    monkeypatch.setattr(qa.stores.embedded, "ANN_MIN_SENTENCES", 0)
    again = Retriever.from_folder(ROOT / "seeds", embedder=CountingEmbedder(), index_dir=tmp_path / "index")
    assert again.store._approximate is not None and again.report.sync.embedded == 0
    [path] = (tmp_path / "index").glob("gen-*/dense.usearch")
    built = path.stat().st_mtime_ns
    third = Retriever.from_folder(ROOT / "seeds", embedder=CountingEmbedder(), index_dir=tmp_path / "index")
    assert third.store._approximate is not None and path.stat().st_mtime_ns == built  # built once


def test_a_vector_file_reads_the_rows_a_memory_map_would(tmp_path: Path) -> None:
    """Slices and scattered ids (unordered, repeated, in runs) come back as numpy indexing gives them."""
    from qa.vectorfile import VectorFile

    matrix = np.random.default_rng(5).standard_normal((1000, 24)).astype(np.float16)
    np.save(tmp_path / "vectors.npy", matrix)
    rows = VectorFile(tmp_path / "vectors.npy")
    assert rows.shape == (1000, 24) and len(rows) == 1000 and rows.dtype == np.float16
    assert np.array_equal(rows[10:20], matrix[10:20]) and np.array_equal(rows[990:2000], matrix[990:])
    assert rows[5:5].shape == (0, 24)
    ids = np.array([7, 3, 4, 5, 999, 3, 0, 500, 501, 502, 7])
    assert np.array_equal(rows[ids], matrix[ids])
    assert rows[np.array([], dtype=np.int64)].shape == (0, 24)
    with pytest.raises(IndexError):
        rows[np.array([1000])]
