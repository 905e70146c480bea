"""The Retriever facade: open (or build) the index of a folder, then search it or ask it."""

from __future__ import annotations

import copy
import json
import logging
import math
import numbers
import re
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import suppress
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from .articles import Article, SkippedFile, log_skipped, scan_folder
from .duplicates import find_copies
from .embedding import Embedder, locate_model
from .errors import ArticleNotFound, CorpusError, QAError
from .filters import Filters
from .folders import write_atomically
from .fusion import fuse_candidates, rrf, z_score
from .index import SyncReport
from .passages import Passage, Span
from .question import MAX_QUESTION_CHARS, check_question  # noqa: F401  (re-exported: callers import it here)
from .records import Citation, Hit
from .selection import Selection
from .settings import Method, Settings, check_method
from .stores import PassageStore, open_store

if TYPE_CHECKING:
    from .reader import Reader
    from .records import Answer

log = logging.getLogger(__name__)

EXACT_PASSAGES = 20_000  # up to this many passages of a local store, search scores every one; beyond, it fuses
# candidates (qa.fusion). For a store on a server every score is a request: beyond this many, candidates.
SERVER_EXACT_PASSAGES = 2_000

Progress = Callable[[int, int], None]


@dataclass(frozen=True, slots=True)
class OpenReport:
    """What opening a corpus found and did, for people to read."""

    articles: int
    passages: int
    skipped: tuple[SkippedFile, ...]
    sync: SyncReport
    seconds: float
    copies: int = 0  # articles found to be syndicated copies of another
    newly_skipped: tuple[SkippedFile, ...] = ()  # of `skipped`, those not told about on an earlier open


