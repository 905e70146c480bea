"""Syndicated copies in a corpus: how many MinHash finds, how long it takes, and a sample to check by hand.

    python bench/bench_copies.py ../shared/data/news_archive/articles.jsonl.gz [--limit N] [--sample 10]
"""

from __future__ import annotations

import argparse
import itertools
import random
import time
from pathlib import Path

from qa.articles import scan_folder
from qa.duplicates import article_shingles, find_copies


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("corpus", type=Path)
    parser.add_argument("--limit", type=int, help="only the first N articles")
    parser.add_argument("--sample", type=int, default=10, help="groups to print for checking by hand")
    args = parser.parse_args()
    began = time.perf_counter()
    articles = scan_folder(args.corpus).articles
    if args.limit:
        articles = articles[: args.limit]
    read = time.perf_counter() - began
    began = time.perf_counter()
    groups = find_copies(articles)
    found = time.perf_counter() - began
    by_id = {a.doc_id: a for a in articles}
    copies = sum(len(g) - 1 for g in groups)
    cross = sum(1 for g in groups if len({by_id[d].outlet for d in g}) > 1)
    print(f"{len(articles)} articles read in {read:.1f} s; MinHash in {found:.1f} s")
    print(f"{len(groups)} stories with copies, {copies} copies ({copies / len(articles):.1%} of the articles); "
          f"{cross} groups span two or more outlets")
    for group in itertools.islice(random.Random(0).sample(groups, len(groups)), args.sample):
        first = by_id[group[0]]
        print("\n---", len(group), "articles")
        for doc in group:
            a = by_id[doc]
            shared = len(article_shingles(first) & article_shingles(a)) / max(1, len(article_shingles(first) | article_shingles(a)))
            print(f"  {a.outlet:16} {a.date:10} J={shared:.2f} {a.title[:70]!r} {a.url[:90]}")


if __name__ == "__main__":
    main()
