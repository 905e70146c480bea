"""Accuracy cost of the large-index machinery: float16 vectors, the approximate dense index, candidate fusion.

    python bench/bench_quantisation.py [--squad DIR] [--limit N] [--work DIR]

On the seed set and SQuAD dev (first `--limit` questions) it prints retrieval figures for:
- float32: every sentence scored exactly with float32 vectors (what format 1 stored),
- float16: the same with the stored float16 vectors (the default store up to 20,000 passages),
- float16 + HNSW + fusion: the path taken past 20,000 passages / 200,000 sentences, forced on these sets:
  the approximate index proposes sentences, their passages are scored exactly, and the hybrid fuses the
  candidate union with corpus-wide standard-score statistics.
Only questions are encoded when `--work` holds a format-1 SQuAD index (`squad-index/`, as `qa eval --squad`
wrote it before format 2): its float32 vectors are the baseline, and it is converted in place.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import qa.retriever as retriever_module  # noqa: E402
from qa import ann  # noqa: E402
from qa.embedding import Embedder, locate_model  # noqa: E402
from qa.evalsets import prepare_eval  # noqa: E402
from qa.evaluation import DEFAULT_CONFIGS, run_eval  # noqa: E402
from qa.settings import Settings  # noqa: E402

SQUAD = Path("/work/shared/data/squad11_dev")


def figures(report) -> dict[str, tuple[float, ...]]:
    return {r.name: (r.recall_at_1, r.recall_at_3, r.recall_at_10, r.mrr_at_10) for r in report.results}


def variants(retriever, questions, work: Path, full: np.ndarray | None = None) -> dict[str, dict]:
    """`full`: the float32 vectors of a format-1 index of the same passages (else they are encoded here)."""
    store = retriever.store
    half = np.asarray(store._vectors, dtype=np.float16)
    results = {}
    if full is None:
        texts = [retriever.article(p.doc_id).text[s.start : s.end] for p in store.passages for s in p.sentences]
        full = retriever.embedder.encode(texts, batch_size=64)
    assert full.shape == half.shape and np.abs(full - half).max() < 1e-2, "not the same sentences"
    store._vectors = np.asarray(full, dtype=np.float32)
    store._in_memory = True
    results["float32"] = figures(run_eval(retriever, questions, configs=DEFAULT_CONFIGS, timed=0))
    store._vectors = np.asarray(half, dtype=np.float32)  # float16 values, computed in float32
    results["float16"] = figures(run_eval(retriever, questions, configs=DEFAULT_CONFIGS, timed=0))
    path = work / "dense.usearch"
    ann.build(np.asarray(half), path)
    store._approximate = ann.ApproximateIndex(path)
    limit = retriever_module.EXACT_PASSAGES
    retriever_module.EXACT_PASSAGES = 0
    try:
        results["float16 + HNSW + fusion"] = figures(run_eval(retriever, questions, configs=DEFAULT_CONFIGS, timed=0))
    finally:
        retriever_module.EXACT_PASSAGES = limit
        store._approximate = None
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--squad", type=Path, default=SQUAD)
    parser.add_argument("--limit", type=int, default=1000)
    parser.add_argument("--work", type=Path)
    args = parser.parse_args()
    work = args.work or Path(tempfile.mkdtemp(prefix="bench-quant-"))
    work.mkdir(parents=True, exist_ok=True)
    settings = Settings()
    embedder = Embedder(locate_model(settings.model, settings.cache_dir))
    runs = {}
    seed = prepare_eval(settings.with_overrides(index_dir=work / "seed-index"), embedder=embedder)
    runs["seed set"] = variants(seed.retriever, seed.questions, work)
    if args.squad.is_dir():
        legacy = work / "squad-index" / "vectors.npy"  # a format-1 index copied here keeps its float32 vectors
        full = np.load(legacy) if legacy.is_file() and not (work / "squad-index" / "passages.npy").exists() else None
        squad = prepare_eval(settings.with_overrides(index_dir=work / "squad-index"), squad=args.squad,
                             limit=args.limit, embedder=embedder)
        runs[f"SQuAD dev, first {args.limit} questions"] = variants(squad.retriever, squad.questions, work, full)
    print("| set | vectors / path | configuration | R@1 | R@3 | R@10 | MRR@10 |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for set_name, by_variant in runs.items():
        for variant, by_config in by_variant.items():
            for config, (r1, r3, r10, mrr) in by_config.items():
                print(f"| {set_name} | {variant} | {config} | {r1:.3f} | {r3:.3f} | {r10:.3f} | {mrr:.3f} |")


if __name__ == "__main__":
    main()
