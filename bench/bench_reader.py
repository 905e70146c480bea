"""Time the readers, run by hand: `python bench/bench_reader.py [--reader NAME] [--repeat N]`.

Prints the time to load the model and open the seed index, the time to build the reader, the median and 90th
percentile seconds per answer over the seed eval set's questions (each asked once; the first, which warms
the model, is left out), and the process's peak resident memory. The target for the default reader is a
median of at most 1 s per answer on a 2-core machine.
"""

from __future__ import annotations

import argparse
import resource
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from qa import Retriever  # noqa: E402
from qa.evalsets import load_question_set  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reader", default="extractive")
    parser.add_argument("--limit", type=int, default=60, help="questions asked (default 60)")
    args = parser.parse_args()

    began = time.perf_counter()
    retriever = Retriever.from_folder(ROOT / "seeds")
    retriever.embedder.load()
    opened = time.perf_counter() - began
    began = time.perf_counter()
    reader = retriever.reader(args.reader)
    built = time.perf_counter() - began
    questions = load_question_set(ROOT / "eval" / "questions.jsonl", args.limit)
    seconds = []
    for question in questions:
        began = time.perf_counter()
        reader.answer(retriever, question.question, question.history)
        seconds.append(time.perf_counter() - began)
    timed = sorted(seconds[1:])
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kilobytes on Linux
    print(f"reader {args.reader}: model + seed index opened in {opened:.2f} s, reader built in {built:.2f} s")
    print(f"per answer over {len(timed)} questions: median {statistics.median(timed):.3f} s, "
          f"90th percentile {timed[int(0.9 * (len(timed) - 1))]:.3f} s, first (warm-up) {seconds[0]:.3f} s")
    print(f"peak resident memory {peak:.0f} MB")


if __name__ == "__main__":
    main()
