"""Indexing one machine's share of a corpus into a shared store (`qa index --part i/n`)."""

from __future__ import annotations

import time
from dataclasses import dataclass

from .articles import log_skipped, scan_folder
from .embedding import Embedder, locate_model
from .errors import CorpusError, StoreError
from .index import SyncReport
from .retriever import Progress
from .settings import Settings
from .storeurl import EMBEDDED, MilvusAddress, Part


@dataclass(frozen=True, slots=True)
class PartReport:
    """What indexing one part did."""

    store: str  # the store's address, as shown to people
    articles: int  # articles in this part
    total: int  # articles in the whole corpus
    sync: SyncReport
    seconds: float


def index_part(settings: Settings, part: Part, *, progress: Progress | None = None,
               embedder: Embedder | None = None) -> PartReport:
    """Embed this part's new and changed articles into the shared store and drop its deleted ones. Each
    machine scans the whole folder (or its own copy) and takes the articles whose path hashes to its part, so
    n machines running parts 1/n .. n/n cover every article exactly once, and rerunning a part redoes only
    what changed."""
    began = time.perf_counter()
    if settings.store == EMBEDDED:
        raise StoreError("--part splits indexing over machines that write to one shared store: add "
                         "--store milvus://HOST:PORT (or set QA_STORE); the embedded store lives on one machine")
    scan = scan_folder(settings.corpus)
    log_skipped(scan.skipped)
    if not scan.articles:
        raise CorpusError(f"no readable article (.txt, .md, .html) in {settings.corpus}")
    from .stores.milvus import MilvusStore

    embedder = embedder or Embedder(locate_model(settings.model, settings.cache_dir), settings.device)
    address = MilvusAddress.parse(settings.store)
    store = MilvusStore(address, embedder.source, settings.min_words, settings.max_words, part=part,
                        index_name=settings.index_path.name)
    sync = store.sync(scan.articles, embedder, batch_size=settings.batch_size, progress=progress)
    mine = sum(1 for a in scan.articles if part.holds(a.path))
    return PartReport(address.shown, mine, len(scan.articles), sync, time.perf_counter() - began)
