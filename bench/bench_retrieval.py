"""Retrieval speed, run by hand: `python bench/bench_retrieval.py [--corpus DIR] [--repeat N]`.

Compares, side by side in one run on the same passages and questions:
- indexing throughput (passages/s) of a full index build (scan, split, embed every sentence, save) vs bare
  `SentenceTransformer.encode` of the same passages;
- hybrid query latency vs the bare encode of the same query;
- reopening the saved index (model already loaded) in seconds;
- a cited answer (`ask`: search, sentence scoring, word vectors of the leading sentences) vs the search alone.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from qa import Retriever, Settings  # noqa: E402
from qa.articles import scan_folder  # noqa: E402
from qa.embedding import Embedder, locate_model  # noqa: E402
from qa.passages import split_passages  # noqa: E402

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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", default=str(Settings().corpus))
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()

    settings = Settings()
    embedder = Embedder(locate_model(settings.model, settings.cache_dir))
    embedder.load()
    model = embedder._model
    articles = scan_folder(args.corpus).articles
    texts = [p.text for a in articles for p in split_passages(a)]
    print(f"corpus {args.corpus}: {len(articles)} articles, {len(texts)} passages; {args.repeat} runs each\n")

    bare_build, our_build, reopen = [], [], []
    for _ in range(args.repeat):
        bare_build.append(timed(lambda: model.encode(texts, batch_size=settings.batch_size,
                                                     normalize_embeddings=True)))
        workdir = Path(tempfile.mkdtemp())
        try:
            our_build.append(timed(lambda: Retriever.from_folder(args.corpus, embedder=embedder,
                                                                 index_dir=workdir / "index")))
            reopen.append(timed(lambda: Retriever.from_folder(args.corpus, embedder=embedder,
                                                              index_dir=workdir / "index")))
        finally:
            shutil.rmtree(workdir)
    retriever = Retriever.from_folder(args.corpus, embedder=embedder, index_dir=Path(tempfile.mkdtemp()))
    bare_query, hybrid_query, answers = [], [], []
    for _ in range(args.repeat):
        for question in QUESTIONS:
            bare_query.append(timed(lambda: model.encode([question], normalize_embeddings=True)))
            hybrid_query.append(timed(lambda: retriever.search(question, k=5)))
            answers.append(timed(lambda: retriever.ask(question)))

    bare_rate = len(texts) / statistics.median(bare_build)
    our_rate = len(texts) / statistics.median(our_build)
    print(f"{'measure':<38}{'median':>12}{'ratio':>10}  target")
    print(f"{'bare encode, passages/s':<38}{bare_rate:>12.1f}")
    print(f"{'index build (scan+split+embed+save)':<38}{our_rate:>12.1f}{our_rate / bare_rate:>10.2f}  >= 0.90")
    bq, hq = statistics.median(bare_query) * 1000, statistics.median(hybrid_query) * 1000
    print(f"{'bare query encode, ms':<38}{bq:>12.2f}")
    print(f"{'hybrid search, ms':<38}{hq:>12.2f}{hq / bq:>10.2f}  <= 1.30")
    print(f"{'reopen saved index, s':<38}{statistics.median(reopen):>12.3f}{'':>10}  < 0.30")
    answer = statistics.median(answers) * 1000
    print(f"{'cited answer (ask), ms':<38}{answer:>12.2f}{answer / hq:>10.2f}  (vs hybrid search)")


if __name__ == "__main__":
    main()