class Retriever:
    """Hybrid BM25 + dense retrieval over a folder of articles, with a persisted, incremental index."""

    def __init__(self, settings: Settings, articles: Sequence[Article], store: PassageStore,
                 embedder: Embedder, report: OpenReport | None = None,
                 copies: Sequence[Sequence[str]] = ()) -> None:
        """A retriever over `store`, already synced with `articles` (see `from_articles`)."""
        self.settings = settings
        self.embedder = embedder
        self.report = report
        self.store = store
        self._articles = {a.doc_id: a for a in articles}
        self._rows: dict[tuple[str, int], int] | None = None  # made on first use, for stores without row_of
        self._readers: dict[str, Reader] = {}  # built on first use, kept warm (a reader may hold a model)
        self._readers_lock = threading.Lock()
        self._filters = Filters()  # what this view searches by default (see `filtered`)
        doc_ids = getattr(store.passages, "doc_ids", None)  # the embedded store's table has them at hand
        self._selection = Selection(self._articles, doc_ids() if doc_ids else [p.doc_id for p in self._passages],
                                    copies)

    # --- construction -----------------------------------------------------------------------------------

    @classmethod
    def from_folder(cls, corpus: Path | str | None = None, *, progress: Progress | None = None,
                    embedder: Embedder | None = None, **settings: Any) -> Retriever:
        """Open the saved index of `corpus` (default: settings/QA_CORPUS/seeds), updating it for added,
        changed or deleted articles, or build it. `settings` are Settings fields (model, index_dir, ...)."""
        return cls.from_settings(Settings.from_env(corpus=corpus, **settings), progress=progress, embedder=embedder)

    @classmethod
    def from_settings(cls, settings: Settings, *, progress: Progress | None = None,
                      embedder: Embedder | None = None) -> Retriever:
        """`from_folder` with settings already resolved (no environment variables are read)."""
        began = time.perf_counter()
        scan = scan_folder(settings.corpus)
        if not scan.articles:
            reasons = "; ".join(f"{s.path} {s.reason}" for s in scan.skipped[:3])
            raise CorpusError(f"no readable article (.txt, .md, .html, .jsonl) in {settings.corpus}"
                              + (f": {reasons}" if reasons else ""))
        return cls.from_articles(scan.articles, settings, progress=progress, embedder=embedder,
                                 skipped=scan.skipped, began=began)

    @classmethod
    def from_articles(cls, articles: Sequence[Article], settings: Settings, *, progress: Progress | None = None,
                      embedder: Embedder | None = None, skipped: Sequence[SkippedFile] = (),
                      began: float | None = None) -> Retriever:
        """Index articles that did not come from a folder (e.g. an eval corpus), in `settings.index_path`."""
        began = time.perf_counter() if began is None else began
        embedder = embedder or Embedder(locate_model(settings.model, settings.cache_dir), settings.device)
        store = open_store(settings, embedder.source)
        sync = store.sync(list(articles), embedder, batch_size=settings.batch_size, progress=progress)
        # Signatures are cached in the embedded store's folder (in the user cache when the corpus's own cannot be
        # written); a remote store writes nothing beside the articles.
        folder = getattr(store, "folder", None) if settings.store == "embedded" else None
        copies = find_copies(articles, folder) if settings.find_copies else []
        told = _told_skips(folder)
        log_skipped(skipped, told)
        if logging.getLogger("qa.articles").isEnabledFor(logging.WARNING):  # not told when warnings are off (-q)
            _remember_skips(folder, skipped, told)
        report = OpenReport(len(articles), len(store.passages), tuple(skipped), sync, time.perf_counter() - began,
                            sum(len(group) - 1 for group in copies), tuple(s for s in skipped if s not in told))
        log.info("opened %s: %d articles, %d passages (%d reused, %d embedded, %d updated without embedding, "
                 "%d split again, %d removed%s), %d copies of another story, in %.1f s",
                 getattr(store, "where", settings.index_path), report.articles, report.passages, sync.reused,
                 sync.embedded, sync.updated, sync.resplit, sync.removed,
                 f"; rebuilt: {sync.rebuilt_because}" if sync.rebuilt_because else "", report.copies, report.seconds)
        return cls(settings, articles, store, embedder, report, copies)

    def with_settings(self, **overrides: Any) -> Retriever:
        """A retriever sharing this one's model and index that scores with other settings (method,
        dense_weight); settings that change the index (model, passage sizes) are refused."""
        changed = self.settings.with_overrides(**overrides)
        for name in ("model", "min_words", "max_words", "corpus", "index_dir", "store"):
            if getattr(changed, name) != getattr(self.settings, name):
                raise QAError(f"{name} changes the index: open a new Retriever for it")
        variant = copy.copy(self)
        variant.settings = changed
        return variant

    # --- reading ----------------------------------------------------------------------------------------

    @property
    def articles(self) -> list[Article]:
        return list(self._articles.values())

    def article(self, doc_id: str) -> Article:
        """The article a citation's `doc_id` names; ArticleNotFound (a QAError and a KeyError) if none."""
        try:
            return self._articles[doc_id]
        except KeyError:
            raise ArticleNotFound(f"no article {doc_id!r} in this corpus") from None

    def __len__(self) -> int:
        return len(self.store.passages)

    @property
    def _passages(self) -> Sequence[Passage]:
        return self.store.passages

    def terms(self, text: str) -> list[str]:
        """The BM25 terms of `text`: stemmed words, English stop words removed."""
        return self.store.terms_many([text])[0]

    def terms_many(self, texts: Sequence[str]) -> list[list[str]]:
        """`terms` of several texts in one pass."""
        return self.store.terms_many(texts)

    def idf(self, term: str) -> float:
        """The inverse document frequency of a BM25 term over the passages; rarer terms weigh more."""
        return self.store.idf(term)

    def unknown_words(self, text: str) -> list[str]:
        """The words of `text` that no passage holds (as BM25 terms: "visited" and "visit" are one), once each, in
        order: a misspelt name, a word of another language. Stop words are never unknown."""
        words = list(dict.fromkeys(re.findall(r"[^\W_]+", text)))
        size = len(self.store.passages)
        if not words or not size:
            return []
        nowhere = math.log((size + 1) / 0.5)  # the idf of a term in no passage (see LexicalIndex.idf)
        return [word for word, terms in zip(words, self.terms_many(words))
                if terms and all(self.idf(term) >= nowhere - 1e-9 for term in terms)]

    def search(self, question: str, k: int = 5, method: Method | None = None, *, since: str | None = None,
               until: str | None = None, outlets: Iterable[str] | str | None = None) -> list[Hit]:
        """The k best passages for `question`, best first; `since`/`until` ("YYYY-MM-DD", "YYYY-MM", "YYYY")
        and `outlets` keep to articles of those dates and outlets (fewer than k hits when fewer qualify)."""
        return self.search_many([question], k, method, since=since, until=until, outlets=outlets)[0]

    def search_many(self, questions: Sequence[str], k: int = 5, method: Method | None = None, *,
                    since: str | None = None, until: str | None = None,
                    outlets: Iterable[str] | str | None = None) -> list[list[Hit]]:
        """`search` for several questions at once (their embeddings are computed in one batch)."""
        if isinstance(k, bool) or not isinstance(k, numbers.Integral) or k < 1:
            raise QAError(f"k must be a whole number of passages, 1 or more, not {k!r}")
        cleaned = [check_question(q) for q in questions]
        filters = self._merged(since, until, outlets)
        method = check_method(method or self.settings.method)
        if len(self.store.passages) <= (EXACT_PASSAGES if self.store.local else SERVER_EXACT_PASSAGES):
            return [self._hits(row, k, filters) for row in self.score_many(cleaned, method)]
        mask = self._mask(filters)
        # the mask goes into each side's candidate search, so a narrow filter still finds k passages
        encode = None if method == "bm25" else lambda: self.embedder.encode(cleaned,
                                                                             batch_size=self.settings.batch_size)
        found = fuse_candidates(self.store, cleaned, encode, method, self.settings.dense_weight, k, allowed=mask,
                                side=_side_thread())
        results = []
        for candidates in found:
            hits: list[Hit] = []
            for row, score in zip(candidates.rows[:k], candidates.scores[:k]):
                citation = self.citation(int(row))
                hits.append(Hit(len(hits) + 1, float(score), self.store.passages[int(row)].text, citation,
                                self._selection.copies(citation, filters)))
            results.append(hits)
        return results

    # --- filters ----------------------------------------------------------------------------------------

    def filtered(self, since: str | None = None, until: str | None = None,
                 outlets: Iterable[str] | str | None = None) -> Retriever:
        """A view of this retriever whose searches and answers keep to these dates and outlets by default."""
        view = copy.copy(self)
        view._filters = self._merged(since, until, outlets)
        return view

    @property
    def filters(self) -> Filters:
        return self._filters

    def outlets(self) -> list[tuple[str, int]]:
        """The outlets of the articles and how many articles each has, most first."""
        counts = Counter(a.outlet for a in self._articles.values() if a.outlet)
        return counts.most_common()

    def no_article_matches(self, since: str | None = None, until: str | None = None,
                           outlets: Iterable[str] | str | None = None) -> str | None:
        """Why these filters leave no article at all ("no article matches outlets cnn (outlets here: ...)"), to
        say instead of a bare "no passages" (a misspelt outlet, dates outside the corpus); None when some match."""
        chosen = self._merged(since, until, outlets)
        if not chosen or any(chosen.admits(article) for article in self._articles.values()):
            return None
        hints = []
        if chosen.since or chosen.until:
            dates = sorted(a.date[:10] for a in self._articles.values() if a.date)
            hints.append(f"articles here are dated {dates[0]} to {dates[-1]}" if dates else "no article here has a date")
        if chosen.outlets:
            known = [name for name, _count in self.outlets()]
            listed = ", ".join(known[:8]) + (f" and {len(known) - 8} more" if len(known) > 8 else "")
            hints.append(f"outlets here: {listed}" if known else "no article here names its outlet")
        return f"no article matches {chosen.describe()} ({'; '.join(hints)})"

    def _merged(self, since: str | None, until: str | None, outlets: Iterable[str] | str | None) -> Filters:
        if since is None and until is None and outlets is None:
            return self._filters
        given = Filters.of(since, until, outlets)
        return Filters(given.since or self._filters.since, given.until or self._filters.until,
                       given.outlets or self._filters.outlets)

    def _mask(self, filters: Filters) -> np.ndarray | None:
        """Which passages may be returned: of articles `filters` admit, one copy per syndicated story."""
        return self._selection.mask(filters)

    @property
    def copy_groups(self) -> list[tuple[str, ...]]:
        """The doc ids of each story found at more than one outlet or address, the original first."""
        return self._selection.copy_groups

    def score_many(self, questions: Sequence[str], method: Method | None = None) -> np.ndarray:
        """A (questions x passages) matrix of retrieval scores, every passage scored exactly; higher is better.
        On a large corpus this reads every sentence vector: `search` is the fast path there."""
        method = check_method(method or self.settings.method)
        if not len(self.store.passages):
            return np.zeros((len(questions), 0), dtype=np.float32)
        lexical = dense = None
        if method in ("bm25", "hybrid", "rrf"):  # needs no vectors: on a second thread while they are encoded
            lexical = _side_thread().submit(self.store.lexical_scores, list(questions))
        if method in ("dense", "hybrid", "rrf"):
            dense = self.dense_scores(self.embedder.encode(list(questions), batch_size=self.settings.batch_size))
        lexical = lexical.result() if lexical is not None else None
        if method == "bm25":
            return lexical
        if method == "dense":
            return dense
        if method == "rrf":
            return rrf(lexical) + rrf(dense)
        weight = self.settings.dense_weight
        return weight * z_score(dense) + (1.0 - weight) * z_score(lexical)

    def dense_scores(self, question_vectors: np.ndarray) -> np.ndarray:
        """(questions x passages) cosines of each question to each passage's best sentence."""
        return self.store.dense_scores(question_vectors)

    def _hits(self, scores: np.ndarray, k: int, filters: Filters | None = None) -> list[Hit]:
        """The k best rows of `scores` as hits, of the passages `filters` (default: this view's) let through."""
        filters = self._filters if filters is None else filters
        mask = self._mask(filters)
        if mask is not None:
            scores = np.where(mask, scores, -np.inf)
            k = min(k, int(mask.sum()))
        k = max(0, min(k, len(scores)))
        top = np.argpartition(-scores, k - 1)[:k] if 0 < k < len(scores) else np.arange(len(scores))
        top = top[np.lexsort((top, -scores[top]))][:k]
        hits = []
        for rank, i in enumerate(top, start=1):
            citation = self.citation(int(i))
            hits.append(Hit(rank, float(scores[i]), self._passages[i].text, citation,
                            self._selection.copies(citation, filters)))
        return hits

    def passage_sentences(self, passage: Citation) -> tuple[tuple[Span, ...], np.ndarray]:
        """The sentences of the passage that `passage` cites, and their stored unit vectors (one row each)."""
        row = self._row_of(passage.doc_id, passage.start)
        return self.store.passages[row].sentences, self.store.sentence_vectors(row)

    def _row_of(self, doc_id: str, start: int) -> int:
        row_of = getattr(self.store.passages, "row_of", None)
        row = row_of(doc_id, start) if row_of is not None else None
        if row_of is None:
            if self._rows is None:
                self._rows = {(p.doc_id, p.start): i for i, p in enumerate(self.store.passages)}
            row = self._rows.get((doc_id, start))
        if row is None:
            raise KeyError((doc_id, start))
        return row

    def citation(self, row: int) -> Citation:
        passage = self.store.passages[row]
        article = self._articles[passage.doc_id]
        return Citation(article.doc_id, article.title, article.path, passage.start, passage.end,
                        article.date, article.outlet, article.url, article.date_kind)

    def ask(self, question: str, history: Sequence[Any] | None = None, reader: str | None = None, *,
            since: str | None = None, until: str | None = None,
            outlets: Iterable[str] | str | None = None) -> Answer:
        """A short answer quoted from the articles, each sentence cited, or an honest abstention, by the reader
        named `reader` (default: the `reader` setting); the filters keep it to articles of those dates and
        outlets, as in `search`."""
        view = self if since is None and until is None and outlets is None else self.filtered(since, until, outlets)
        began = time.perf_counter()
        chosen = view.reader(reader)
        answer = view._with_copies(chosen.answer(view, question, history))
        log.info("%s reader %s in %.2f s", chosen.name,
                 "abstained" if answer.abstained else f"quoted {len(answer.citations)} source(s)",
                 time.perf_counter() - began)
        return answer

    def _with_copies(self, answer: Answer) -> Answer:
        """Each quoted sentence also cites where it appears in the other copies of its story."""
        if not self._selection.copy_groups or answer.abstained:
            return answer
        sources = []
        for source in answer.citations:
            known = {c.doc_id for c in source.also} | {source.citation.doc_id}
            extra = tuple(c for c in self._selection.copies(source.citation, self._filters) if c.doc_id not in known)
            sources.append(replace(source, also=tuple(source.also) + extra) if extra else source)
        return replace(answer, citations=tuple(sources))

    def reader(self, name: str | None = None) -> Reader:
        """The reader called `name` (default: the `reader` setting), built once and kept."""
        from .reader import make_reader

        name = name or self.settings.reader
        with self._readers_lock:  # the chat builds a chosen reader ahead while a question may need it too
            if name not in self._readers:
                self._readers[name] = make_reader(name, self.settings)
            return self._readers[name]


