"""Syndicated copies: the same story at two outlets or two addresses, found by MinHash over word shingles."""

from __future__ import annotations

import hashlib
import io
import json
import logging
import re
import shutil
import zipfile
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from .articles import Article
from .folders import write_atomically
from .records import FETCHED

log = logging.getLogger(__name__)

SHINGLE = 5  # words per shingle
PERMUTATIONS = 128
THRESHOLD = 0.7  # estimated Jaccard similarity of shingle sets from which two articles are one story
MIN_SHINGLES = 20  # shorter articles are never called copies: a few shared phrases would decide it
# LSH banding: two signatures become a candidate pair when they agree on all BAND_ROWS values of some band.
# At similarity 0.7 that happens with probability 1 - (1 - 0.7**4)**32 = 0.9998 (datasketch's MinHashLSH
# default for this threshold, 14 bands of 9, gives 0.44: it missed half the pairs at the threshold); every
# candidate pair is then checked on the whole signature, so more candidates cost time, not precision.
BANDS, BAND_ROWS = 32, 4
SCHEME = "affine32"  # datasketch's permutation scheme (2.x); stored with the cache, which another scheme discards
CACHE = "minhash.npz"  # in the index folder: one signature per article, keyed by its content hash
GROUPS = "copies.json"  # beside it: the groups last found, and a digest of the articles they were found among
_WORD = re.compile(r"\w+")


def article_shingles(article: Article) -> set[bytes]:
    """The article's word 5-grams, lowercased, over its kept lines only (page debris differs between copies)."""
    words = [w for start, end in article.lines for w in _WORD.findall(article.text[start:end].lower())]
    return {" ".join(words[i : i + SHINGLE]).encode() for i in range(max(0, len(words) - SHINGLE + 1))}


