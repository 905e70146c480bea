"""The persisted index: passages (JSONL), their vectors (.npy) and a manifest; load, check, update, save."""

from __future__ import annotations

import hashlib
import io
import json
import logging
import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .articles import Article
from .embedding import Embedder
from .passages import Passage, Span, split_passages

log = logging.getLogger(__name__)

FORMAT_VERSION = 1
SPLITTER_VERSION = 2  # bump when split_passages changes its output for the same settings
MANIFEST, PASSAGES, VECTORS = "manifest.json", "passages.jsonl", "vectors.npy"

Progress = Callable[[int, int], None]


@dataclass(frozen=True, slots=True)
class IndexContents:
    """Passages of all articles, in article order, and one unit vector per passage sentence.

    Rows of `vectors` follow the passages' sentences in order: passage i owns the rows
    `offsets[i]:offsets[i + 1]`.
    """

    passages: list[Passage]
    vectors: np.ndarray

    @property
    def offsets(self) -> np.ndarray:
        counts = [len(p.sentences) for p in self.passages]
        return np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)


@dataclass(frozen=True, slots=True)
class SyncReport:
    """What opening the index did: how many articles were reused, embedded anew or dropped."""

    reused: int
    embedded: int
    removed: int
    rebuilt_because: str | None  # why a saved index was thrown away, if it was

    @property
    def changed(self) -> bool:
        return bool(self.embedded or self.removed or self.rebuilt_because)


class IndexStore:
    """An index folder tied to one model and one splitter configuration."""

    def __init__(self, folder: Path, model_name: str, model_fingerprint: str, min_words: int, max_words: int) -> None:
        self.folder = folder
        self.identity = {
            "format": FORMAT_VERSION,
            "model": model_name,
            "model_fingerprint": model_fingerprint,
            "splitter": {"version": SPLITTER_VERSION, "min_words": min_words, "max_words": max_words,
                         "embedded": "sentences"},
        }
        self.min_words = min_words
        self.max_words = max_words

    def sync(self, articles: list[Article], embedder: Embedder, batch_size: int = 32,
             progress: Progress | None = None) -> tuple[IndexContents, SyncReport]:
        """Bring the saved index in line with `articles`: reuse unchanged ones, embed new and changed ones,
        drop deleted ones, and save if anything changed. A broken or foreign index is rebuilt."""
        saved, problem = self._load()
        previous = saved or {}
        if problem:
            log.warning("rebuilding the index in %s: %s", self.folder, problem)
        passages: list[Passage] = []
        blocks: list[np.ndarray | None] = []  # one block of sentence vectors per article
        pending: list[tuple[int, Article, list[Passage]]] = []  # articles whose sentences need embedding
        for article in articles:
            old = previous.get(article.path)
            if old is not None and old[0] == article.content_hash:
                passages.extend(old[1])
                blocks.append(old[2])
                continue
            fresh = split_passages(article, self.min_words, self.max_words)
            pending.append((len(blocks), article, fresh))
            passages.extend(fresh)
            blocks.append(None)
        current_paths = {a.path for a in articles}
        removed = sum(1 for path in previous if path not in current_paths)
        texts = [article.text[s.start : s.end] for _, article, fresh in pending for p in fresh for s in p.sentences]
        vectors = embedder.encode(texts, batch_size=batch_size, progress=progress) if texts else None
        taken = 0
        for block_number, _, fresh in pending:
            count = sum(len(p.sentences) for p in fresh)
            blocks[block_number] = vectors[taken : taken + count] if vectors is not None else None
            taken += count
        present = [block for block in blocks if block is not None and len(block)]
        matrix = np.vstack(present).astype(np.float32) if present else np.zeros((0, 0), dtype=np.float32)
        contents = IndexContents(passages, matrix)
        report = SyncReport(len(articles) - len(pending), len(pending), removed, problem)
        if report.changed or saved is None:
            self._save(articles, contents)
        return contents, report

    # --- reading ----------------------------------------------------------------------------------------

    def _load(self) -> tuple[dict[str, tuple[str, list[Passage], np.ndarray]] | None, str | None]:
        """Saved articles by path -> (hash, passages, sentence vectors); or None and why it cannot be used."""
        manifest_path = self.folder / MANIFEST
        if not manifest_path.exists():
            return None, None
        try:
            manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
            for key, value in self.identity.items():
                if manifest.get(key) != value:
                    return None, f"it was built with another {key} ({manifest.get(key)!r})"
            passages_bytes = (self.folder / PASSAGES).read_bytes()
            vectors_bytes = (self.folder / VECTORS).read_bytes()
            if _sha256(passages_bytes) != manifest["files"][PASSAGES] or \
                    _sha256(vectors_bytes) != manifest["files"][VECTORS]:
                return None, "its files do not match its manifest (an interrupted write or a corrupted file)"
            passages = [_passage_from_json(line) for line in passages_bytes.decode("utf-8").splitlines()]
            vectors = np.load(io.BytesIO(vectors_bytes), allow_pickle=False)
            offsets = IndexContents(passages, vectors).offsets
            if vectors.ndim != 2 or len(vectors) != offsets[-1]:
                return None, "its vectors and passages disagree"
        except (OSError, ValueError, KeyError, TypeError) as error:
            return None, f"it cannot be read ({type(error).__name__}: {error})"
        by_doc: dict[str, list[int]] = {}
        for number, passage in enumerate(passages):
            by_doc.setdefault(passage.doc_id, []).append(number)
        saved = {}
        for entry in manifest["articles"]:
            numbers = by_doc.get(entry["doc_id"], [])
            rows = vectors[offsets[numbers[0]] : offsets[numbers[-1] + 1]] if numbers else vectors[:0]
            saved[entry["path"]] = (entry["hash"], [passages[i] for i in numbers], rows)
        return saved, None

    # --- writing ----------------------------------------------------------------------------------------

    def _save(self, articles: list[Article], contents: IndexContents) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        passages_bytes = "".join(json.dumps(_passage_to_json(p), ensure_ascii=False) + "\n"
                                 for p in contents.passages).encode("utf-8")
        buffer = io.BytesIO()
        np.save(buffer, contents.vectors, allow_pickle=False)
        vectors_bytes = buffer.getvalue()
        manifest = dict(self.identity)
        manifest["files"] = {PASSAGES: _sha256(passages_bytes), VECTORS: _sha256(vectors_bytes)}
        manifest["articles"] = [{"path": a.path, "doc_id": a.doc_id, "title": a.title, "hash": a.content_hash}
                                for a in articles]
        manifest_bytes = json.dumps(manifest, indent=1, ensure_ascii=False).encode("utf-8")
        # Data files first, manifest last: a crash in between leaves hashes that do not match, which the
        # next open detects and repairs by rebuilding.
        _write_atomically(self.folder / PASSAGES, passages_bytes)
        _write_atomically(self.folder / VECTORS, vectors_bytes)
        _write_atomically(self.folder / MANIFEST, manifest_bytes)


def _passage_to_json(passage: Passage) -> dict:
    return {"doc_id": passage.doc_id, "ordinal": passage.ordinal, "start": passage.start, "end": passage.end,
            "text": passage.text, "sentences": [[s.start, s.end] for s in passage.sentences]}


def _passage_from_json(line: str) -> Passage:
    data = json.loads(line)
    return Passage(str(data["doc_id"]), int(data["ordinal"]), int(data["start"]), int(data["end"]),
                   str(data["text"]), tuple(Span(int(s), int(e)) for s, e in data["sentences"]))


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _write_atomically(path: Path, data: bytes) -> None:
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