_z_score, _rrf = z_score, rrf  # the names tests and older callers use
_side: ThreadPoolExecutor | None = None
_side_lock = threading.Lock()


def _side_thread() -> ThreadPoolExecutor:
    """One worker thread for the parts of a large-corpus search that can run beside the query encode (made on
    first use; see `fuse_candidates`)."""
    global _side
    with _side_lock:
        if _side is None:
            _side = ThreadPoolExecutor(max_workers=1, thread_name_prefix="qa-lexical")
        return _side


SKIPS_TOLD = "skipped.json"  # in the index folder: the skipped files already warned about


def _told_skips(folder: Path | None) -> set[SkippedFile]:
    """The skipped files and lines warned about on an earlier open of this index, so each is warned about once,
    not on every `qa ask`; an unreadable record only means warning again."""
    try:
        saved = json.loads((folder / SKIPS_TOLD).read_text(encoding="utf-8")) if folder else []
        return {SkippedFile(str(path), str(reason)) for path, reason in saved}
    except (OSError, ValueError, TypeError):
        return set()


def _remember_skips(folder: Path | None, skipped: Sequence[SkippedFile], told: set[SkippedFile]) -> None:
    """Record `skipped` as told, unless the record already says just that (`told`, as read)."""
    if folder is None or set(skipped) == told or not folder.is_dir():
        return
    record = json.dumps([[s.path, s.reason] for s in skipped], ensure_ascii=False).encode("utf-8")
    with suppress(OSError):  # a read-only index folder: the warnings repeat, nothing else is lost
        write_atomically(folder / SKIPS_TOLD, record)
