"""The Milvus store: one row per sentence, with its unit vector and Milvus's own BM25 over its passage's terms."""

from __future__ import annotations

import hashlib
import json
import logging
import math
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

import numpy as np

from ..articles import Article
from ..embedding import Embedder, ModelSource
from ..errors import QAError, StoreError
from ..index import FORMAT_VERSION, SPLITTER_VERSION, SyncReport, text_digest
from ..lexical import LexicalIndex
from ..passages import Passage, split_passages
from ..storeurl import MilvusAddress, Part
from .base import Candidates
from .embedded import lexical_text

log = logging.getLogger(__name__)

CONNECT_TIMEOUT = 10.0  # seconds to wait for a server before saying it cannot be reached
CALL_TIMEOUT = 120.0  # seconds for one request once connected
KEEPALIVE_MS = 300_000  # grpc keepalive pings: the least interval a default grpc server accepts
INSERT_ROWS = 2000  # sentence rows per insert request (Milvus caps one request's size)
MAX_DEPTH = 16384  # Milvus's largest `limit` for one search
RRF_K = 60
# Sentence rows each route of a hybrid search hands to the ranker: on the seed set the weighted ranker's R@1
# went from 0.610 with 30 rows (3 x 10 hits, milvus-lite's least) to 0.648 with 50-500 rows.
ROUTE_DEPTH = 200

Progress = Callable[[int, int], None]


