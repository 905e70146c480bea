"""Write slices of the news archive as a JSONL export: the corpus of `eval/archive_questions.jsonl`.

The archive (`../shared/data/news_archive/articles.jsonl.gz`, one article a line) may not be copied into the
repository, so the archive question set names its articles by id and this script rebuilds their corpus: it
writes the chosen 1-based line ranges of the archive, each line exactly as the archive has it (same ids, same
fields, same order), to OUT_DIR/articles.jsonl. The defaults are the two 200-article slices the set was
written on, lines 5001-5200 and 9001-9200.

    python bench/archive_sample.py /tmp/archive_corpus
    qa eval --set eval/archive_questions.jsonl --corpus /tmp/archive_corpus --index-dir /tmp/archive_index
    python bench/archive_sample.py OUT_DIR --archive PATH --lines 1-1000     # another slice
"""

from __future__ import annotations

import argparse
import gzip
import json
import sys
from pathlib import Path

DEFAULT_ARCHIVE = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "news_archive" / "articles.jsonl.gz"
DEFAULT_LINES = ("5001-5200", "9001-9200")
EXPORT_NAME = "articles.jsonl"  # the question set's `docs` are "articles.jsonl#<id>"


def line_range(text: str) -> tuple[int, int]:
    """"5001-5200" as (5001, 5200), both 1-based and included; "17" as (17, 17)."""
    first, _, last = text.partition("-")
    try:
        low, high = int(first), int(last or first)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is no line range (write it as 5001-5200)") from None
    if low < 1 or high < low:
        raise argparse.ArgumentTypeError(f"{text!r}: lines count from 1 and a range must not run backwards")
    return low, high


def sample(archive: Path, ranges: list[tuple[int, int]]) -> list[bytes]:
    """The archive's lines in `ranges` (1-based, ends included), in archive order, as the archive has them."""
    ranges = sorted(ranges)
    for (_, high), (low, _) in zip(ranges, ranges[1:]):
        if low <= high:
            raise SystemExit(f"the line ranges overlap at line {low}")
    last = ranges[-1][1]
    opener = gzip.open if archive.name.endswith(".gz") else open
    chosen: list[bytes] = []
    with opener(archive, "rb") as lines:
        number = 0
        for number, line in enumerate(lines, start=1):
            if any(low <= number <= high for low, high in ranges):
                chosen.append(line if line.endswith(b"\n") else line + b"\n")
            if number >= last:
                break
    if number < last:
        raise SystemExit(f"{archive} has {number} lines; the ranges run to line {last}")
    return chosen


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out_dir", type=Path, help=f"folder to write {EXPORT_NAME} to (created when missing)")
    parser.add_argument("--archive", type=Path, default=DEFAULT_ARCHIVE, help="the archive (default: %(default)s)")
    parser.add_argument("--lines", type=line_range, nargs="+", default=[line_range(r) for r in DEFAULT_LINES],
                        metavar="FIRST-LAST", help="1-based line ranges, ends included (default: "
                                                   f"{' '.join(DEFAULT_LINES)})")
    args = parser.parse_args()
    if not args.archive.is_file():
        raise SystemExit(f"no archive at {args.archive} (give its path with --archive)")
    rows = sample(args.archive, args.lines)
    ids = [json.loads(row)["id"] for row in rows]
    if len(set(ids)) != len(ids):
        raise SystemExit("the chosen lines repeat an id")
    args.out_dir.mkdir(parents=True, exist_ok=True)
    target = args.out_dir / EXPORT_NAME
    target.write_bytes(b"".join(rows))
    ranges = ", ".join(f"{low}-{high}" for low, high in sorted(args.lines))
    print(f"{len(rows)} articles (lines {ranges} of {args.archive.name}) written to {target}", file=sys.stderr)


if __name__ == "__main__":
    main()
