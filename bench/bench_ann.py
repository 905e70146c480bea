"""Approximate dense indexes compared on real sentence vectors: usearch HNSW (what newsqa builds) and faiss IVF.

    python bench/bench_ann.py [--sentences 120000] [--archive PATH]      (pip install faiss-cpu for the IVF rows)

Embeds the first `--sentences` sentences of the news archive's articles with the bundled model (about 7 minutes
on 2 cores; cached in ~/.cache/newsqa/bench-ann/) and, as questions, "What happened with TITLE?" for 300 later
articles. For each index it prints the share of each question's 10 nearest sentences (exact cosine) among the
256 it proposes — what search scores exactly afterwards — the median time of one question on one thread,
the build time on two threads and the size on disk. IVF rows are given at the share of groups the previous
version scanned on the whole archive (24 of 2,048: 1.2 %) and above.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from bench_scale import ARCHIVE, read_archive  # noqa: E402

from qa.embedding import Embedder, locate_model  # noqa: E402
from qa.passages import split_passages  # noqa: E402
from qa.settings import Settings  # noqa: E402

CACHE = Path.home() / ".cache" / "newsqa" / "bench-ann"
QUESTION_ARTICLES = slice(2600, 3000)  # the questions' articles; the sentences come from the articles before


def vectors(count: int, archive: Path) -> tuple[np.ndarray, np.ndarray]:
    """(sentence vectors, question vectors), embedded once and cached."""
    stored, asked = CACHE / f"sentences-{count}.npy", CACHE / f"questions-{count}.npy"
    if stored.is_file() and asked.is_file():
        return np.load(stored).astype(np.float32), np.load(asked).astype(np.float32)
    settings = Settings()
    articles = read_archive(archive, QUESTION_ARTICLES.stop)
    sentences = [a.text[s.start : s.end] for a in articles[: QUESTION_ARTICLES.start]
                 for p in split_passages(a) for s in p.sentences]
    assert len(sentences) >= count, f"the first {QUESTION_ARTICLES.start} articles hold {len(sentences)} sentences"
    questions = [f"What happened with {a.title}?" for a in articles[QUESTION_ARTICLES]][:300]
    embedder = Embedder(locate_model(settings.model, settings.cache_dir))
    embedder.load()
    began = time.time()
    found = embedder.encode(sentences[:count], batch_size=64)
    print(f"embedded {count} sentences in {time.time() - began:.0f} s", flush=True)
    CACHE.mkdir(parents=True, exist_ok=True)
    np.save(stored, found.astype(np.float16))
    np.save(asked, embedder.encode(questions))
    return found.astype(np.float16).astype(np.float32), np.load(asked).astype(np.float32)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sentences", type=int, default=120_000)
    parser.add_argument("--archive", type=Path, default=ARCHIVE)
    args = parser.parse_args()
    sentences, questions = vectors(args.sentences, args.archive)
    count, dimension = sentences.shape
    nearest = np.argsort(-(questions @ sentences.T), axis=1)[:, :10]

    def recall(found: np.ndarray) -> float:
        return float(np.mean([len(set(nearest[i]) & set(found[i].tolist())) / 10 for i in range(len(questions))]))

    def median_ms(search) -> float:
        times = []
        for question in questions[:200]:
            began = time.perf_counter()
            search(question)
            times.append(time.perf_counter() - began)
        return statistics.median(times) * 1000

    lists = 2 ** round(float(np.log2(2 * np.sqrt(count))))  # about 2 x sqrt(count) groups, as the IVF index had
    print(f"{count} sentence vectors, {len(questions)} questions; IVF with {lists} groups")
    try:
        import faiss
    except ImportError:
        print("faiss is not installed (pip install faiss-cpu): no IVF rows")
        faiss = None
    for name in ("faiss IVF, 48-byte product codes", "faiss IVF, 8-bit scalar codes") if faiss else ():
        quantizer = faiss.IndexFlatIP(dimension)
        if "product" in name:
            index = faiss.IndexIVFPQ(quantizer, dimension, lists, 48, 8, faiss.METRIC_INNER_PRODUCT)
            index.by_residual = False
        else:
            index = faiss.IndexIVFScalarQuantizer(quantizer, dimension, lists, faiss.ScalarQuantizer.QT_8bit,
                                                  faiss.METRIC_INNER_PRODUCT)
        faiss.omp_set_num_threads(2)
        began = time.time()
        index.train(sentences[np.random.default_rng(0).choice(count, max(lists * 40, 10240), replace=False)])
        index.add(sentences)
        built = time.time() - began
        faiss.omp_set_num_threads(1)
        path = tempfile.mktemp()
        faiss.write_index(index, path)
        size = os.path.getsize(path) / 1e6
        os.unlink(path)
        for share in (0.012, 0.023, 0.047):
            index.nprobe = max(1, round(share * lists))
            _, found = index.search(questions, 256)
            print(f"{name}, {index.nprobe} of {lists} groups ({share:.1%}): {recall(found):.3f} of the 10 nearest "
                  f"in 256, {median_ms(lambda q: index.search(q[None], 256)):.2f} ms, built in {built:.0f} s, "
                  f"{size:.0f} MB")
    try:
        from usearch.index import Index
    except ImportError:
        print("usearch is not installed (pip install usearch): no HNSW rows")
        return
    for kind in ("i8", "f16"):
        index = Index(ndim=dimension, metric="ip", dtype=kind, connectivity=16, expansion_add=128)
        began = time.time()
        index.add(np.arange(count), sentences, threads=2)
        built = time.time() - began
        path = tempfile.mktemp()
        index.save(path)
        size = os.path.getsize(path) / 1e6
        os.unlink(path)
        for breadth in (256, 512):
            index.expansion_search = breadth
            found = index.search(questions, 256, threads=1).keys
            print(f"usearch HNSW, {kind} vectors, search breadth {breadth}: {recall(found):.3f} of the 10 nearest in "
                  f"256, {median_ms(lambda q: index.search(q, 256, threads=1)):.2f} ms, built in {built:.0f} s, "
                  f"{size:.0f} MB")


if __name__ == "__main__":
    main()
