"""Scale benchmark: index build, open, search, answer and memory at 10k and 50k passages and the whole archive.

    python bench/bench_scale.py [--archive PATH] [--sizes 10000,50000,all] [--slice 40] [--questions 30]

Embedding the whole news archive (about 1.8 million sentences) takes hours on 2 CPU cores, so this benchmark
1. measures embedding throughput on a real slice (the first `--slice` articles): `qa index`'s build against a
   bare `SentenceTransformer.encode` of the same sentences, and extrapolates the whole archive's time from it;
2. at each size, builds the index from the real articles and BM25 texts with *stand-in vectors* (random unit
   vectors, one per sentence, the right count), then opens and searches it in a fresh process with the real
   model: open time, search medians against the bare query encode, an answer, and peak memory (RSS).
The archive is read from its .jsonl.gz (never copied): each line becomes an article of title + text.
Stand-in vectors make the timings and memory real but say nothing about accuracy (see `qa eval` for that).
"""

from __future__ import annotations

import argparse
import gzip
import json
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from qa.articles import Article, parse_article  # noqa: E402
from qa.duplicates import find_copies  # noqa: E402
from qa.embedding import Embedder, locate_model  # noqa: E402
from qa.passages import split_passages  # noqa: E402
from qa.settings import Settings  # noqa: E402

ARCHIVE = ROOT.parent / "shared" / "data" / "news_archive" / "articles.jsonl.gz"
if not ARCHIVE.exists():
    ARCHIVE = Path("/work/shared/data/news_archive/articles.jsonl.gz")


def read_archive(path: Path, limit: int | None = None) -> list[Article]:
    """The first `limit` articles of the archive, as the folder reader would see `title\\n\\ntext` files."""
    articles = []
    with gzip.open(path, "rt", encoding="utf-8") as lines:
        for line in lines:
            record = json.loads(line)
            article = parse_article(f"{record['id']}.txt", f"{record['title']}\n\n{record['text']}".encode())
            if article is not None:
                articles.append(article)
            if limit is not None and len(articles) >= limit:
                break
    return articles


class StandIn:
    """Claims the real model's identity but returns random unit vectors: builds an index of the right shape
    in minutes instead of hours."""

    def __init__(self, source, dimension: int = 384) -> None:
        self.source = source
        self.dimension = dimension
        self._rng = np.random.default_rng(0)

    def encode(self, texts, batch_size=32, progress=None) -> np.ndarray:
        vectors = self._rng.standard_normal((len(texts), self.dimension)).astype(np.float32)
        vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
        if progress:
            progress(len(texts), len(texts))
        return vectors


def median_ms(fn, items) -> float:
    times = []
    for item in items:
        began = time.perf_counter()
        fn(item)
        times.append(time.perf_counter() - began)
    return statistics.median(times) * 1000


