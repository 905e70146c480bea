"""Settings: one frozen dataclass with defaults, overridable by `QA_*` environment variables and CLI flags."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any, Literal

from .errors import QAError
from .storeurl import check_store

Method = Literal["bm25", "dense", "hybrid", "rrf"]
METHODS: tuple[Method, ...] = ("bm25", "dense", "hybrid", "rrf")

DEFAULT_MODEL = "all-MiniLM-L6-v2"


def _default_corpus() -> Path:
    """`./seeds` when run from a checkout, else the seeds folder shipped beside the package."""
    here = Path("seeds")
    if here.is_dir():
        return here
    return Path(__file__).resolve().parents[1] / "seeds"


def _default_cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "newsqa"


@dataclass(frozen=True, slots=True)
class Settings:
    # Folder of .txt/.md/.html articles and .jsonl(.gz) exports to answer from, or one such file (QA_CORPUS).
    corpus: Path = field(default_factory=_default_corpus)
    # Embedding model: the bundled all-MiniLM-L6-v2, a local sentence-transformers folder, or the name of
    # a model already in the local Hugging Face cache (QA_MODEL). Nothing is ever downloaded.
    model: str = DEFAULT_MODEL
    # Where the index lives; default: `.qa-index` inside the corpus folder (QA_INDEX_DIR).
    index_dir: Path | None = None
    # Where the bundled model is unpacked once (QA_CACHE_DIR).
    cache_dir: Path = field(default_factory=_default_cache_dir)
    # Passage size in words: passages end on sentence boundaries and stay inside the model's window.
    min_words: int = 60
    max_words: int = 180
    # Retrieval: which scorer ranks passages, and the dense share of the hybrid score (0..1).
    method: Method = "hybrid"
    dense_weight: float = 0.7
    # Texts per encode batch when indexing.
    batch_size: int = 32
    # Where the embedding model runs (QA_DEVICE, --device): "cpu" (the default), or a GPU torch can see,
    # "cuda", "cuda:N" or "mps", to index a large archive faster (with QA_BATCH_SIZE=256 or so).
    device: str = "cpu"
    # Reading model of the `strict` and `server` readers. `llm_url`: an OpenAI-compatible server (QA_LLM_URL,
    # e.g. http://127.0.0.1:11434 for Ollama; its key comes from OPENAI_API_KEY). `llm_model`: the model the
    # server should run (QA_LLM_MODEL); without a server, the local model (qwen2.5-coder-1.5b, the default, or
    # qwen2.5-coder-0.5b). `llm_timeout`: seconds to wait for one reply (QA_LLM_TIMEOUT).
    llm_url: str = ""
    llm_model: str = ""
    llm_timeout: float = 60.0
    # Where the index lives: "embedded" (files in index_dir) or a Milvus server, milvus://HOST:PORT[/NAME]
    # (QA_STORE, --store).
    store: str = "embedded"
    # Who reads the passages and answers (QA_READER, --reader): "extractive" (the default, learned ranker),
    # "strict" (+ a local LLM judge), "server" (+ an OpenAI-compatible server). See qa/reader/registry.py.
    reader: str = "extractive"
    # Sentences embedded between two commits while indexing (QA_COMMIT_EVERY): an interrupted `qa index`
    # resumes from the last commit, so it loses at most this much work.
    commit_every: int = 2048
    # Find syndicated copies (one story at several outlets or addresses) when opening the corpus, and show
    # each story once, citing every copy (QA_FIND_COPIES=0 turns it off).
    find_copies: bool = True

    def __post_init__(self) -> None:
        check_method(self.method)
        if not 0.0 <= self.dense_weight <= 1.0:
            raise QAError(f"dense_weight must lie between 0 and 1, not {self.dense_weight}")
        if self.batch_size < 1:
            raise QAError(f"batch_size must be at least 1, not {self.batch_size}")
        check_store(self.store)
        if not re.fullmatch(r"cpu|mps|cuda(:\d+)?", self.device):
            raise QAError(f"unknown device {self.device!r}: use cpu, cuda, cuda:N or mps")
        if self.commit_every < 1:
            raise QAError(f"commit_every must be at least 1, not {self.commit_every}")
        if not 10 <= self.min_words <= self.max_words:
            raise QAError(f"passage sizes need 10 <= min_words <= max_words, not {self.min_words}/{self.max_words}")
        if not self.llm_timeout > 0:
            raise QAError(f"llm_timeout must be a positive number of seconds, not {self.llm_timeout}")

    @property
    def index_path(self) -> Path:
        """`index_dir`, else `.qa-index` inside the corpus folder, or `.NAME.qa-index` beside a corpus file."""
        if self.index_dir is not None:
            return self.index_dir
        corpus = Path(self.corpus)
        return corpus.with_name(f".{corpus.name}.qa-index") if corpus.is_file() else corpus / ".qa-index"

    def with_overrides(self, **overrides: Any) -> Settings:
        """A copy with the given fields changed; `None` values are ignored, paths are coerced."""
        changes = {name: value for name, value in overrides.items() if value is not None}
        unknown = set(changes) - {f.name for f in fields(self)}
        if unknown:
            raise QAError(f"unknown setting(s): {', '.join(sorted(unknown))}")
        for name in ("corpus", "index_dir", "cache_dir"):
            if name in changes:
                changes[name] = Path(changes[name]).expanduser()
        return replace(self, **changes)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
        """Defaults, then `QA_*` environment variables, then explicit overrides (e.g. CLI flags)."""
        environ = os.environ if environ is None else environ
        from_env: dict[str, Any] = {}
        for f in fields(cls):
            raw = environ.get(f"QA_{f.name.upper()}")
            if raw is None or raw == "":
                continue
            if f.name in ("min_words", "max_words", "batch_size", "commit_every"):
                from_env[f.name] = _parse(f.name, raw, int)
            elif f.name in ("dense_weight", "llm_timeout"):
                from_env[f.name] = _parse(f.name, raw, float)
            elif f.name == "find_copies":
                from_env[f.name] = raw.strip().lower() not in ("0", "false", "no", "off")
            else:
                from_env[f.name] = raw
        return cls().with_overrides(**from_env).with_overrides(**overrides)


def check_method(method: object) -> Method:
    """`method` if it is a retrieval method; QAError naming the ones there are otherwise."""
    if method not in METHODS:
        raise QAError(f"unknown retrieval method {method!r}: use one of {', '.join(METHODS)}")
    return method  # type: ignore[return-value]


def _parse(name: str, raw: str, kind: type) -> Any:
    try:
        return kind(raw)
    except ValueError:
        raise QAError(f"QA_{name.upper()}={raw!r} is not a valid {kind.__name__}") from None
