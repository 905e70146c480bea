"""The persisted index: a passage table, float16 sentence vectors and a BM25 index, in a generation folder that
the manifest (written last) names; built in committed segments, so an interrupted run resumes; one writer at a time.

Layout of an index folder::

    manifest.json     identity (format, model, splitter), the live generation, its files' sizes and hashes, articles
    gen-XXXX/         passages.npy (article, ordinal, start, end, first sentence), sentences.npy (start, end),
                      vectors.npy (float16, one unit vector per sentence), digests.npy (a 64-bit hash of each
                      sentence's text), bm25/ (bm25s arrays, memory-mapped), dense.usearch (an approximate dense
                      index, for large indexes only)
    partial/          segments embedded by a run that has not finished: seg-N.npy + seg-N.json (written last)
    lock              held (flock) by the process that syncs the folder

A new generation is written beside the live one and becomes live when the manifest is replaced (an atomic
rename), so a crash or a full disk at any moment leaves the previous index whole.

A sentence's vector depends on its text alone (no title, no neighbouring sentences), so an article that changed
keeps the saved vector of every sentence whose text it still holds, wherever the sentence now sits: an edit of
its front matter or title embeds nothing, an edit of one paragraph embeds that paragraph's sentences. The saved
article's text is gone by then, hence the digests: they tell which saved vector is which sentence's.
"""

from __future__ import annotations

import copy
import errno
import hashlib
import io
import json
import logging
import os
import shutil
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from . import ann
from .articles import Article
from .embedding import Embedder
from .errors import IndexBusyError, IndexWriteError
from .folders import write_atomically
from .lexical import LexicalIndex, lexical_text
from .passages import Passage, Span, split_passages

log = logging.getLogger(__name__)

FORMAT_VERSION = 2
# Bump when the passages or their BM25 terms change for the same articles and settings (3: promotions dropped,
# NLTK's English stop words; 4: links to other stories dropped; 5: spaced links, video carousels, subscription
# boxes dropped; 6: the writer's contact lines dropped; 7: affiliate, consent and subscription notices dropped;
# 8: page furniture taken out after the trailing labels; 9: glued credits and clock times kept, a deals promotion
# dropped). An index of another splitter keeps its sentence vectors.
SPLITTER_VERSION = 14
MANIFEST, LOCK, PARTIAL = "manifest.json", "lock", "partial"
PASSAGES, SENTENCES, VECTORS, BM25 = "passages.npy", "sentences.npy", "vectors.npy", "bm25"
DIGESTS = "digests.npy"  # uint64 per sentence; absent from generations written before it was kept
APPROXIMATE = "dense.usearch"  # the approximate dense index, only for large indexes (qa/ann.py)
LEGACY_FILES = ("passages.jsonl", "vectors.npy")  # format 1, converted on first open
VECTOR_DTYPE = np.float16  # rankings match float32's on the seed and SQuAD sets (see README)
COMMIT_EVERY = 2048  # sentences embedded between two commits of an unfinished run
FULL_HASH_BYTES = 16 << 20  # files up to this size are hashed whole when opened; larger ones head and tail
LOCK_WAIT = 3600.0  # seconds a second writer waits for the first before giving up

Progress = Callable[[int, int], None]


@dataclass(frozen=True, slots=True)
class SyncReport:
    """What opening the index did: how many articles were reused, embedded (wholly or in part), updated without
    embedding or dropped, and how many sentences went through the model: a changed article is embedded only
    where its text changed, so the article counts alone would overstate the work."""

    reused: int  # unchanged articles (the same content hash)
    embedded: int  # new articles, and changed ones with at least one new sentence (only those are embedded)
    removed: int
    rebuilt_because: str | None  # why a saved index was thrown away, if it was
    resumed: int = 0  # articles whose vectors came from an interrupted earlier run (not embedded again)
    resplit: int = 0  # unchanged articles split again by another splitter, their sentences' saved vectors kept
    changed_paths: tuple[str, ...] = ()  # the files of the articles embedded, for people to read
    removed_paths: tuple[str, ...] = ()  # the files of the articles dropped
    updated: int = 0  # changed articles whose every sentence kept its saved vector (a front-matter edit): none embedded
    updated_paths: tuple[str, ...] = ()  # their files
    sentences_embedded: int = 0  # sentences the model encoded in this sync
    sentences_kept: int = 0  # sentences of changed or re-split articles whose saved vectors were kept

    @property
    def changed(self) -> bool:
        return bool(self.embedded or self.removed or self.rebuilt_because or self.resumed or self.resplit
                    or self.updated)