def peak_rss_mb() -> float:
    """This process's peak resident memory (VmHWM: unlike ru_maxrss it does not carry the parent's over exec)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def rss_parts_mb() -> tuple[float, float]:
    """This process's resident memory now, as (anonymous, file-backed) MB: mapped index files count in the
    second, and the system can drop those pages again whenever it needs the memory."""
    found = {}
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(("RssAnon:", "RssFile:")):
            found[line.split(":")[0]] = int(line.split()[1]) / 1024
    return found.get("RssAnon", 0.0), found.get("RssFile", 0.0)


def mapped_rss_mb(folder: Path) -> dict[str, float]:
    """Resident MB of each file mapped from `folder` (from /proc/self/smaps): which index files a search reads."""
    found: dict[str, float] = {}
    name = None
    for line in Path("/proc/self/smaps").read_text().splitlines():
        fields = line.split()
        if len(fields) >= 6 and "-" in fields[0] and ":" not in fields[0]:
            name = Path(fields[5]).name if fields[5].startswith(str(folder)) else None
        elif name and fields[0] == "Rss:":
            found[name] = found.get(name, 0.0) + int(fields[1]) / 1024
    return {key: round(value) for key, value in sorted(found.items())}


def folder_bytes(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())


# --- 1. embedding throughput on a real slice --------------------------------------------------------------


def embedding_throughput(articles: list[Article], embedder: Embedder, settings: Settings, work: Path) -> dict:
    from qa.index import IndexStore

    sentences = [a.text[s.start : s.end] for a in articles for p in split_passages(a) for s in p.sentences]
    passages = sum(len(split_passages(a)) for a in articles)
    embedder.encode(sentences[:64])  # warm up
    began = time.perf_counter()
    embedder.encode(sentences, batch_size=settings.batch_size)
    bare = time.perf_counter() - began
    shutil.rmtree(work / "slice-index", ignore_errors=True)  # built anew: a reused one would embed nothing
    store = IndexStore(work / "slice-index", embedder.source.name, embedder.source.fingerprint,
                       settings.min_words, settings.max_words)
    began = time.perf_counter()
    store.sync(articles, embedder, settings.batch_size)
    build = time.perf_counter() - began
    return {"articles": len(articles), "passages": passages, "sentences": len(sentences),
            "bare_encode_s": bare, "index_build_s": build,
            "bare_sentences_per_s": len(sentences) / bare, "build_sentences_per_s": len(sentences) / build}


# --- 2. one size: build with stand-in vectors, then open and search in a fresh process --------------------


def build_stand_in(articles: list[Article], source, settings: Settings, folder: Path) -> dict:
    from qa.index import IndexStore

    store = IndexStore(folder, source.name, source.fingerprint, settings.min_words, settings.max_words)
    began = time.perf_counter()
    contents, _ = store.sync(articles, StandIn(source), settings.batch_size)
    find_copies(articles, folder)  # as `qa index` does: the copy signatures are cached beside the index
    return {"passages": len(contents.passages), "sentences": int(contents.offsets[-1]),
            "write_s": time.perf_counter() - began, "index_mb": folder_bytes(folder) / 1e6}


def encode_after_product(retriever, embedder: Embedder, questions: list[str]) -> float:
    """Median time of a query encode right after the exact dense product over every sentence: the thread
    fight between BLAS and torch (qa/threads.py) shows here first, as a ratio well above 1 to the bare encode."""
    vector = embedder.encode([questions[0]])
    times = []
    for question in questions:
        retriever.store.dense_scores(vector)
        began = time.perf_counter()
        embedder.encode([question])
        times.append(time.perf_counter() - began)
    return statistics.median(times) * 1000


def child(index: Path, articles_count: int, archive: Path, questions_count: int) -> dict:
    """Runs in a fresh process: open the stand-in index with the real model, then search and answer."""
    from qa.retriever import Retriever

    settings = Settings(corpus=index.parent, index_dir=index)
    began = time.perf_counter()
    articles = read_archive(archive, articles_count)
    read_s = time.perf_counter() - began
    rss_articles = peak_rss_mb()
    embedder = Embedder(locate_model(settings.model, settings.cache_dir))
    began = time.perf_counter()
    embedder.load()
    embedder.encode(["warm up"])
    load_s = time.perf_counter() - began
    began = time.perf_counter()
    retriever = Retriever.from_articles(articles, settings, embedder=embedder)
    open_s = time.perf_counter() - began
    mapped_at_open = mapped_rss_mb(index.resolve())
    assert retriever.report.sync.embedded == 0, "the stand-in index was not reused"
    step = max(1, len(articles) // questions_count)
    questions = [f"What happened with {a.title.rstrip('.')}?" for a in articles[::step][:questions_count]]
    later = [f"What happened with {a.title.rstrip('.')}?" for a in articles[step // 2 :: step][:questions_count]]
    retriever.search(questions[0])
    figures = {
        "articles": len(articles), "passages": len(retriever), "read_articles_s": read_s, "model_load_s": load_s,
        "open_s": open_s,
        "bare_encode_ms": median_ms(lambda q: embedder.encode([q]), questions),
        "hybrid_ms": median_ms(lambda q: retriever.search(q, k=10), questions),
        "dense_ms": median_ms(lambda q: retriever.search(q, k=10, method="dense"), questions),
        "bm25_ms": median_ms(lambda q: retriever.search(q, k=10, method="bm25"), questions),
        # the first questions after opening map the index's pages in; later ones find most of them mapped
        "hybrid_later_ms": median_ms(lambda q: retriever.search(q, k=10), later),
        "bare_encode_again_ms": median_ms(lambda q: embedder.encode([q]), questions),
        "rss_articles_mb": rss_articles,
    }
    figures["rss_after_search_mb"] = peak_rss_mb()
    figures["rss_by_file_open_mb"], figures["rss_by_file_search_mb"] = mapped_at_open, mapped_rss_mb(index.resolve())
    figures["ask_ms"] = median_ms(lambda q: retriever.ask(q), questions[:5])
    figures["peak_rss_mb"] = peak_rss_mb()  # after searching and answering: what a user's session reaches
    figures["rss_anon_mb"], figures["rss_file_mb"] = rss_parts_mb()
    figures["rss_by_file_mb"] = mapped_rss_mb(index.resolve())
    # last, since it reads every sentence vector (the exact product `score_many` does, for evaluation)
    figures["encode_after_product_ms"] = encode_after_product(retriever, embedder, questions[:10])
    figures["rss_after_product_mb"] = peak_rss_mb()
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--archive", type=Path, default=ARCHIVE)
    parser.add_argument("--sizes", default="10000,50000,all", help="passage counts, or 'all'")
    parser.add_argument("--slice", type=int, default=40, help="articles embedded for real (throughput)")
    parser.add_argument("--questions", type=int, default=30)
    parser.add_argument("--reuse", action="store_true", help="reuse stand-in indexes already in --work")
    parser.add_argument("--articles", type=int, help="read only the archive's first N articles (a quick trial)")
    parser.add_argument("--work", type=Path, help="where the indexes go (default: a temporary folder)")
    parser.add_argument("--child", nargs=2, metavar=("INDEX", "ARTICLES"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(Path(args.child[0]), int(args.child[1]), args.archive, args.questions)))
        return

    settings = Settings()
    work = args.work or Path(tempfile.mkdtemp(prefix="bench-scale-"))
    work.mkdir(parents=True, exist_ok=True)
    began = time.perf_counter()
    articles = read_archive(args.archive, args.articles)
    print(f"read {len(articles)} articles in {time.perf_counter() - began:.1f} s", flush=True)
    began = time.perf_counter()
    counts = np.cumsum([len(split_passages(a, settings.min_words, settings.max_words)) for a in articles])
    print(f"split into {int(counts[-1])} passages in {time.perf_counter() - began:.1f} s", flush=True)

    embedder = Embedder(locate_model(settings.model, settings.cache_dir))
    total_sentences = None
    if args.slice:
        slice_figures = embedding_throughput(articles[: args.slice], embedder, settings, work)
        print(f"embedding, {slice_figures['sentences']} real sentences ({slice_figures['articles']} articles): "
              f"bare encode {slice_figures['bare_sentences_per_s']:.0f}/s, index build "
              f"{slice_figures['build_sentences_per_s']:.0f}/s, ratio "
              f"{slice_figures['build_sentences_per_s'] / slice_figures['bare_sentences_per_s']:.2f}x", flush=True)
    results = []
    for size in args.sizes.split(","):
        take = len(articles) if size == "all" else int(np.searchsorted(counts, int(size))) + 1
        folder = work / f"index-{size}"
        if args.reuse and (folder / "manifest.json").exists():
            built = json.loads((folder / "built.json").read_text())
        else:
            shutil.rmtree(folder, ignore_errors=True)
            built = build_stand_in(articles[:take], embedder.source, settings, folder)
            (folder / "built.json").write_text(json.dumps(built))
        total_sentences = built["sentences"] if size == "all" else total_sentences
        print(f"[{size}] {take} articles, {built['passages']} passages, {built['sentences']} sentences: written "
              f"with stand-in vectors in {built['write_s']:.1f} s, {built['index_mb']:.0f} MB", flush=True)
        run = subprocess.run([sys.executable, __file__, "--archive", str(args.archive), "--questions",
                              str(args.questions), "--child", str(folder), str(take)],
                             capture_output=True, text=True, check=True)
        figures = {**built, **json.loads(run.stdout.strip().splitlines()[-1]), "size": size}
        results.append(figures)
        print(f"[{size}] open {figures['open_s']:.2f} s (model load {figures['model_load_s']:.1f} s, reading "
              f"articles {figures['read_articles_s']:.1f} s apart); search median hybrid "
              f"{figures['hybrid_ms']:.1f} ms, dense {figures['dense_ms']:.1f} ms, bm25 {figures['bm25_ms']:.1f} ms; "
              f"bare query encode {figures['bare_encode_ms']:.1f} ms -> hybrid/encode "
              f"{figures['hybrid_ms'] / figures['bare_encode_ms']:.2f}x (the next questions: hybrid {figures['hybrid_later_ms']:.1f} ms, "
              f"{figures['hybrid_later_ms'] / figures['bare_encode_again_ms']:.2f}x); encode right after the dense product "
              f"{figures['encode_after_product_ms']:.1f} ms "
              f"({figures['encode_after_product_ms'] / figures['bare_encode_ms']:.2f}x); ask {figures['ask_ms']:.0f} ms; "
              f"peak RSS {figures['rss_after_search_mb']:.0f} MB after searching, {figures['peak_rss_mb']:.0f} MB after "
              f"answering ({figures['rss_anon_mb']:.0f} MB of it the process's own, {figures['rss_file_mb']:.0f} MB mapped index "
              f"files; articles alone {figures['rss_articles_mb']:.0f} MB; {figures['rss_after_product_mb']:.0f} MB after "
              f"the exact product over every sentence)",
              flush=True)
        print(f"[{size}] resident index files (MB) after opening {figures['rss_by_file_open_mb']}, after searching "
              f"{figures['rss_by_file_search_mb']}, after answering {figures['rss_by_file_mb']}", flush=True)
    if args.slice and total_sentences:
        hours = total_sentences / slice_figures["build_sentences_per_s"] / 3600
        print(f"extrapolated: embedding the whole archive ({total_sentences} sentences) at the measured index-build "
              f"rate takes about {hours:.1f} h on this machine", flush=True)
    (work / "bench_scale.json").write_text(json.dumps({"slice": slice_figures if args.slice else None,
                                                       "sizes": results}, indent=1))
    print(f"figures in {work / 'bench_scale.json'}")


if __name__ == "__main__":
    main()
