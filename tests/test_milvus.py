"""The Milvus store, against a real milvus-lite server started for the session, compared with the embedded one."""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from qa import Retriever
from qa.cli import main
from qa.embedding import Embedder
from qa.errors import StoreError
from qa.parts import index_part
from qa.settings import Settings
from qa.stores.milvus import MilvusStore
from qa.storeurl import MilvusAddress, Part

from .fakes import CountingEmbedder

QUESTIONS = ["Who freed Baradar from prison?", "Which countries did the envoy visit?", "Doha talks with the Taliban",
             "Rawalpindi army headquarters", "Who is the news editor of Antiwar.com?"]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="session")
def milvus(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A milvus-lite server on a free local port for the session; yields its address without a collection."""
    port = free_port()
    command = shutil.which("milvus-lite", path=str(Path(sys.executable).parent)) or shutil.which("milvus-lite")
    assert command, "milvus-lite is not installed: pip install -e '.[milvus]'"
    data = tmp_path_factory.mktemp("milvus-data")
    log = open(data.parent / "milvus-lite.log", "wb")  # noqa: SIM115 - closed at teardown
    server = subprocess.Popen([command, "server", "--data-dir", str(data), "--host", "127.0.0.1",
                               "--port", str(port)], stdout=log, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 60
    while True:
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                break
        assert server.poll() is None, f"milvus-lite server exited: see {log.name}"
        assert time.monotonic() < deadline, "milvus-lite server did not start within 60 s"
        time.sleep(0.2)
    yield f"milvus://127.0.0.1:{port}"
    server.terminate()
    try:
        server.wait(timeout=10)
    except subprocess.TimeoutExpired:
        server.kill()
    log.close()




def collection_url(milvus: str, request: pytest.FixtureRequest) -> str:
    return f"{milvus}/t_{abs(hash(request.node.name)) % 10**9}"


def open_both(corpus: Path, url: str, embedder) -> tuple[Retriever, Retriever]:
    embedded = Retriever.from_folder(corpus, embedder=embedder, index_dir=corpus.parent / "embedded-index")
    return embedded, Retriever.from_folder(corpus, embedder=embedder, store=url)


def sentence_count(retriever: Retriever, doc_id: str | None = None) -> int:
    return sum(len(p.sentences) for p in retriever.store.passages if doc_id in (None, p.doc_id))


def ranking(retriever: Retriever, question: str, method: str, k: int = 10) -> list[tuple[str, int]]:
    return [(h.citation.path, h.citation.start) for h in retriever.search(question, k, method)]


# --- indexing and incremental updates ---------------------------------------------------------------------


def test_indexing_then_reopening_embeds_nothing_twice(milvus: str, corpus: Path, request) -> None:
    url = collection_url(milvus, request)
    first = CountingEmbedder()
    reported: list[tuple[int, int]] = []
    built = Retriever.from_folder(corpus, embedder=first, store=url, progress=lambda *done: reported.append(done))
    assert first.encoded == sentence_count(built) > len(built) > 0
    assert reported[-1] == (len(built), len(built))  # counted in passages, as the embedded store counts
    assert all(done <= total == len(built) for done, total in reported)
    assert built.store.count() == sentence_count(built)
    again = CountingEmbedder()
    reopened = Retriever.from_folder(corpus, embedder=again, store=url)
    assert again.encoded == 0 and reopened.report.sync.reused == 5
    assert not (corpus / ".qa-index").exists()  # nothing written beside the articles


def test_changed_added_and_deleted_articles(milvus: str, corpus: Path, request) -> None:
    url = collection_url(milvus, request)
    Retriever.from_folder(corpus, embedder=CountingEmbedder(), store=url)
    changed = corpus / "001_f1fe2993f030a849.txt"
    changed.write_text(changed.read_text() + "\n\nA new closing paragraph about the envoy in Doha.\n")
    (corpus / "002_8157d92ee579a465.txt").unlink()
    (corpus / "new.md").write_text("# Envoy returns to Washington\n\nThe envoy flew home on Sunday night.\n")
    embedder = CountingEmbedder()
    retriever = Retriever.from_folder(corpus, embedder=embedder, store=url)
    sync = retriever.report.sync
    assert (sync.embedded, sync.removed, sync.reused) == (2, 1, 3)
    assert set(sync.changed_paths) == {"001_f1fe2993f030a849.txt", "new.md"}
    assert sync.removed_paths == ("002_8157d92ee579a465.txt",)
    # the changed article's added sentence only: its other sentences keep their saved vectors
    assert embedder.encoded == sync.sentences_embedded == 1 + sentence_count(retriever, "new")
    assert sync.sentences_kept == sentence_count(retriever, "001_f1fe2993f030a849") - 1
    assert retriever.store.count() == sentence_count(retriever)  # the old version's rows are gone
    assert retriever.search("envoy flew home Sunday", k=1, method="bm25")[0].citation.doc_id == "new"
    assert all(h.citation.doc_id != "002_8157d92ee579a465" for h in retriever.search("Taliban", 50, "dense"))


FRONT = "---\ndate: 2021-08-10\noutlet: Arctic Wire\n---\n\n"
WALRUS = ("# Walrus colony returns\n\nA walrus colony returned to the fjord on Tuesday. Rangers counted 212 animals "
          "on the northern beach.\n\nThe council closed the beach to boats until September.\n")


def test_edits_embed_only_changed_sentences_and_search_as_a_fresh_collection(milvus: str, corpus: Path,
                                                                            request) -> None:
    url = collection_url(milvus, request)
    (corpus / "walrus.md").write_text(FRONT + WALRUS)
    Retriever.from_folder(corpus, embedder=CountingEmbedder(), store=url)
    # the front matter longer (every sentence moves), and one sentence of another article edited
    (corpus / "walrus.md").write_text(FRONT.replace("2021-08-10", "2021-08-12T09:30").replace(
        "Arctic Wire", "The Arctic Wire Service") + WALRUS)
    envoy = corpus / "001_f1fe2993f030a849.txt"
    envoy.write_text(envoy.read_text().replace("help formulate a joint", "help draft a joint"))
    embedder = CountingEmbedder()
    edited = Retriever.from_folder(corpus, embedder=embedder, store=url)
    sync = edited.report.sync
    assert embedder.encoded == sync.sentences_embedded == 1
    assert (sync.updated_paths, sync.changed_paths, sync.reused) == (("walrus.md",), ("001_f1fe2993f030a849.txt",), 4)
    assert edited.store.count() == sentence_count(edited)  # the old versions' rows are gone
    [hit] = edited.search("How many animals did the rangers count?", k=1, method="dense")
    assert (hit.citation.path, hit.citation.date, hit.citation.outlet) == (
        "walrus.md", "2021-08-12T09:30:00", "The Arctic Wire Service")
    fresh = Retriever.from_folder(corpus, embedder=CountingEmbedder(), store=f"{url}_fresh")
    for question in [*QUESTIONS, "walrus rangers beach", "help draft a joint international response"]:
        assert ranking(edited, question, "dense") == ranking(fresh, question, "dense")
    # Every sentence row holds the vector a fresh collection gives it. (BM25 and so the hybrid may differ a little:
    # Milvus counts the deleted rows of the old versions in its statistics until it compacts the collection.)
    for row in range(len(fresh.store.passages)):
        assert np.array_equal(edited.store.sentence_vectors(row), fresh.store.sentence_vectors(row))


def test_rows_written_before_ids_carried_digests_are_embedded_again(milvus: str, corpus: Path, request,
                                                                    monkeypatch) -> None:
    import qa.stores.milvus as milvus_module

    url = collection_url(milvus, request)
    real = milvus_module._sentence_rows

    def old_ids(*args):  # ids as an older newsqa wrote them: ARTICLE:START:NUMBER
        rows, texts = real(*args)
        for row in rows:
            row["id"] = row["id"].rsplit(":", 1)[0]
        return rows, texts

    monkeypatch.setattr(milvus_module, "_sentence_rows", old_ids)
    built = Retriever.from_folder(corpus, embedder=CountingEmbedder(), store=url)
    assert built.store.sentence_vectors(2).shape == (len(built.store.passages[2].sentences), 64)
    monkeypatch.setattr(milvus_module, "_sentence_rows", real)
    envoy = corpus / "001_f1fe2993f030a849.txt"
    envoy.write_text(envoy.read_text().replace("help formulate a joint", "help draft a joint"))
    embedder = CountingEmbedder()
    edited = Retriever.from_folder(corpus, embedder=embedder, store=url)
    assert embedder.encoded == sentence_count(edited, "001_f1fe2993f030a849") and edited.report.sync.embedded == 1
    envoy.write_text(envoy.read_text().replace("help draft a joint", "help formulate a joint"))
    again = CountingEmbedder()
    assert Retriever.from_folder(corpus, embedder=again, store=url).report.sync.embedded == 1 and again.encoded == 1


def test_an_interrupted_indexing_run_resumes_without_embedding_twice(milvus: str, corpus: Path, request) -> None:
    url = collection_url(milvus, request)
    for number in range(12):  # enough articles for several insert batches
        (corpus / f"extra_{number:02}.txt").write_text(
            f"Extra story {number}\n\n" + " ".join(f"Sentence {i} of story {number} about talks." for i in range(300)))

    class Crashing(CountingEmbedder):
        def encode(self, texts, batch_size=32, progress=None):
            if self.encoded > 1000:
                raise KeyboardInterrupt
            return super().encode(texts, batch_size, progress)

    crashing = Crashing()
    with pytest.raises(KeyboardInterrupt):
        Retriever.from_folder(corpus, embedder=crashing, store=url)
    resumed = CountingEmbedder()
    retriever = Retriever.from_folder(corpus, embedder=resumed, store=url)
    total = sentence_count(retriever)
    assert 0 < crashing.encoded < total and resumed.encoded < total
    assert crashing.encoded + resumed.encoded - total < 2000  # at most the batch being written is redone
    assert retriever.store.count() == total


def test_parts_split_the_indexing_between_machines(milvus: str, corpus: Path, request) -> None:
    settings = Settings(corpus=corpus, store=collection_url(milvus, request))
    parts = [Part(1, 2), Part(2, 2)]
    embedders = [CountingEmbedder(), CountingEmbedder()]
    reports = [index_part(settings, part, embedder=embedder) for part, embedder in zip(parts, embedders)]
    assert sum(r.articles for r in reports) == 5 and all(r.total == 5 for r in reports)
    assert all(r.sync.embedded == r.articles for r in reports)
    searcher = CountingEmbedder()
    retriever = Retriever.from_folder(corpus, embedder=searcher, store=settings.store)
    assert searcher.encoded == 0 and retriever.store.count() == sentence_count(retriever)
    assert sum(e.encoded for e in embedders) == sentence_count(retriever)
    assert index_part(settings, parts[0], embedder=CountingEmbedder()).sync.embedded == 0


def test_part_notation_and_hashing() -> None:
    assert Part.parse("2/4") == Part(2, 4)
    for bad in ("0/3", "4/3", "2", "a/b", ""):
        with pytest.raises(Exception, match="--part"):
            Part.parse(bad)
    paths = [f"{n:03}.txt" for n in range(300)]
    owners = [[p for p in paths if Part(i, 3).holds(p)] for i in (1, 2, 3)]
    assert sorted(sum(owners, [])) == paths and all(60 < len(o) < 140 for o in owners)


# --- search: the same results as the embedded store --------------------------------------------------------


def test_dense_and_hybrid_rankings_match_the_embedded_store(milvus: str, corpus: Path, request) -> None:
    embedded, remote = open_both(corpus, collection_url(milvus, request), CountingEmbedder())
    for question in QUESTIONS:
        assert ranking(remote, question, "dense") == ranking(embedded, question, "dense")
        e = embedded.search(question, 10, "dense")
        # The embedded store keeps float16 vectors, Milvus float32: cosines agree to float16's precision.
        assert np.allclose([h.score for h in remote.search(question, 10, "dense")], [h.score for h in e], atol=2e-3)
        assert ranking(remote, question, "hybrid", 3) == ranking(embedded, question, "hybrid", 3)


def test_bm25_through_milvus_ranks_like_the_embedded_bm25(milvus: str, corpus: Path, request) -> None:
    """Milvus counts document frequencies over sentence rows (each passage once per sentence), so its scores
    differ from bm25s's, but the terms are the same and the best passages are too."""
    embedded, remote = open_both(corpus, collection_url(milvus, request), CountingEmbedder())
    for question in QUESTIONS:
        mine, theirs = ranking(remote, question, "bm25", 5), ranking(embedded, question, "bm25", 5)
        assert mine[0] == theirs[0] and len(set(mine) & set(theirs)) >= 4
    assert remote.search("zzzz qqqq", 5, "bm25")[0].score == 0.0  # no term known: nothing scores



def test_a_large_collection_fuses_candidates_like_the_embedded_store(milvus: str, corpus: Path, request,
                                                                     monkeypatch) -> None:
    """Beyond a few thousand passages a Milvus store is never asked for every passage's score: each side
    proposes candidates, standardised with a sample's statistics (here the sample is every passage), so
    the hybrid ranks as the embedded store's exact scores do."""
    import qa.retriever

    embedded, remote = open_both(corpus, collection_url(milvus, request), CountingEmbedder())
    monkeypatch.setattr(qa.retriever, "SERVER_EXACT_PASSAGES", 0)
    asked = []
    real = remote.store._scores
    monkeypatch.setattr(remote.store, "_scores", lambda queries, rows, *a, **kw: (
        asked.append(rows is None), real(queries, rows, *a, **kw))[1])
    for question in QUESTIONS:
        assert ranking(remote, question, "hybrid", 3) == ranking(embedded, question, "hybrid", 3)
        assert ranking(remote, question, "dense", 5) == ranking(embedded, question, "dense", 5)
    assert asked and not any(asked)  # every score asked for was of given rows

def test_candidates_exact_scores_and_filters(milvus: str, corpus: Path, request) -> None:
    embedder = CountingEmbedder()
    embedded, remote = open_both(corpus, collection_url(milvus, request), embedder)
    vectors = embedder.encode(QUESTIONS[:2])
    rows = np.array([5, 0, 9])
    assert np.allclose(remote.store.dense_scores(vectors, rows), embedded.store.dense_scores(vectors, rows), atol=2e-3)
    found = remote.store.dense_search(vectors, 4)
    assert [list(f.rows) for f in found] == [list(f.rows) for f in embedded.store.dense_search(vectors, 4)]
    allowed = np.array([p.doc_id == "003_9623a98c6a797b2a" for p in remote.store.passages])
    dense = remote.store.dense_search(vectors, 50, allowed)
    lexical = remote.store.lexical_search(QUESTIONS, 50, allowed)
    assert all(len(c.rows) == allowed.sum() for c in dense) and any(len(c.rows) for c in lexical)
    assert all(allowed[c.rows].all() for c in dense + lexical)
    assert len(remote.store.hybrid_search(vectors, QUESTIONS[:2], 5)[0].rows) == 5
    first = remote.store.passages[3]
    assert remote.store.sentence_vectors(3).shape == (len(first.sentences), embedder.dimension)
    assert np.allclose(remote.store.sentence_vectors(3), embedded.store.sentence_vectors(3), atol=1e-6)
    assert remote.idf("taliban") == pytest.approx(embedded.idf("taliban"))


@pytest.mark.slow
def test_answers_and_citations_match_the_embedded_store(milvus: str, corpus: Path, request,
                                                        embedder: Embedder) -> None:
    embedded, remote = open_both(corpus, collection_url(milvus, request), embedder)
    for question in ("Who freed Baradar from prison?", "Which countries did the envoy visit?"):
        assert ranking(remote, question, "hybrid", 5) == ranking(embedded, question, "hybrid", 5)
        mine, theirs = remote.ask(question), embedded.ask(question)
        assert mine.text == theirs.text and not mine.abstained
        assert [c.citation for c in mine.citations] == [c.citation for c in theirs.citations]


# --- errors ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("url, message", [
    ("milvus://localhost", "names no port"),
    ("http://localhost:19530", "not a Milvus address"),
    ("milvus://localhost:19530/bad-name", "letters, digits and underscores"),
])
def test_bad_addresses_are_one_line_errors(url: str, message: str) -> None:
    with pytest.raises(StoreError, match=message):
        MilvusAddress.parse(url)


