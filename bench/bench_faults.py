"""Huge inputs, by hand: time and peak memory of scanning and splitting them, and how time grows with size.

    python bench/bench_faults.py [--tiny-files 100000]

Prints, for one-line articles of 1, 2 and 4 MB (prose, and a hostile line of brackets), the seconds to parse
and split them and the ratio to the 1 MB case (linear: about 2 and 4; quadratic: 4 and 16); the time and peak
traced memory of scanning a folder holding a 200 MB file (sparse); and the time to scan a folder of tiny files.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from qa.articles import parse_article, scan_folder  # noqa: E402
from qa.passages import split_passages  # noqa: E402

SENTENCE = "The council voted on Tuesday to approve the new harbour bridge budget for next year. "


def one_line(kind: str, size: int) -> float:
    line = (SENTENCE * (size // len(SENTENCE) + 1))[:size] if kind == "prose" else "[" * size
    began = time.perf_counter()
    article = parse_article("long.txt", f"{SENTENCE}\n{line}\n".encode())
    split_passages(article)
    return time.perf_counter() - began


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tiny-files", type=int, default=20_000, help="how many tiny files to scan")
    args = parser.parse_args()

    for kind in ("prose", "brackets"):
        times = {mb: one_line(kind, mb * 1_000_000) for mb in (1, 2, 4)}
        ratios = ", ".join(f"{mb} MB {seconds:.2f} s ({seconds / times[1]:.1f}x)" for mb, seconds in times.items())
        print(f"one-line {kind}: {ratios}")

    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        (root / "note.txt").write_text("A note\n\nThe harbour committee met on Tuesday.\n")
        with open(root / "dump.txt", "wb") as stream:
            stream.truncate(200_000_000)
        tracemalloc.start()
        began = time.perf_counter()
        scan = scan_folder(root)
        seconds = time.perf_counter() - began
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        print(f"folder with a 200 MB file: {seconds:.2f} s, peak traced memory {peak / 1e6:.0f} MB, "
              f"skipped: {[s.reason for s in scan.skipped]}")

    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        for number in range(args.tiny_files):
            sub = root / f"{number // 1000:03d}"
            sub.mkdir(exist_ok=True)
            (sub / f"n{number:06d}.txt").write_text(f"Note {number}\n\nItem {number} was recorded on Tuesday.\n")
        began = time.perf_counter()
        scan = scan_folder(root)
        seconds = time.perf_counter() - began
        print(f"{args.tiny_files} tiny files: scanned in {seconds:.1f} s "
              f"({args.tiny_files / seconds:.0f} files/s), {len(scan.articles)} articles")


if __name__ == "__main__":
    main()