class MilvusStore:
    """A corpus's sentence vectors and BM25 terms in a Milvus collection, plus a small ledger of articles.

    Each row is one sentence: its unit vector, its passage id and the BM25 terms of its *whole passage* (title
    + passage, stemmed like the embedded store's BM25). Searches grouped by passage id then score a passage
    by its best sentence on the dense side and by its own text on the BM25 side, as the embedded store does,
    and Milvus's hybrid search can fuse both with its own rankers in one request. Passages themselves are
    not fetched from the server: they are split again from the local articles (the split is deterministic and
    its settings are part of the collection's name).

    The collection is named NAME_DIGEST: NAME from the address, DIGEST from the model, the splitter settings
    and the index folder's name (`.qa-index` unless set), which keeps apart two corpora that one process
    indexes side by side (the SQuAD evaluation's full and held-out sets), as their index folders do on disk.
    """

    local = False  # every score is a request to the server: search always fuses candidates (qa.fusion)

    def __init__(self, address: MilvusAddress, model: ModelSource, min_words: int, max_words: int,
                 part: Part | None = None, index_name: str = ".qa-index", client: Any | None = None) -> None:
        self.address = address
        self.part = part
        self.min_words, self.max_words = min_words, max_words
        identity = {"format": FORMAT_VERSION, "model": model.name, "model_fingerprint": model.fingerprint,
                    "splitter": [SPLITTER_VERSION, min_words, max_words], "index": index_name}
        digest = hashlib.sha256(json.dumps(identity, sort_keys=True).encode("utf-8")).hexdigest()[:12]
        self.collection = f"{address.collection}_{digest}"
        self.ledger = f"{address.collection}_{digest}_articles"
        self._client = client or connect(address)
        self._ready = False
        self._dimension = 0
        self._tokenizer = LexicalIndex([])
        self._passages: list[Passage] = []
        self._pids: list[str] = []
        self._keys: list[str] = []  # article key of each passage row
        self._row_of: dict[str, int] = {}
        self._frequency: Counter[str] = Counter()

    # --- indexing ---------------------------------------------------------------------------------------

    def sync(self, articles: Sequence[Article], embedder: Embedder, *, batch_size: int = 32,
             progress: Progress | None = None) -> SyncReport:
        """Embed new and changed articles (of this machine's part, if it has one) and delete the rows of
        deleted ones; unchanged articles (same content hash) are left alone. A changed article's rows are
        written again, but only sentences whose text its saved rows lack are embedded (each row's id carries
        a digest of its sentence's text): an edit of the front matter embeds nothing. An article's ledger row
        is written after its sentence rows, so an interrupted run redoes at most the articles it was writing."""
        passages = {a.doc_id: split_passages(a, self.min_words, self.max_words) for a in articles}
        terms = self._tokenizer.terms_many([lexical_text(p.text, a.title) for a in articles for p in passages[a.doc_id]])
        self._remember(articles, passages, terms)
        saved = self.saved_hashes() if self._open_collections() else {}
        mine = [a for a in articles if self.part is None or self.part.holds(a.path)]
        current = {a.path for a in articles}
        gone = [path for path in saved if path not in current and (self.part is None or self.part.holds(path))]
        pending = [a for a in mine if saved.get(a.path) != a.content_hash]
        if gone:
            self._delete_articles(gone)
        terms_of = dict(zip(self._pids, terms))
        # Progress counts passages, as the embedded store's does (the chat says "Indexing… 120/400 passages").
        total = sum(len(passages[a.doc_id]) for a in pending)
        done = 0
        embedded: set[str] = set()  # articles with a sentence embedded; the other pending ones kept every vector
        counts: Counter[str] = Counter()
        for batch in _article_batches(pending, passages, INSERT_ROWS):
            rows, texts = _sentence_rows(batch, passages, terms_of)
            base, size = done, sum(len(passages[a.doc_id]) for a in batch)
            replaced = [a.path for a in batch if a.path in saved]
            fresh = self._fill_vectors(rows, texts, replaced, embedder, batch_size,
                                       (lambda n, t: progress(base + size * n // max(t, 1), total))
                                       if progress else None)
            embedded.update(rows[i]["article"] for i in fresh)
            counts.update(embedded=len(fresh), kept=len(rows) - len(fresh))
            if replaced:
                self._delete_articles(replaced, ledger=False)
            for start in range(0, len(rows), INSERT_ROWS):
                self._call("insert", self.collection, rows[start : start + INSERT_ROWS])
            self._call("upsert", self.ledger, [_ledger_row(a, passages[a.doc_id]) for a in batch])
            done += size
            if progress:
                progress(done, total)
        if pending or gone:
            # Seal what was written: sealed segments keep their vector and BM25 indexes between searches
            # (milvus-lite rebuilds the unsealed part's BM25 index at every search: 100 ms vs 30 ms here).
            for name in (self.collection, self.ledger):
                self._call("flush", name)
            log.info("Milvus %s: %d articles written (%d sentences embedded, %d kept their vectors), %d removed",
                     self.collection, len(pending), counts["embedded"], counts["kept"], len(gone))
        # An article without sentences has none to keep either: it counts as embedded, as a new one always did.
        changed = [a.path for a in pending if article_key(a.path) in embedded or not _sentence_count(passages[a.doc_id])]
        written = set(changed)
        updated = [a.path for a in pending if a.path not in written]
        return SyncReport(len(mine) - len(pending), len(changed), len(gone), None,
                          changed_paths=tuple(changed), removed_paths=tuple(sorted(gone)), updated=len(updated),
                          updated_paths=tuple(updated), sentences_embedded=counts["embedded"],
                          sentences_kept=counts["kept"])

    def _remember(self, articles: Sequence[Article], passages: Mapping[str, list[Passage]],
                  terms: list[list[str]]) -> None:
        self._passages = [p for a in articles for p in passages[a.doc_id]]
        self._pids = [passage_id(a.path, p.start) for a in articles for p in passages[a.doc_id]]
        self._keys = [article_key(a.path) for a in articles for _ in passages[a.doc_id]]
        self._row_of = {pid: row for row, pid in enumerate(self._pids)}
        self._frequency = Counter(term for found in terms for term in set(found))

    def _delete_articles(self, paths: Sequence[str], ledger: bool = True) -> None:
        keys = [article_key(path) for path in paths]
        for start in range(0, len(keys), 500):
            chunk = json.dumps(keys[start : start + 500])
            self._call("delete", self.collection, filter=f"article in {chunk}")
            if ledger:
                self._call("delete", self.ledger, filter=f"key in {chunk}")

    def drop(self) -> None:
        """Remove both collections (tests, and starting over by hand)."""
        for name in (self.collection, self.ledger):
            self._call("drop_collection", name)
        self._ready = False

    # --- reading ----------------------------------------------------------------------------------------

    @property
    def passages(self) -> Sequence[Passage]:
        return self._passages

    @property
    def where(self) -> str:
        """The collection and its server, for people to read."""
        return f"{self.address.shown.rsplit('/', 1)[0]}/{self.collection}"

    def _fill_vectors(self, rows: list[dict], texts: list[str], saved: Sequence[str], embedder: Embedder,
                      batch_size: int, progress: Progress | None) -> list[int]:
        """Give each sentence row its vector: the one saved for the same text of the same article (`saved`: the
        paths of the batch's articles that the collection holds), else embedded now; returns the rows embedded."""
        kept = self._saved_vectors(saved) if saved else {}
        missing = [i for i, row in enumerate(rows) if _reuse_key(row["id"]) not in kept]
        if missing or not self._ready:
            vectors = embedder.encode([texts[i] for i in missing], batch_size=batch_size, progress=progress)
            if not self._ready:  # the first vectors tell the collection's dimension
                self._create_collections(int(vectors.shape[1]))
            for i, vector in zip(missing, vectors):
                rows[i]["dense"] = np.asarray(vector, dtype=np.float32).tolist()
        for row in rows:
            row.setdefault("dense", kept.get(_reuse_key(row["id"])))
        return missing

    def _saved_vectors(self, paths: Sequence[str]) -> dict[tuple[str, str], list[float]]:
        """The saved sentence vectors of these articles by (article key, digest of the sentence's text); rows
        written before their ids carried a digest are left out (those sentences are embedded again)."""
        found: dict[tuple[str, str], list[float]] = {}
        keys = [article_key(path) for path in paths]
        for start in range(0, len(keys), 500):
            where = f"article in {json.dumps(keys[start : start + 500])}"
            for row in self._scan(self.collection, ["id", "dense"], where):
                key = _reuse_key(row["id"])
                if key is not None:
                    found[key] = [float(x) for x in row["dense"]]
        return found

    def saved_hashes(self) -> dict[str, str]:
        """Content hash of every article the collection holds, by path."""
        return {row["path"]: row["hash"] for row in self._scan(self.ledger, ["path", "hash"])}

    def count(self) -> int:
        """How many sentence rows the collection holds."""
        rows = self._call("query", self.collection, filter="", output_fields=["count(*)"])
        return int(rows[0]["count(*)"]) if rows else 0

    def sentence_vectors(self, row: int) -> np.ndarray:
        pid = self._pids[row]
        found = self._call("query", self.collection, filter=f"pid == {json.dumps(pid)}",
                           output_fields=["id", "dense"])
        ordered = sorted((int(r["id"].split(":")[2]), r["dense"]) for r in found)
        return np.asarray([v for _, v in ordered], dtype=np.float32).reshape(-1, self._dimension)

    def dense_search(self, question_vectors: np.ndarray, k: int,
                     allowed: np.ndarray | None = None) -> list[Candidates]:
        """Each passage scores as its best sentence: Milvus groups the sentence hits by passage."""
        vectors = np.asarray(question_vectors, dtype=np.float32)
        if not len(vectors) or not self._ready or k <= 0:
            return [Candidates.empty() for _ in vectors]
        found = self._call("search", self.collection, data=vectors.tolist(), anns_field="dense",
                           limit=_depth(k), group_by_field="pid", output_fields=["pid"],
                           filter=self._filter(allowed), search_params={"metric_type": "COSINE"})
        return [self._candidates(hits, allowed, k, bm25=False) for hits in found]

    def lexical_search(self, questions: Sequence[str], k: int,
                       allowed: np.ndarray | None = None) -> list[Candidates]:
        texts = [" ".join(terms) for terms in self.terms_many(questions)]
        results = [Candidates.empty() for _ in texts]
        asked = [i for i, text in enumerate(texts) if text]
        if not asked or not self._ready or k <= 0:
            return results
        found = self._call("search", self.collection, data=[texts[i] for i in asked], anns_field="sparse",
                           limit=_depth(k), group_by_field="pid", output_fields=["pid"],
                           filter=self._filter(allowed), search_params={"metric_type": "BM25"})
        for i, hits in zip(asked, found):
            results[i] = self._candidates(hits, allowed, k, bm25=True)
        return results

    def hybrid_search(self, question_vectors: np.ndarray, questions: Sequence[str], k: int,
                      weights: tuple[float, float] | None = None, allowed: np.ndarray | None = None,
                      route_depth: int = ROUTE_DEPTH) -> list[Candidates]:
        """Milvus's own fusion, one request per question: a dense and a BM25 route over the sentence rows,
        merged by its RRF ranker (k=60), or by its weighted ranker with (dense, BM25) `weights`, then grouped
        by passage. Scores are the ranker's."""
        from pymilvus import AnnSearchRequest, RRFRanker, WeightedRanker

        ranker = RRFRanker(RRF_K) if weights is None else WeightedRanker(*weights)
        limit, where = _depth(k), self._filter(allowed)
        route = _depth(max(limit, route_depth))  # sentence rows each route hands to the ranker
        if not self._ready:
            return [Candidates.empty() for _ in questions]
        results = []
        for vector, terms in zip(np.asarray(question_vectors, dtype=np.float32), self.terms_many(questions)):
            requests = [AnnSearchRequest([vector.tolist()], "dense", {"metric_type": "COSINE"}, limit=route,
                                         expr=where or None)]
            if terms:
                requests.append(AnnSearchRequest([" ".join(terms)], "sparse", {"metric_type": "BM25"},
                                                 limit=route, expr=where or None))
            found = self._call("hybrid_search", self.collection, requests, ranker, limit=limit,
                               output_fields=["pid"], group_by_field="pid")
            results.append(self._candidates(found[0], allowed, k, bm25=False))
        return results

    def dense_scores(self, question_vectors: np.ndarray, rows: np.ndarray | None = None) -> np.ndarray:
        """Best-sentence cosines. For given rows they are exact; for every passage (`rows=None`) they come
        from one grouped search as deep as Milvus allows, exact for up to that many passages, and passages
        beyond it get the lowest score found."""
        vectors = np.asarray(question_vectors, dtype=np.float32)
        return self._scores(vectors, rows, lambda depth, where: self._call(
            "search", self.collection, data=vectors.tolist(), anns_field="dense", limit=depth,
            group_by_field="pid", output_fields=["pid"], filter=where, search_params={"metric_type": "COSINE"}),
            bm25=False)

    def lexical_scores(self, questions: Sequence[str], rows: np.ndarray | None = None) -> np.ndarray:
        """BM25 scores (Milvus's), like `dense_scores`; passages without a query term score 0."""
        texts = [" ".join(terms) or "-" for terms in self.terms_many(questions)]
        return self._scores(texts, rows, lambda depth, where: self._call(
            "search", self.collection, data=texts, anns_field="sparse", limit=depth, group_by_field="pid",
            output_fields=["pid"], filter=where, search_params={"metric_type": "BM25"}), bm25=True)

    def terms_many(self, texts: Sequence[str]) -> list[list[str]]:
        return self._tokenizer.terms_many(texts)

    def terms(self, text: str) -> list[str]:
        return self._tokenizer.terms(text)

    @property
    def lexical(self) -> MilvusStore:
        """`terms`, `terms_many` and `idf`, for answer code that reads them from the store's lexical index."""
        return self

    def idf(self, term: str) -> float:
        """log((N + 1) / (df + 0.5)) over the passages, as the embedded store computes it."""
        size = len(self._passages)
        return math.log((size + 1) / (self._frequency.get(term, 0) + 0.5)) if size else 0.0

    def _scores(self, queries: Sequence[Any], rows: np.ndarray | None,
                search: Callable[[int, str], list[list[dict]]], bm25: bool) -> np.ndarray:
        wanted = np.arange(len(self._passages)) if rows is None else np.asarray(rows, dtype=np.int64)
        scores = np.full((len(queries), len(wanted)), np.nan, dtype=np.float32)
        if not len(queries) or not len(wanted) or not self._ready:
            return np.zeros_like(scores)
        where = "" if rows is None else f"pid in {json.dumps([self._pids[r] for r in wanted])}"
        column = {int(row): i for i, row in enumerate(wanted)}
        for q, hits in enumerate(search(_depth(len(wanted)), where)):
            for hit in hits:
                row = self._row_of.get(hit["entity"]["pid"])
                if row is not None and row in column:
                    scores[q, column[row]] = _score(hit, bm25)
            missing = np.isnan(scores[q])
            if missing.any():  # not returned: no query term (BM25), or beyond the search's depth
                found = scores[q, ~missing]
                deep = len(found) >= MAX_DEPTH
                scores[q, missing] = float(found.min()) if len(found) and (deep or not bm25) else 0.0
        return scores

    def _filter(self, allowed: np.ndarray | None) -> str:
        """A Milvus filter keeping the articles that have an allowed row (filters are per article)."""
        if allowed is None:
            return ""
        keys = sorted({self._keys[row] for row in np.flatnonzero(allowed)})
        return f"article in {json.dumps(keys)}" if keys else 'article == ""'

    def _candidates(self, hits: Sequence[dict], allowed: np.ndarray | None, k: int, bm25: bool) -> Candidates:
        rows, scores = [], []
        for hit in hits:
            row = self._row_of.get(hit["entity"]["pid"])
            if row is None or (allowed is not None and not allowed[row]):
                continue  # rows of articles this process does not have (another part's), or filtered out
            rows.append(row)
            scores.append(_score(hit, bm25))
        order = sorted(range(len(rows)), key=lambda i: (-scores[i], rows[i]))[:k]
        return Candidates(np.asarray([rows[i] for i in order], dtype=np.int64),
                          np.asarray([scores[i] for i in order], dtype=np.float32))

    # --- plumbing ---------------------------------------------------------------------------------------

    def _open_collections(self) -> bool:
        """Load the collections if they exist (and learn their vector size); False if they do not."""
        if not self._ready:
            if not (self._call("has_collection", self.collection) and self._call("has_collection", self.ledger)):
                return False
            fields = self._call("describe_collection", self.collection)["fields"]
            self._dimension = next(int(f["params"]["dim"]) for f in fields if f["name"] == "dense")
            self._load()
            self._ready = True
        return True

    def _load(self) -> None:
        """Load both collections unless they are loaded already (an operator may have loaded them with
        several replicas, which a plain load would contradict)."""
        for name in (self.collection, self.ledger):
            if getattr(self._call("get_load_state", name).get("state"), "name", "") != "Loaded":
                self._call("load_collection", name)

    def _create_collections(self, dimension: int) -> None:
        from pymilvus import DataType, Function, FunctionType, MilvusClient

        self._dimension = dimension
        if not self._call("has_collection", self.collection):
            schema = MilvusClient.create_schema(auto_id=False)
            schema.add_field("id", DataType.VARCHAR, is_primary=True, max_length=64)
            schema.add_field("pid", DataType.VARCHAR, max_length=48)
            schema.add_field("article", DataType.VARCHAR, max_length=24)
            # Pre-stemmed, stop-word-free terms joined by spaces: Milvus's BM25 then counts exactly the terms
            # the embedded store's BM25 counts, whatever analyzers the server offers (milvus-lite has no
            # stemmer).
            schema.add_field("terms", DataType.VARCHAR, max_length=65535, enable_analyzer=True,
                             analyzer_params={"tokenizer": "standard"})
            schema.add_field("sparse", DataType.SPARSE_FLOAT_VECTOR)
            schema.add_field("dense", DataType.FLOAT_VECTOR, dim=dimension)
            schema.add_function(Function(name="bm25", function_type=FunctionType.BM25,
                                         input_field_names=["terms"], output_field_names=["sparse"]))
            indexes = MilvusClient.prepare_index_params()
            indexes.add_index(field_name="dense", index_type="AUTOINDEX", metric_type="COSINE")
            indexes.add_index(field_name="sparse", index_type="SPARSE_INVERTED_INDEX", metric_type="BM25",
                              params={"bm25_k1": 1.5, "bm25_b": 0.75})
            indexes.add_index(field_name="article", index_type="INVERTED")
            indexes.add_index(field_name="pid", index_type="INVERTED")
            self._call("create_collection", self.collection, schema=schema, index_params=indexes,
                       consistency_level="Strong")
            log.info("created Milvus collection %s at %s", self.collection, self.address.shown)
        if not self._call("has_collection", self.ledger):
            schema = MilvusClient.create_schema(auto_id=False)
            schema.add_field("key", DataType.VARCHAR, is_primary=True, max_length=24)
            schema.add_field("path", DataType.VARCHAR, max_length=4096)
            schema.add_field("hash", DataType.VARCHAR, max_length=64)
            schema.add_field("sentences", DataType.INT64)
            schema.add_field("marker", DataType.FLOAT_VECTOR, dim=2)  # Milvus wants a vector field
            indexes = MilvusClient.prepare_index_params()
            indexes.add_index(field_name="marker", index_type="FLAT", metric_type="L2")
            self._call("create_collection", self.ledger, schema=schema, index_params=indexes,
                       consistency_level="Strong")
        self._load()
        self._ready = True

    def _scan(self, collection: str, fields: list[str], where: str = "") -> Iterator[dict]:
        iterator = self._call("query_iterator", collection, batch_size=1000, filter=where, output_fields=fields)
        try:
            while True:
                rows = _guard(self.address, "read", iterator.next)
                if not rows:
                    return
                yield from rows
        finally:
            iterator.close()

    def _call(self, method: str, *args: Any, **kwargs: Any) -> Any:
        if method != "query_iterator":
            kwargs.setdefault("timeout", CALL_TIMEOUT)
        function = getattr(self._client, method)
        return _guard(self.address, method, lambda: function(*args, **kwargs))


def connect(address: MilvusAddress) -> Any:
    """A pymilvus MilvusClient for `address`, or a StoreError saying what to install or start."""
    try:
        from pymilvus import MilvusClient
    except ImportError:
        raise StoreError("the Milvus store needs pymilvus: pip install -e '.[milvus]' in the newsqa folder") from None
    # pymilvus logs each failed connection attempt itself; the one-line StoreError below says it all.
    logging.getLogger("pymilvus").setLevel(logging.CRITICAL)
    try:
        # pymilvus pings every 10 s even when idle; servers built on grpc's defaults (milvus-lite) then close
        # the connection ("too_many_pings") and grpc prints that on stderr, over the chat. Every 5 minutes
        # is what those defaults accept.
        return MilvusClient(uri=address.uri, token=address.token, timeout=CONNECT_TIMEOUT,
                            grpc_options={"grpc.keepalive_time_ms": KEEPALIVE_MS})
    except Exception as error:  # pymilvus raises MilvusException, grpc errors or OSError here
        raise StoreError(f"cannot reach Milvus at {address.shown} ({_reason(error)}): start the server "
                         f"(for a local one: milvus-lite server --host 127.0.0.1 --data-dir DIR --port PORT) or fix --store / "
                         "QA_STORE") from None


def _guard(address: MilvusAddress, what: str, call: Callable[[], Any]) -> Any:
    try:
        return call()
    except QAError:
        raise
    except Exception as error:
        raise StoreError(f"Milvus at {address.shown} failed to {what.replace('_', ' ')}: {_reason(error)}") \
            from None


def _reason(error: Exception) -> str:
    message = getattr(error, "message", None) or str(error) or type(error).__name__
    return " ".join(str(message).split())[:300]


def article_key(path: str) -> str:
    return hashlib.sha1(path.encode("utf-8")).hexdigest()[:20]


def passage_id(path: str, start: int) -> str:
    return f"{article_key(path)}:{start}"


def _ledger_row(article: Article, passages: Sequence[Passage]) -> dict:
    return {"key": article_key(article.path), "path": article.path, "hash": article.content_hash,
            "sentences": sum(len(p.sentences) for p in passages), "marker": [1.0, 0.0]}


def _sentence_rows(batch: Sequence[Article], passages: Mapping[str, list[Passage]],
                   terms_of: Mapping[str, list[str]]) -> tuple[list[dict], list[str]]:
    """One row per sentence (without its vector yet) and the sentences' texts, in the same order."""
    rows, texts = [], []
    for article in batch:
        key = article_key(article.path)
        for passage in passages[article.doc_id]:
            pid = passage_id(article.path, passage.start)
            # A passage of stop words only still needs a term: Milvus refuses an empty BM25 input.
            terms = " ".join(terms_of[pid]) or "-"
            for number, span in enumerate(passage.sentences):
                text = article.text[span.start : span.end]
                rows.append({"id": f"{pid}:{number}:{text_digest(text):016x}", "pid": pid, "article": key,
                             "terms": terms})
                texts.append(text)
    return rows, texts


def _reuse_key(row_id: str) -> tuple[str, str] | None:
    """(article key, text digest) of a sentence row's id "ARTICLE:START:NUMBER:DIGEST"; None for an id written
    before ids carried the digest ("ARTICLE:START:NUMBER")."""
    parts = row_id.split(":")
    return (parts[0], parts[3]) if len(parts) == 4 else None


def _sentence_count(passages: Sequence[Passage]) -> int:
    return sum(len(p.sentences) for p in passages)


def _score(hit: dict, bm25: bool) -> float:
    # BM25 scores are never negative; milvus-lite hands them back negated, a Milvus server does not.
    return abs(float(hit["distance"])) if bm25 else float(hit["distance"])


def _depth(depth: int) -> int:
    return max(1, min(int(depth), MAX_DEPTH))


def _article_batches(articles: Sequence[Article], passages: Mapping[str, Sequence[Passage]],
                     rows: int) -> Iterator[list[Article]]:
    batch: list[Article] = []
    size = 0
    for article in articles:
        batch.append(article)
        size += sum(len(p.sentences) for p in passages[article.doc_id])
        if size >= rows:
            yield batch
            batch, size = [], 0
    if batch:
        yield batch
