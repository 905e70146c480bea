"""Indexing a corpus on a GPU: where the time goes when embedding is no longer the slow part.

    python bench/bench_device.py --corpus ARCHIVE.jsonl.gz [--device cuda] [--batch-sizes 128,256,512]
                                 [--bare-articles 3000] [--index-dir DIR] [--json FILE]

1. bare `SentenceTransformer.encode` throughput on the sentences of the first `--bare-articles` articles,
   at each batch size (the ceiling indexing could reach);
2. `qa index` of the whole corpus as the library does it (the same code path, on `--device`), with the time
   spent in the model, in BM25, in the approximate index and in finding copies taken apart.
Absolute times mean something only on the machine they were taken on; print them with its GPU and cores.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import qa.ann  # noqa: E402
import qa.index  # noqa: E402
from qa.articles import scan_folder  # noqa: E402
from qa.duplicates import find_copies  # noqa: E402
from qa.embedding import Embedder, locate_model  # noqa: E402
from qa.passages import split_passages  # noqa: E402
from qa.settings import Settings  # noqa: E402
from qa.stores import open_store  # noqa: E402

BEGAN = time.perf_counter()


def say(text: str) -> None:
    print(f"[{time.perf_counter() - BEGAN:7.1f} s] {text}", flush=True)


class Timed:
    """Wraps a callable, adding up the seconds spent in it."""

    def __init__(self, function) -> None:
        self.function, self.seconds, self.calls = function, 0.0, 0

    def __call__(self, *args, **kwargs):
        began = time.perf_counter()
        try:
            return self.function(*args, **kwargs)
        finally:
            self.seconds += time.perf_counter() - began
            self.calls += 1


def machine() -> dict:
    import torch

    found = {"cores": os.cpu_count(), "torch": torch.__version__}
    if torch.cuda.is_available():
        found["gpu"] = torch.cuda.get_device_name(0)
    return found


def bare_encode(embedder: Embedder, sentences: list[str], batch_sizes: list[int]) -> dict[int, float]:
    """Sentences per second of the model alone, longest first as sentence-transformers sorts them."""
    embedder.encode(sentences[:2048], batch_size=max(batch_sizes))  # warm up (kernels, allocator)
    rates = {}
    for batch in batch_sizes:
        began = time.perf_counter()
        embedder.encode(sentences, batch_size=batch)
        rates[batch] = len(sentences) / (time.perf_counter() - began)
        say(f"bare encode, batch {batch}: {rates[batch]:,.0f} sentences/s")
    return rates


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, required=True)
    parser.add_argument("--device", default="cuda")
    parser.add_argument("--model", default=None, help="embedding model (default: the bundled one)")
    parser.add_argument("--batch-sizes", default="128,256,512")
    parser.add_argument("--bare-articles", type=int, default=3000)
    parser.add_argument("--index-dir", type=Path, default=Path("/tmp/bench-device-index"))
    parser.add_argument("--no-copies", action="store_true", help="skip finding syndicated copies (CPU work)")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    batch_sizes = [int(b) for b in args.batch_sizes.split(",")]
    settings = Settings(corpus=args.corpus, index_dir=args.index_dir, device=args.device,
                        batch_size=max(batch_sizes), **({"model": args.model} if args.model else {}))
    figures: dict = {"machine": machine(), "device": args.device}
    say(f"machine: {figures['machine']}")

    began = time.perf_counter()
    articles = scan_folder(args.corpus).articles
    figures["read_s"] = time.perf_counter() - began
    say(f"read {len(articles)} articles in {figures['read_s']:.1f} s")

    embedder = Embedder(locate_model(settings.model, settings.cache_dir), settings.device)
    began = time.perf_counter()
    embedder.load()
    figures["model_load_s"] = time.perf_counter() - began
    say(f"model loaded on {args.device} in {figures['model_load_s']:.1f} s")

    sample = articles[: args.bare_articles]
    sentences = [a.text[s.start : s.end] for a in sample
                 for p in split_passages(a, settings.min_words, settings.max_words) for s in p.sentences]
    say(f"{len(sentences)} sentences of the first {len(sample)} articles for the bare encode")
    figures["bare_sentences"] = len(sentences)
    figures["bare_rates"] = bare_encode(embedder, sentences, batch_sizes)

    # the whole corpus through the library's indexing, its parts timed
    encode = Timed(embedder.encode)
    embedder.encode = encode  # type: ignore[method-assign]
    lexical = Timed(qa.index.LexicalIndex.__init__)
    qa.index.LexicalIndex.__init__ = lambda self, *a, **k: lexical(self, *a, **k)  # type: ignore[method-assign]
    graph = Timed(qa.ann.build)
    qa.ann.build = graph  # type: ignore[assignment]
    store = open_store(settings, embedder.source)
    marks = {"last": 0.0}

    def progress(done: int, total: int) -> None:
        now = time.perf_counter() - BEGAN
        if now - marks["last"] >= 30 or done == total:
            marks["last"] = now
            say(f"indexing: {done:,} of {total:,} passages")

    began = time.perf_counter()
    report = store.sync(articles, embedder, batch_size=settings.batch_size, progress=progress)
    figures["index_s"] = time.perf_counter() - began
    figures["embedded_passages"] = report.embedded
    figures["passages"] = len(store.passages)
    figures["encode_s"], figures["bm25_s"], figures["graph_s"] = encode.seconds, lexical.seconds, graph.seconds
    sentence_count = int(store._offsets[-1]) if hasattr(store, "_offsets") else 0
    figures["sentences"] = sentence_count
    best = max(figures["bare_rates"].values())
    figures["index_sentences_per_s"] = sentence_count / figures["index_s"] if figures["index_s"] else 0.0
    say(f"indexed {len(articles)} articles, {figures['passages']:,} passages, {sentence_count:,} sentences in "
        f"{figures['index_s']:.0f} s: in the model {figures['encode_s']:.0f} s, BM25 build {figures['bm25_s']:.0f} s, "
        f"approximate index {figures['graph_s']:.0f} s, the rest (splitting, commits, writing) "
        f"{figures['index_s'] - figures['encode_s'] - figures['bm25_s'] - figures['graph_s']:.0f} s")
    say(f"index build {figures['index_sentences_per_s']:,.0f} sentences/s = "
        f"{figures['index_sentences_per_s'] / best:.2f}x the best bare encode ({best:,.0f}/s)")
    if args.json:  # written now too: the copies step may not finish in the time a machine is lent
        args.json.write_text(json.dumps(figures, indent=1, default=str))
    if args.no_copies:
        return
    began = time.perf_counter()
    groups = find_copies(articles, args.index_dir)
    figures["copies_s"] = time.perf_counter() - began
    figures["copy_groups"] = len(groups)
    say(f"copies {figures['copies_s']:.0f} s ({len(groups)} stories with copies); whole `qa index` "
        f"(read + build + copies) {figures['read_s'] + figures['index_s'] + figures['copies_s']:.0f} s")
    if args.json:
        args.json.write_text(json.dumps(figures, indent=1, default=str))

if __name__ == "__main__":
    main()