class PassageTable(Sequence[Passage]):
    """The index's passages, made on demand from its arrays; texts are sliced from the articles."""

    def __init__(self, table: np.ndarray, sentences: np.ndarray, articles: Sequence[Article]) -> None:
        self.table = table  # (passages x 5) int64: article number, ordinal, start, end, first sentence row
        self.sentences = sentences  # (sentences x 2) int64: start, end
        self._articles = list(articles)
        self._numbers: dict[str, int] | None = None
        self.offsets = np.append(table[:, 4], len(sentences)).astype(np.int64) if len(table) else \
            np.zeros(1, dtype=np.int64)

    def __len__(self) -> int:
        return len(self.table)

    def row_of(self, doc_id: str, start: int) -> int | None:
        """The row of the passage of article `doc_id` that starts at character `start`, if there is one."""
        if self._numbers is None:
            self._numbers = {a.doc_id: n for n, a in enumerate(self._articles)}
        number = self._numbers.get(doc_id)
        if number is None:
            return None
        low, high = np.searchsorted(self.table[:, 0], [number, number + 1])
        found = low + np.flatnonzero(self.table[low:high, 2] == start)
        return int(found[0]) if len(found) else None

    def doc_ids(self) -> np.ndarray:
        """Each passage's article id, as an array (without making a Passage per row)."""
        ids = np.array([a.doc_id for a in self._articles], dtype=object)
        return ids[self.table[:, 0]] if len(self.table) else np.zeros(0, dtype=object)

    def __getitem__(self, row):  # type: ignore[override]
        if isinstance(row, slice):
            return [self[i] for i in range(*row.indices(len(self)))]
        number, ordinal, start, end, first = (int(x) for x in self.table[row])
        article = self._articles[number]
        last = int(self.offsets[row + 1] if row >= 0 else self.offsets[row])
        spans = tuple(Span(int(a), int(b)) for a, b in self.sentences[first:last])
        return Passage(article.doc_id, ordinal, start, end, article.text[start:end], spans)


@dataclass(frozen=True, slots=True)
class IndexContents:
    """A live index: passages, one float16 unit vector per passage sentence (memory-mapped) and BM25.

    Rows of `vectors` follow the passages' sentences in order: passage i owns `offsets[i]:offsets[i + 1]`.
    """

    passages: PassageTable
    vectors: np.ndarray
    lexical: LexicalIndex
    folder: Path | None  # the generation folder; None for an empty index

    @property
    def offsets(self) -> np.ndarray:
        return self.passages.offsets


@dataclass(slots=True)
class _Piece:
    """One article's share of a new generation: its passages as arrays and its sentence vectors."""

    spans: np.ndarray  # (passages x 3): ordinal, start, end
    counts: np.ndarray  # sentences per passage
    sentences: np.ndarray  # (sentences x 2)
    vectors: np.ndarray | None  # (sentences x dimension); None until embedded
    digests: np.ndarray | None = None  # a hash of each sentence's text; None: made from the text when written


@dataclass(slots=True)
class _Pending:
    """An article to embed: its new passages, and the saved vectors of the sentences its saved version held too
    (rows `missing` of `kept` are the sentences to embed; `kept` is None when every one is)."""

    number: int  # its place among the articles
    article: Article
    passages: list[Passage]
    kept: np.ndarray | None  # (sentences x dimension)
    missing: np.ndarray  # int64 sentence numbers, in order
    digests: np.ndarray  # of every sentence

    @property
    def passages_to_embed(self) -> int:
        """Passages with a sentence to embed: what progress counts."""
        if self.kept is None:
            return len(self.passages)
        ends = np.cumsum([len(p.sentences) for p in self.passages])
        return len(np.unique(np.searchsorted(ends, self.missing, side="right")))