def find_copies(articles: Sequence[Article], cache_folder: Path | None = None,
                threshold: float = THRESHOLD) -> list[list[str]]:
    """Groups of doc ids that are copies of one story, each group ordered with its original first (the
    earliest dated, then in path order); articles without a copy are in no group. A copy dated only by when it was
    fetched ran that day or before: it goes after a copy that ran the same day, which is known to be that early."""
    signatures, keys = _signatures(articles, cache_folder)
    digest = hashlib.sha256(f"{SCHEME}:{threshold}".encode())
    for key, article in zip(keys, articles):
        kind = f"|{article.date_kind}" if article.date_kind else ""  # groups cached before date kinds stay good
        digest.update(f"\n{key}|{article.doc_id}|{article.date}{kind}|{article.path}".encode())
    found = _load_groups(cache_folder, digest.hexdigest()) if cache_folder else None
    if found is not None:  # the same articles as when the groups were last found: 1.5 s less at 26,000 articles
        return found
    numbers = np.array([n for n, signature in enumerate(signatures) if signature is not None], dtype=np.int64)
    parent = list(range(len(articles)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    if len(numbers) > 1:
        matrix = np.vstack([signatures[n] for n in numbers]).astype(np.uint32)
        pairs = _candidate_pairs(_buckets(matrix))
        # LSH finds candidates; the signatures' own estimate decides (fewer false pairs near the threshold)
        similar = np.concatenate([(matrix[chunk[:, 0]] == matrix[chunk[:, 1]]).mean(axis=1) >= threshold
                                  for chunk in np.array_split(pairs, max(1, len(pairs) // 65536))]) \
            if len(pairs) else np.zeros(0, dtype=bool)
        for a, b in pairs[similar].tolist():
            parent[root(int(numbers[b]))] = root(int(numbers[a]))
    groups: dict[int, list[Article]] = {}
    for number in numbers.tolist():
        groups.setdefault(root(number), []).append(articles[number])
    found = [[a.doc_id for a in sorted(group, key=_earliest_first)]
             for group in groups.values() if len(group) > 1]
    if cache_folder:
        _save_groups(cache_folder, digest.hexdigest(), found)
    return found


def _earliest_first(article: Article) -> tuple[str, bool, str, str]:
    """The day, a copy dated by its fetch after one that ran that day, the time when known, the path."""
    return article.date[:10] or "9999", article.date_kind == FETCHED, article.date, article.path


def _candidate_pairs(buckets: list[np.ndarray]) -> np.ndarray:
    """Every pair (a, b), a < b, of rows sharing a bucket, once: an (n x 2) array."""
    if not buckets:
        return np.zeros((0, 2), dtype=np.int64)
    parts = []
    for bucket in buckets:
        first, second = np.triu_indices(len(bucket), k=1)
        parts.append(np.stack([bucket[first], bucket[second]], axis=1))
    pairs = np.sort(np.concatenate(parts), axis=1)
    return np.unique(pairs, axis=0)


def _buckets(matrix: np.ndarray) -> list[np.ndarray]:
    """Locality-sensitive hashing of the signatures (rows of `matrix`): BANDS bands of BAND_ROWS values each;
    rows equal on a whole band share a bucket. Each bucket of two or more rows, as row numbers."""
    found = []
    for band in range(BANDS):
        values = np.ascontiguousarray(matrix[:, band * BAND_ROWS : (band + 1) * BAND_ROWS])
        keys = values.view(np.dtype((np.void, values.dtype.itemsize * BAND_ROWS))).ravel()
        _, inverse, counts = np.unique(keys, return_inverse=True, return_counts=True)
        shared = np.flatnonzero(counts[inverse] > 1)
        if not len(shared):
            continue
        ordered = shared[np.argsort(inverse[shared], kind="stable")]
        found.extend(np.split(ordered, np.flatnonzero(np.diff(inverse[ordered])) + 1))
    return found


def _signatures(articles: Sequence[Article], cache_folder: Path | None) -> tuple[list[np.ndarray | None], list[str]]:
    """One MinHash signature per article (None when it is too short), reusing cached ones by content hash, and
    each article's cache key."""
    from datasketch import MinHash

    cached = _load(cache_folder) if cache_folder else {}
    result: list[np.ndarray | None] = []
    keys = [hashlib.sha256(f"{a.content_hash}:{a.lines}".encode()).hexdigest()[:32] for a in articles]
    fresh = 0
    for article, key in zip(articles, keys):
        if key in cached:
            result.append(cached[key])
            continue
        shingles = article_shingles(article)
        if len(shingles) < MIN_SHINGLES:
            result.append(None)
            cached[key] = None
            continue
        minhash = MinHash(num_perm=PERMUTATIONS, scheme=SCHEME)
        minhash.update_batch(list(shingles))
        result.append(minhash.hashvalues.copy())
        cached[key] = result[-1]
        fresh += 1
    if cache_folder and fresh:
        keep = set(keys)
        _save(cache_folder, {k: v for k, v in cached.items() if k in keep})
    return result, keys


def _load_groups(folder: Path, digest: str) -> list[list[str]] | None:
    try:
        saved = json.loads((folder / GROUPS).read_text(encoding="utf-8"))
        if saved.get("digest") == digest and isinstance(saved.get("groups"), list):
            return [[str(doc_id) for doc_id in group] for group in saved["groups"]]
    except (OSError, ValueError, TypeError, AttributeError):
        pass
    return None


def _save_groups(folder: Path, digest: str, groups: list[list[str]]) -> None:
    try:
        folder.mkdir(parents=True, exist_ok=True)
        _write_cache(folder / GROUPS, json.dumps({"digest": digest, "groups": groups}).encode("utf-8"))
    except OSError as error:
        log.warning("could not save the copy groups in %s: %s", folder, error)


def _load(folder: Path) -> dict[str, np.ndarray | None]:
    try:
        with np.load(folder / CACHE, allow_pickle=False) as data:
            keys = json.loads(bytes(data["keys"]).decode("utf-8"))
            matrix, present = data["signatures"], data["present"]
            if bytes(data["scheme"]).decode("utf-8") != SCHEME:
                return {}
    # A damaged cache is only a cache: a truncated file fails as a bad zip, an emptied one as an EOFError.
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile) as error:
        if (folder / CACHE).exists():
            log.info("recomputing copy signatures: %s", error)
        return {}
    if matrix.ndim != 2 or len(matrix) != len(keys) or len(present) != len(keys) \
            or (len(keys) and matrix.shape[1] != PERMUTATIONS):
        return {}
    return {key: (row if there else None) for key, row, there in zip(keys, matrix, present)}


def _save(folder: Path, signatures: dict[str, np.ndarray | None]) -> None:
    keys = list(signatures)
    matrix = np.zeros((len(keys), PERMUTATIONS), dtype=np.uint32)
    present = np.zeros(len(keys), dtype=bool)
    for row, key in enumerate(keys):
        if signatures[key] is not None:
            matrix[row], present[row] = signatures[key], True
    buffer = io.BytesIO()
    np.savez(buffer, keys=np.frombuffer(json.dumps(keys).encode("utf-8"), dtype=np.uint8), signatures=matrix,
             present=present, scheme=np.frombuffer(SCHEME.encode("utf-8"), dtype=np.uint8))
    try:
        folder.mkdir(parents=True, exist_ok=True)
        _write_cache(folder / CACHE, buffer.getvalue())
    except OSError as error:
        log.warning("could not save copy signatures in %s: %s", folder, error)


def _write_cache(path: Path, data: bytes) -> None:
    """Save one of these caches in the index folder; a folder in its place (the index folder is this library's
    own, so only damage puts one there) is removed first, or saving would fail on every run."""
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    write_atomically(path, data)
