"""The Milvus store against the embedded one, run by hand: `python bench/bench_milvus.py [--store URL]`.

Without `--store` it starts a milvus-lite server on a free local port (in a temporary folder) and stops it at
the end. In one run, on the same articles, questions and loaded model, it prints:
- a full index build and a reopen (nothing to embed) on each store, in seconds;
- the median search time per method on each store, next to a bare query encode;
- seed-set retrieval figures (R@1/5/10, MRR@10) of the embedded hybrid, the Milvus store's hybrid (the same
  z-score fusion of Milvus's grouped dense and BM25 searches), and Milvus's own hybrid search with its
  RRF ranker and its weighted ranker (0.7 dense, 0.3 BM25), grouped by passage.
"""

from __future__ import annotations

import argparse
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from qa import Retriever, Settings  # noqa: E402
from qa.embedding import Embedder, locate_model  # noqa: E402
from qa.evalsets import default_question_set, load_question_set  # noqa: E402
from qa.evaluation import passage_catalog, relevant_passages  # noqa: E402
from qa.metrics import recall_at_k, reciprocal_rank  # noqa: E402
from qa.records import Citation  # noqa: E402

QUESTIONS = [
    "Which countries did the envoy visit?",
    "Who criticised Khalilzad's strategy?",
    "How many troops remained in Afghanistan?",
    "Where did the envoy meet the Pakistani army chief?",
    "When were the US troops supposed to leave?",
    "What did the Taliban promise in the deal?",
    "Who is Pakistan's national security adviser?",
    "Why did fighting escalate after the peace agreement?",
]


def timed(function) -> float:
    began = time.perf_counter()
    function()
    return time.perf_counter() - began


def median_ms(function, items, repeat: int) -> float:
    times = [timed(lambda item=item: function(item)) for _ in range(repeat) for item in items]
    return statistics.median(times) * 1000.0


def start_server(folder: Path) -> tuple[subprocess.Popen, str]:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    command = shutil.which("milvus-lite", path=str(Path(sys.executable).parent)) or "milvus-lite"
    server = subprocess.Popen([command, "server", "--data-dir", str(folder / "milvus"), "--host", "127.0.0.1",
                               "--port", str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return server, f"milvus://127.0.0.1:{port}/bench"
        time.sleep(0.2)
    server.kill()
    raise SystemExit("milvus-lite server did not start within 60 s")


def figures(rankings: list[list[Citation]], relevant: list[set]) -> str:
    judged = [[(c.path, c.start, c.end) in keys for c in ranked] for ranked, keys in zip(rankings, relevant)]
    r = [statistics.fmean(recall_at_k(j, k) for j in judged) for k in (1, 5, 10)]
    mrr = statistics.fmean(reciprocal_rank(j, 10) for j in judged)
    return f"R@1 {r[0]:.3f}  R@5 {r[1]:.3f}  R@10 {r[2]:.3f}  MRR@10 {mrr:.3f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--store", help="a running Milvus, milvus://HOST:PORT[/NAME] (default: start milvus-lite)")
    parser.add_argument("--corpus", default="seeds")
    parser.add_argument("--set", dest="question_set", help="question set (default: eval/questions.jsonl)")
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="bench-milvus-"))
    server, url = (None, args.store) if args.store else start_server(work)
    try:
        settings = Settings.from_env(corpus=args.corpus)
        embedder = Embedder(locate_model(settings.model, settings.cache_dir))
        embedder.load()
        embedder.encode(QUESTIONS)  # warm up

        build_embedded = timed(lambda: Retriever.from_folder(args.corpus, embedder=embedder,
                                                             index_dir=work / "index"))
        reopen_embedded = timed(lambda: Retriever.from_folder(args.corpus, embedder=embedder,
                                                              index_dir=work / "index"))
        embedded = Retriever.from_folder(args.corpus, embedder=embedder, index_dir=work / "index")
        stale = Retriever.from_folder(args.corpus, embedder=embedder, store=url)
        stale.store.drop()  # start from an empty collection, so the build below embeds everything
        build_milvus = timed(lambda: Retriever.from_folder(args.corpus, embedder=embedder, store=url))
        reopen_milvus = timed(lambda: Retriever.from_folder(args.corpus, embedder=embedder, store=url))
        milvus = Retriever.from_folder(args.corpus, embedder=embedder, store=url)
        passages = len(embedded)

        print(f"{passages} passages, {sum(len(p.sentences) for p in embedded.store.passages)} sentences, "
              f"{url if args.store else 'milvus-lite ' + url}")
        print(f"index build (embedding included): embedded {build_embedded:.2f} s, Milvus {build_milvus:.2f} s")
        print(f"reopen, nothing to embed:         embedded {reopen_embedded:.3f} s, Milvus {reopen_milvus:.3f} s")
        encode = median_ms(lambda q: embedder.encode([q]), QUESTIONS, args.repeat)
        print(f"bare query encode: {encode:.1f} ms (median)")
        for method in ("hybrid", "dense", "bm25"):
            e = median_ms(lambda q, m=method: embedded.search(q, 10, m), QUESTIONS, args.repeat)
            m = median_ms(lambda q, m=method: milvus.search(q, 10, m), QUESTIONS, args.repeat)
            print(f"search {method:6}: embedded {e:6.1f} ms, Milvus {m:6.1f} ms ({m / encode:.2f}x encode)")
        rrf_ms = median_ms(lambda q: milvus.store.hybrid_search(embedder.encode([q]), [q], 10), QUESTIONS,
                           args.repeat)
        print(f"Milvus hybrid_search (RRF ranker, one request): {rrf_ms:.1f} ms")

        questions = [q for q in load_question_set(args.question_set or default_question_set()) if q.answerable]
        catalog = passage_catalog(embedded)
        relevant = [relevant_passages(q, catalog) for q in questions]
        queries = [q.query for q in questions]
        vectors = embedder.encode(queries)

        def ranked(retriever: Retriever, method: str) -> list[list[Citation]]:
            return [[h.citation for h in hits] for hits in retriever.search_many(queries, 10, method)]

        def server_side(weights) -> list[list[Citation]]:
            found = milvus.store.hybrid_search(vectors, queries, 10, weights)
            return [[milvus.citation(int(row)) for row in candidates.rows] for candidates in found]

        print(f"seed set, {len(questions)} answerable questions:")
        print(f"  embedded hybrid (z-scores 0.7/0.3)    {figures(ranked(embedded, 'hybrid'), relevant)}")
        print(f"  Milvus store hybrid (same fusion)     {figures(ranked(milvus, 'hybrid'), relevant)}")
        print(f"  embedded bm25                         {figures(ranked(embedded, 'bm25'), relevant)}")
        print(f"  Milvus BM25 function                  {figures(ranked(milvus, 'bm25'), relevant)}")
        print(f"  embedded dense (best sentence)        {figures(ranked(embedded, 'dense'), relevant)}")
        print(f"  Milvus dense (grouped by passage)     {figures(ranked(milvus, 'dense'), relevant)}")
        print(f"  Milvus hybrid_search, RRF ranker      {figures(server_side(None), relevant)}")
        print(f"  Milvus hybrid_search, weighted 0.7/0.3 {figures(server_side((0.7, 0.3)), relevant)}")
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=10)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