class IndexStore:
    """An index folder tied to one model and one splitter configuration."""

    def __init__(self, folder: Path, model_name: str, model_fingerprint: str, min_words: int, max_words: int,
                 *, commit_every: int = COMMIT_EVERY, lock_wait: float = LOCK_WAIT) -> None:
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
        self.commit_every = commit_every
        self.lock_wait = lock_wait

    def sync(self, articles: Sequence[Article], embedder: Embedder, batch_size: int = 32,
             progress: Progress | None = None, *, seed: Path | None = None) -> tuple[IndexContents, SyncReport]:
        """Bring the saved index in line with `articles`: reuse unchanged ones, embed new ones and the new
        sentences of changed ones (committing them in segments as it goes), drop deleted ones, and write a new
        generation if anything changed. A broken or foreign index is rebuilt; an older format is converted
        without re-embedding.
        `seed` is another index folder (one that cannot be written) whose saved articles are reused too."""
        articles = list(articles)
        with self._lock(progress):
            live, problem = self._load(articles)
            earlier: dict[tuple[str, str], _Piece] = {}  # the same articles as another splitter cut them
            if live is not None and live.resplit:
                earlier, live = live.reusable, None
                log.warning("splitting the articles in %s again: %s; the vectors of sentences that stay the same "
                            "are kept", self.folder, problem)
            elif problem:
                log.warning("rebuilding the index in %s: %s", self.folder, problem)
            if live is not None and live.keys == [(a.path, a.content_hash) for a in articles]:
                self._add_digests(live)
                self._remove_stale(keep=live.generation.name)  # what a run killed after going live left behind
                return live.contents, SyncReport(len(articles), 0, 0, None)  # the usual open: nothing to do
            seeded = self._seed(seed, articles) if seed is not None else {}
            reusable = {**seeded, **(live.reusable if live else {})}
            legacy = self._load_legacy() if live is None else {}
            partial = self._load_partial()
            # An edited article's saved version: the vectors of the sentences it still holds are good.
            previous = {path: (content_hash, piece) for (path, content_hash), piece in {**reusable, **earlier}.items()}
            pieces: list[_Piece | None] = []
            pending: list[_Pending] = []
            updated: list[str] = []
            resumed = resplit = kept_sentences = 0
            # A file renamed or moved keeps its text, so its saved passages and vectors are good under the new path.
            by_content = {content_hash: piece for (_, content_hash), piece in reusable.items()}
            for number, article in enumerate(articles):
                key = (article.path, article.content_hash)
                piece = reusable.get(key) or by_content.get(article.content_hash)
                if piece is not None:
                    pieces.append(piece)
                    continue
                if key in legacy or key in partial:
                    resumed += key in partial
                    pieces.append(legacy[key] if key in legacy else partial[key])
                    continue
                fresh = split_passages(article, self.min_words, self.max_words)
                item = _pending(number, article, fresh, previous.get(article.path))
                kept_sentences += len(item.digests) - len(item.missing) if item.kept is not None else 0
                if item.kept is not None and not len(item.missing):
                    if previous[article.path][0] == article.content_hash:
                        resplit += 1
                    else:
                        updated.append(article.path)
                    pieces.append(_piece(fresh, item.kept, item.digests))
                    continue
                pending.append(item)
                pieces.append(None)
            current = {a.path for a in articles}
            removed = sorted({path for path, _ in (reusable or earlier) if path not in current})
            reused = len(articles) - len(pending) - resumed - resplit - len(updated)
            report = SyncReport(reused, len(pending), len(removed), None if earlier else problem, resumed, resplit,
                                tuple(item.article.path for item in pending), tuple(removed), len(updated),
                                tuple(updated), sum(len(item.missing) for item in pending), kept_sentences)
            if legacy:
                log.warning("converting the index in %s to the current format (nothing is embedded again)",
                            self.folder)
            if live is not None and not report.changed and not legacy:
                self._add_digests(live)
                self._remove_stale(keep=live.generation.name)
                return live.contents, report
            self._check_writable()
            if resumed:
                log.info("resuming an interrupted run: %d articles already embedded", resumed)
            if kept_sentences:
                log.info("%d sentences of changed or re-split articles keep their saved vectors; %d are embedded",
                         kept_sentences, report.sentences_embedded)
            self._embed(pending, pieces, embedder, batch_size, progress)
            contents = self._write_generation(articles, pieces, embedder)
            return contents, report

    def _seed(self, folder: Path, articles: Sequence[Article]) -> dict[tuple[str, str], _Piece]:
        """The saved articles of another index folder of the same model and splitter, to copy from."""
        other = copy.copy(self)
        other.folder = folder
        live, _problem = other._load(articles)
        return live.reusable if live is not None and not live.resplit else {}

    # --- locking ----------------------------------------------------------------------------------------

    @contextmanager
    def _lock(self, progress: Progress | None = None) -> Iterator[None]:
        """Hold the folder's lock while syncing; a second process waits (saying so), then sees the result.
        A progress callback with a `waiting()` method has it called while waiting, and may stop the wait by
        raising from it (the chat does when it quits: the wait can last as long as the other run)."""
        try:
            import fcntl
        except ImportError:  # not a POSIX system: no lock
            yield
            return
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            handle = os.open(self.folder / LOCK, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError:  # a read-only place: nobody can write here, so there is nothing to lock
            yield
            return
        try:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                holder = os.pread(handle, 32, 0).decode(errors="replace").strip() or "?"
                log.warning("the index in %s is being written by another newsqa process (pid %s); waiting for it",
                            self.folder, holder)
                deadline = time.monotonic() + self.lock_wait
                waiting = getattr(progress, "waiting", None)
                while True:
                    if callable(waiting):
                        waiting()
                    time.sleep(0.2)
                    try:
                        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                        break
                    except BlockingIOError:
                        if time.monotonic() > deadline:
                            raise IndexBusyError(
                                f"the index in {self.folder} is busy: another newsqa process (pid {holder}) is "
                                f"writing it; try again when it has finished") from None
            with suppress(OSError):
                os.ftruncate(handle, 0)
                os.pwrite(handle, str(os.getpid()).encode(), 0)
            yield
        finally:
            os.close(handle)  # closing releases the lock

    def _check_writable(self) -> None:
        try:
            _probe_write(self.folder)
        except OSError as error:
            raise IndexReadOnlyError(
                f"cannot write the index in {self.folder} ({_reason(error)}): give a writable folder with "
                f"--index-dir or QA_INDEX_DIR") from None

    # --- reading ----------------------------------------------------------------------------------------

    def _load(self, articles: Sequence[Article]) -> tuple[_Live | None, str | None]:
        """The live index, or None and why it cannot be used (None and None when there is none)."""
        manifest_path = self.folder / MANIFEST
        if not manifest_path.exists():
            # A first run has no generation yet; one without the manifest that names it was damaged.
            damaged = False
            with suppress(OSError):
                damaged = any(path.name.startswith("gen-") for path in self.folder.iterdir())
            return None, f"its {MANIFEST} is missing" if damaged else None
        try:
            manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
            if not isinstance(manifest, dict):
                raise ValueError("the manifest is not a JSON object")
            if manifest.get("format") == 1 and all(manifest.get(k) == v for k, v in self.identity.items()
                                                   if k != "format"):
                return None, None  # the previous format, same model: _load_legacy converts it
            other = [key for key, value in self.identity.items() if manifest.get(key) != value]
            for key in other:
                value = self.identity[key]
                if key == "format":
                    return None, (f"it was written by {'a newer' if _number(manifest.get(key)) > value else 'another'} "
                                  f"newsqa (index format {manifest.get(key)!r}, this one reads {value})")
                saved = manifest.get(key)
                if key != "splitter" or not isinstance(saved, dict) or saved.get("embedded") != "sentences":
                    return None, f"it was built with another {key} ({saved!r})"
            # Only the splitter differs: the sentence vectors of the same model stay good for sentences it cuts alike.
            problem = _splitter_change(manifest.get("splitter"), self.identity["splitter"]) if other else None
            generation = self.folder / str(manifest["generation"])
            for name, expected in manifest["files"].items():
                if not _matches(generation / name, expected):
                    return None, "its files do not match its manifest (an interrupted write or a corrupted file)"
            table = np.load(generation / PASSAGES, allow_pickle=False)
            sentences = np.load(generation / SENTENCES, allow_pickle=False)
            vectors = np.load(generation / VECTORS, allow_pickle=False, mmap_mode="r")
            saved = manifest["articles"]
            if not all(isinstance(entry, dict) and isinstance(entry.get("path"), str)
                       and isinstance(entry.get("hash"), str) for entry in saved):
                return None, "its manifest lists an article without a path or content hash"
            if table.ndim != 2 or table.shape[1] != 5 or sentences.ndim != 2 or vectors.ndim != 2 or \
                    len(vectors) != len(sentences) or (len(table) and int(table[:, 0].max()) >= len(saved)):
                return None, "its vectors and passages disagree"
            lexical = LexicalIndex.load(generation / BM25)
            if len(lexical) != len(table):
                return None, "its BM25 index and passages disagree"
            digests = np.load(generation / DIGESTS, allow_pickle=False, mmap_mode="r") \
                if DIGESTS in manifest["files"] else None
            if digests is not None and (digests.shape != (len(sentences),) or digests.dtype != np.uint64):
                digests = None  # only an edit's savings depend on them: made again, not a reason to rebuild
            live = _Live(manifest, generation, table, sentences, vectors, lexical, articles, resplit=bool(other),
                         digests=digests)
        # A manifest edited by hand or half-written by another tool can hold anything ("files": "x").
        except (OSError, EOFError, ValueError, KeyError, TypeError, AttributeError) as error:
            return None, f"it cannot be read ({type(error).__name__}: {error})"
        return live, problem

    def _load_legacy(self) -> dict[tuple[str, str], _Piece]:
        """Articles of a format-1 index (passages.jsonl + float32 vectors.npy) of the same model, to convert."""
        try:
            manifest = json.loads((self.folder / MANIFEST).read_text(encoding="utf-8"))
            if manifest.get("format") != 1:
                return {}
            passages_bytes = (self.folder / LEGACY_FILES[0]).read_bytes()
            vectors_bytes = (self.folder / LEGACY_FILES[1]).read_bytes()
            if _sha256(passages_bytes) != manifest["files"][LEGACY_FILES[0]] or \
                    _sha256(vectors_bytes) != manifest["files"][LEGACY_FILES[1]]:
                return {}
            passages = [_passage_from_json(line) for line in passages_bytes.decode("utf-8").splitlines()]
            vectors = np.load(io.BytesIO(vectors_bytes), allow_pickle=False)
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            return {}
        counts = np.array([len(p.sentences) for p in passages], dtype=np.int64)
        if vectors.ndim != 2 or len(vectors) != counts.sum():
            return {}
        offsets = np.concatenate([[0], np.cumsum(counts)])
        by_doc: dict[str, list[int]] = {}
        for number, passage in enumerate(passages):
            by_doc.setdefault(passage.doc_id, []).append(number)
        found = {}
        for entry in manifest["articles"]:
            numbers = by_doc.get(entry["doc_id"], [])
            rows = vectors[offsets[numbers[0]] : offsets[numbers[-1] + 1]] if numbers else vectors[:0]
            found[(entry["path"], entry["hash"])] = _piece([passages[i] for i in numbers], rows)
        return found

    def _load_partial(self) -> dict[tuple[str, str], _Piece]:
        """Articles embedded by an unfinished earlier run, from its committed segments."""
        found: dict[tuple[str, str], _Piece] = {}
        folder = self.folder / PARTIAL
        for record in sorted(folder.glob("seg-*.json")) if folder.is_dir() else []:
            try:
                segment = json.loads(record.read_text(encoding="utf-8"))
                if segment.get("identity") != self.identity:
                    continue
                vectors = np.load(record.with_suffix(".npy"), allow_pickle=False, mmap_mode="r")
                if len(vectors) != sum(entry["sentences"] for entry in segment["articles"]):
                    continue
            except (OSError, EOFError, ValueError, KeyError, TypeError):
                continue
            taken = 0
            for entry in segment["articles"]:
                found[(entry["path"], entry["hash"])] = _Piece(
                    np.asarray(entry["spans"], dtype=np.int64).reshape(-1, 3),
                    np.asarray(entry["counts"], dtype=np.int64),
                    np.asarray(entry["spans_sentences"], dtype=np.int64).reshape(-1, 2),
                    vectors[taken : taken + entry["sentences"]])
                taken += entry["sentences"]
        return found

    # --- embedding --------------------------------------------------------------------------------------

    def _embed(self, pending: list[_Pending], pieces: list[_Piece | None], embedder: Embedder, batch_size: int,
               progress: Progress | None) -> None:
        """Embed the pending articles' missing sentences, committing a segment every `commit_every` of them."""
        total = sum(item.passages_to_embed for item in pending)
        done = 0
        if progress and total:
            progress(0, total)
        chunk: list[_Pending] = []
        size = 0
        for item in pending:
            chunk.append(item)
            size += len(item.missing)
            if size >= self.commit_every or item is pending[-1]:
                done = self._embed_chunk(chunk, pieces, embedder, batch_size, progress, done, total)
                chunk, size = [], 0

    def _embed_chunk(self, chunk: list[_Pending], pieces: list[_Piece | None], embedder: Embedder, batch_size: int,
                     progress: Progress | None, done: int, total: int) -> int:
        texts = [item.article.text[s.start : s.end] for item in chunk for s in _sentences(item.passages, item.missing)]
        passages = sum(item.passages_to_embed for item in chunk)

        def report(sentences_done: int, sentences_total: int) -> None:
            if progress:
                progress(done + passages * sentences_done // max(sentences_total, 1), total)

        vectors = embedder.encode(texts, batch_size=batch_size, progress=report if progress else None)
        vectors = np.asarray(vectors).astype(VECTOR_DTYPE)
        taken = 0
        entries, whole = [], []
        for item in chunk:
            piece = _piece(item.passages, None, item.digests)
            fresh = vectors[taken : taken + len(item.missing)]
            piece.vectors = fresh if item.kept is None else _filled(item.kept, item.missing, fresh)
            pieces[item.number] = piece
            taken += len(item.missing)
            whole.append(piece.vectors)
            entries.append({"path": item.article.path, "hash": item.article.content_hash,
                            "sentences": len(piece.sentences), "spans": piece.spans.tolist(),
                            "counts": piece.counts.tolist(), "spans_sentences": piece.sentences.tolist()})
        self._commit_segment(np.concatenate(whole), entries)
        if progress:
            progress(done + passages, total)
        return done + passages

    def _commit_segment(self, vectors: np.ndarray, entries: list[dict]) -> None:
        folder = self.folder / PARTIAL
        with _writing(self.folder):
            folder.mkdir(parents=True, exist_ok=True)
            name = f"seg-{time.time_ns():020d}"
            buffer = io.BytesIO()
            np.save(buffer, vectors, allow_pickle=False)
            write_atomically(folder / f"{name}.npy", buffer.getvalue())
            record = {"identity": self.identity, "articles": entries}
            write_atomically(folder / f"{name}.json", json.dumps(record).encode("utf-8"))  # the commit

    # --- writing ----------------------------------------------------------------------------------------

    def _write_generation(self, articles: list[Article], pieces: list[_Piece | None],
                          embedder: Embedder) -> IndexContents:
        """Write all pieces as a new generation, then make it live by replacing the manifest."""
        name = f"gen-{uuid.uuid4().hex[:12]}"
        generation = self.folder / name
        done = [p for p in pieces if p is not None]
        dimension = next((p.vectors.shape[1] for p in done if p.vectors is not None and p.vectors.ndim == 2
                          and p.vectors.shape[1]), 0) or _dimension(embedder)
        sentence_total = int(sum(len(p.sentences) for p in done))
        with _writing(self.folder, cleanup=generation):
            generation.mkdir(parents=True)
            vectors = np.lib.format.open_memmap(generation / VECTORS, mode="w+", dtype=VECTOR_DTYPE,
                                                shape=(sentence_total, dimension))
            tables, spans, texts, digests = [], [], [], []
            first = 0
            for number, (article, piece) in enumerate(zip(articles, pieces)):
                assert piece is not None and piece.vectors is not None
                count = len(piece.sentences)
                if count:
                    vectors[first : first + count] = piece.vectors
                starts = first + np.concatenate([[0], np.cumsum(piece.counts)[:-1]]).astype(np.int64)
                tables.append(np.column_stack([np.full(len(piece.spans), number, dtype=np.int64), piece.spans,
                                               starts]).reshape(-1, 5))
                spans.append(piece.sentences.reshape(-1, 2))
                digests.append(piece.digests if piece.digests is not None else _digests(article.text, piece.sentences))
                texts.extend(lexical_text(article.text[int(s):int(e)], article.title)
                             for _, s, e in piece.spans)
                first += count
            vectors.flush()
            del vectors
            table = np.concatenate(tables).astype(np.int64) if tables else np.zeros((0, 5), dtype=np.int64)
            sentences = np.concatenate(spans).astype(np.int64) if spans else np.zeros((0, 2), dtype=np.int64)
            np.save(generation / PASSAGES, table, allow_pickle=False)
            np.save(generation / SENTENCES, sentences, allow_pickle=False)
            np.save(generation / DIGESTS, np.concatenate(digests).astype(np.uint64) if digests else
                    np.zeros(0, dtype=np.uint64), allow_pickle=False)
            LexicalIndex(texts).save(generation / BM25)
            if sentence_total >= ann.ANN_MIN_SENTENCES:
                ann.build(np.load(generation / VECTORS, allow_pickle=False, mmap_mode="r"), generation / APPROXIMATE)
            files = {}
            for path in sorted(p for p in generation.rglob("*") if p.is_file()):
                _fsync(path)
                files[str(path.relative_to(generation))] = _describe(path)
            manifest = dict(self.identity)
            manifest["generation"] = name
            manifest["files"] = files
            manifest["articles"] = [{"path": a.path, "doc_id": a.doc_id, "title": a.title,
                                     "hash": a.content_hash} for a in articles]
            if (self.folder / MANIFEST).is_dir() and not (self.folder / MANIFEST).is_symlink():
                shutil.rmtree(self.folder / MANIFEST)  # a folder in the manifest's place (_load said it cannot be read)
            self._write_manifest(manifest)
        self._remove_stale(keep=name)
        live = _Live(manifest, generation, table, sentences,
                     np.load(generation / VECTORS, allow_pickle=False, mmap_mode="r"),
                     LexicalIndex.load(generation / BM25), articles)
        return live.contents

    def _write_manifest(self, manifest: dict) -> None:
        write_atomically(self.folder / MANIFEST, json.dumps(manifest, indent=1, ensure_ascii=False).encode("utf-8"))

    def _add_digests(self, live: _Live) -> None:
        """Give a generation written before sentence digests were kept its digests (from the articles' texts,
        which are the saved ones: the same content hashes), so that the next edit of an article embeds only
        its changed sentences. Nothing is embedded; a folder that cannot be written is left as it is."""
        if live.digests is not None:
            return
        numbers = {(a.path, a.content_hash): a for a in live.articles}
        pieces = live.reusable
        if any(key not in numbers for key in pieces):
            return
        digests = np.concatenate([_digests(numbers[key].text, piece.sentences) for key, piece in pieces.items()]
                                 or [np.zeros(0, dtype=np.uint64)]).astype(np.uint64)
        if len(digests) != len(live.sentences):
            return
        buffer = io.BytesIO()
        np.save(buffer, digests, allow_pickle=False)
        try:
            _probe_write(self.folder)
            write_atomically(live.generation / DIGESTS, buffer.getvalue())  # not read until the manifest names it
            files = {**live.manifest["files"], DIGESTS: _describe(live.generation / DIGESTS)}
            manifest = {**live.manifest, "files": files}
            self._write_manifest(manifest)
        except OSError as error:
            log.info("could not add sentence digests to the index in %s (%s); an edited article is embedded whole "
                     "until the index is next written", self.folder, _reason(error))
            return
        live.manifest, live.digests = manifest, digests
        log.info("added sentence digests to the index in %s (nothing embedded)", self.folder)

    def _remove_stale(self, keep: str) -> None:
        """Older generations, the finished run's segments and format-1 files: no longer needed."""
        try:
            paths = list(self.folder.iterdir())
        except OSError:
            return
        for path in paths:
            if path.name == keep or path.name in (MANIFEST, LOCK):
                continue
            if path.is_dir() and (path.name.startswith("gen-") or path.name == PARTIAL):
                shutil.rmtree(path, ignore_errors=True)
            elif path.name in LEGACY_FILES or path.name.startswith(f".{MANIFEST}."):
                with suppress(OSError):
                    path.unlink()


class IndexReadOnlyError(IndexWriteError):
    """The index folder cannot be written (a read-only folder or file system)."""


@dataclass(slots=True)
class _Live:
    """A loaded generation and the manifest that names it."""

    manifest: dict
    generation: Path
    table: np.ndarray
    sentences: np.ndarray
    vectors: np.ndarray
    lexical: LexicalIndex
    articles: Sequence[Article]
    resplit: bool = False  # cut by another splitter: only its sentence vectors can be used
    digests: np.ndarray | None = None  # per sentence; None in a generation written before they were kept

    @property
    def keys(self) -> list[tuple[str, str]]:
        return [(entry["path"], entry["hash"]) for entry in self.manifest["articles"]]

    @property
    def reusable(self) -> dict[tuple[str, str], _Piece]:
        """Saved articles by (path, content hash), as pieces to copy into a new generation."""
        found = {}
        numbers = self.table[:, 0] if len(self.table) else np.zeros(0, dtype=np.int64)
        bounds = np.searchsorted(numbers, np.arange(len(self.manifest["articles"]) + 1))
        offsets = np.append(self.table[:, 4], len(self.sentences)) if len(self.table) else np.zeros(1, np.int64)
        for number, entry in enumerate(self.manifest["articles"]):
            low, high = int(bounds[number]), int(bounds[number + 1])
            rows = self.table[low:high]
            first, last = (int(offsets[low]), int(offsets[high])) if high > low else (0, 0)
            found[(entry["path"], entry["hash"])] = _Piece(
                rows[:, 1:4], np.diff(offsets[low : high + 1]), self.sentences[first:last], self.vectors[first:last],
                self.digests[first:last] if self.digests is not None else None)
        return found

    @property
    def contents(self) -> IndexContents:
        by_path = {a.path: a for a in self.articles}
        saved = [by_path.get(entry["path"]) for entry in self.manifest["articles"]]
        ordered = [a if a is not None else _missing(entry) for a, entry in zip(saved, self.manifest["articles"])]
        return IndexContents(PassageTable(self.table, self.sentences, ordered), self.vectors, self.lexical,
                             self.generation)


def _missing(entry: dict) -> Article:
    return Article(doc_id=str(entry["doc_id"]), path=str(entry["path"]), title=str(entry["title"]), text="",
                   lines=(), content_hash=str(entry["hash"]))


def _piece(passages: Sequence[Passage], vectors: np.ndarray | None, digests: np.ndarray | None = None) -> _Piece:
    spans = np.array([[p.ordinal, p.start, p.end] for p in passages], dtype=np.int64).reshape(-1, 3)
    counts = np.array([len(p.sentences) for p in passages], dtype=np.int64)
    sentences = np.array([[s.start, s.end] for p in passages for s in p.sentences], dtype=np.int64).reshape(-1, 2)
    return _Piece(spans, counts, sentences, vectors, digests)


def _pending(number: int, article: Article, passages: list[Passage],
             saved: tuple[str, _Piece] | None) -> _Pending:
    """`article`, split into `passages`, with the vectors its saved version (content hash, piece) holds for the
    same sentence texts. A saved version without digests (written by an older newsqa) lends its vectors only
    when its text is the article's (the same content hash: another splitter cut it)."""
    spans = np.array([[s.start, s.end] for p in passages for s in p.sentences], dtype=np.int64).reshape(-1, 2)
    digests = _digests(article.text, spans)
    everything = np.arange(len(spans), dtype=np.int64)
    if saved is None or saved[1].vectors is None:
        return _Pending(number, article, passages, None, everything, digests)
    content_hash, piece = saved
    known = piece.digests
    if known is None and content_hash == article.content_hash:
        known = _digests(article.text, piece.sentences)
    if known is None:
        return _Pending(number, article, passages, None, everything, digests)
    rows = _rows_of(np.asarray(known), digests)
    found = rows >= 0
    kept = np.zeros((len(spans), piece.vectors.shape[1] if piece.vectors.ndim == 2 else 0), dtype=VECTOR_DTYPE)
    if found.any():
        kept[found] = piece.vectors[rows[found]]
    return _Pending(number, article, passages, kept, everything[~found], digests)


def text_digest(text: str) -> int:
    """A 64-bit hash of a sentence's text: its saved vector is good for any sentence of the same text (a vector
    depends on the text alone). Collisions only matter between the sentences of one article's two versions."""
    # surrogatepass: an export's JSON may hold a lone surrogate ("\ud83d"), which strict UTF-8 refuses
    return int.from_bytes(hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=8).digest(), "little")


def _digests(text: str, spans: np.ndarray) -> np.ndarray:
    """The digest of each span's text."""
    return np.array([text_digest(text[start:end]) for start, end in spans.tolist()], dtype=np.uint64)


def _rows_of(saved: np.ndarray, wanted: np.ndarray) -> np.ndarray:
    """For each wanted digest, the row of a saved sentence with that digest, or -1."""
    rows = {int(digest): row for row, digest in enumerate(saved.tolist())}
    return np.array([rows.get(int(digest), -1) for digest in wanted.tolist()], dtype=np.int64)


def _sentences(passages: Sequence[Passage], numbers: np.ndarray) -> list[Span]:
    """The sentences of `passages` with the given numbers (counted over all of them, in order)."""
    every = [s for p in passages for s in p.sentences]
    return [every[number] for number in numbers.tolist()]


def _filled(kept: np.ndarray, missing: np.ndarray, fresh: np.ndarray) -> np.ndarray:
    """The kept vectors with the missing rows filled in from `fresh`, in order."""
    if kept.shape[1] != fresh.shape[1]:  # nothing was kept (a saved article without sentences)
        kept = np.zeros((len(kept), fresh.shape[1]), dtype=VECTOR_DTYPE)
    kept[missing] = fresh
    return kept


def _splitter_change(saved: object, current: dict) -> str:
    """Why an index of the same model is split again, in words: "it was split by an older release of the page
    cleaner (version 8; this one is 9)", "its passages are of 60-180 words (now 80-200)"."""
    saved = saved if isinstance(saved, dict) else {}
    reasons = []
    if saved.get("version") != current["version"]:
        older = isinstance(saved.get("version"), int) and saved["version"] < current["version"]
        reasons.append(f"it was split by {'an older' if older else 'another'} release of the page cleaner and "
                       f"splitter (version {saved.get('version')}; this one is {current['version']})")
    if (saved.get("min_words"), saved.get("max_words")) != (current["min_words"], current["max_words"]):
        reasons.append(f"its passages are of {saved.get('min_words')}-{saved.get('max_words')} words "
                       f"(now {current['min_words']}-{current['max_words']})")
    return "; ".join(reasons) or "it was built with another splitter"


def _dimension(embedder: Embedder) -> int:
    return int(np.asarray(embedder.encode(["dimension"])).shape[1])


def _number(value: object) -> float:
    return float(value) if isinstance(value, (int, float)) else 0.0


@contextmanager
def _writing(folder: Path, cleanup: Path | None = None) -> Iterator[None]:
    """Turn a failed write into one clear IndexWriteError (the live index is untouched by then)."""
    try:
        yield
    except BaseException as error:
        if cleanup is not None:
            shutil.rmtree(cleanup, ignore_errors=True)
        if isinstance(error, OSError):
            raise IndexWriteError(f"cannot write the index in {folder}: {_reason(error)}; the previous index is "
                                  f"intact") from None
        raise


def _reason(error: OSError) -> str:
    if error.errno in (errno.ENOSPC, errno.EDQUOT):
        return "the disk is full; free some space and run it again"
    if error.errno == errno.EFBIG:
        return "a file grew past the size this system allows (ulimit -f)"
    if error.errno in (errno.EROFS, errno.EACCES, errno.EPERM):
        return "the folder is read-only"
    return error.strerror or str(error)


def _probe_write(folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    tempfile.TemporaryFile(dir=folder).close()


def _describe(path: Path) -> dict:
    size = path.stat().st_size
    return {"size": size, "sha256": _file_hash(path, size)}


def _matches(path: Path, expected: dict) -> bool:
    try:
        size = path.stat().st_size
    except OSError:
        return False
    return size == expected.get("size") and _file_hash(path, size) == expected.get("sha256")


def _file_hash(path: Path, size: int) -> str:
    """SHA-256 of the whole file up to FULL_HASH_BYTES; of its first and last MiB beyond (its size is checked
    too), so that opening a large index stays fast."""
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        if size <= FULL_HASH_BYTES:
            for block in iter(lambda: stream.read(1 << 20), b""):
                digest.update(block)
        else:
            digest.update(stream.read(1 << 20))
            stream.seek(size - (1 << 20))
            digest.update(stream.read(1 << 20))
    return digest.hexdigest()


def _fsync(path: Path) -> None:
    with path.open("rb") as stream:
        os.fsync(stream.fileno())


def _passage_from_json(line: str) -> Passage:
    data = json.loads(line)
    return Passage(str(data["doc_id"]), int(data["ordinal"]), int(data["start"]), int(data["end"]),
                   str(data["text"]), tuple(Span(int(s), int(e)) for s, e in data["sentences"]))


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