def test_a_server_that_is_down_is_one_line_on_stderr(capsys, corpus: Path) -> None:
    url = f"milvus://127.0.0.1:{free_port()}/down"
    code = main(["search", "envoy", "--corpus", str(corpus), "--store", url])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1, err
    assert err.startswith("qa: error: cannot reach Milvus at " + url) and "start the server" in err


def test_a_bad_store_setting_is_one_line_on_stderr(capsys, corpus: Path, monkeypatch) -> None:
    monkeypatch.setenv("QA_STORE", "milvus:/nowhere")
    code = main(["search", "envoy", "--corpus", str(corpus)])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1 and "milvus://HOST:PORT" in err, err


def test_part_needs_a_shared_store(capsys, corpus: Path) -> None:
    code = main(["index", str(corpus), "--part", "1/2"])
    err = capsys.readouterr().err
    assert code == 2 and "--store milvus://" in err and err.count("\n") == 1


def test_the_store_refuses_another_models_vectors(milvus: str, request) -> None:
    address = MilvusAddress.parse(collection_url(milvus, request))
    one = MilvusStore(address, CountingEmbedder("model-a").source, 60, 180)
    other = MilvusStore(address, CountingEmbedder("model-b").source, 60, 180)
    assert one.collection != other.collection  # another model writes to its own collection


def test_index_command_in_parts_then_whole(milvus: str, corpus: Path, request, capsys, monkeypatch) -> None:
    fake = CountingEmbedder()
    monkeypatch.setattr("qa.retriever.Embedder", lambda source, device="cpu": fake)
    monkeypatch.setattr("qa.parts.Embedder", lambda source, device="cpu": fake)
    url = collection_url(milvus, request)
    assert main(["index", str(corpus), "--store", url, "--part", "1/2", "--quiet"]) == 0
    out = capsys.readouterr().out
    first = sum(1 for path in corpus.glob("*.txt") if Part(1, 2).holds(path.name))
    assert out.startswith(f"Indexed part 1/2: {first} of 5 articles in {url} ({first} embedded")
    assert main(["index", str(corpus), "--store", url, "--quiet"]) == 0
    out = capsys.readouterr().out
    assert f"passages in {url.rsplit('/', 1)[0]}/" in out and f"({5 - first} embedded, {first} unchanged" in out
