"""Reading models: a local llama.cpp model or an OpenAI-compatible server that judges and writes answers.

    from qa.llm import local_model, server_model
    model = local_model(settings)             # Qwen2.5-Coder-1.5B in this process (pip install -e ".[strict]")
    model.judge(question, evidence)           # P(the evidence answers the question)
    model.write(question, quotes)             # [(sentence, (quote numbers…)), …], checked against the quotes

Importing this package imports neither llama.cpp nor the network."""

from __future__ import annotations

import threading
from pathlib import Path

from ..settings import Settings
from ..threads import usable_cores
from .backends import LocalBackend, ServerBackend
from .model import ChatReadingModel, ReadingModel
from .weights import DEFAULT_LOCAL_MODEL, MODELS, LLMError, assemble

_LOCAL: dict[tuple[str, Path], LocalBackend] = {}
_LOCAL_LOCK = threading.Lock()


def local_backend(settings: Settings) -> LocalBackend:
    """The local model named by `settings.llm_model` (default qwen2.5-coder-1.5b), shared by the whole process
    so it is loaded once and stays warm."""
    name = settings.llm_model or DEFAULT_LOCAL_MODEL
    if name not in MODELS:
        raise LLMError(f"unknown local model {name!r}: use one of {', '.join(MODELS)}, or point --llm-url at a "
                       f"server that runs it")
    key = (name, Path(settings.cache_dir))
    with _LOCAL_LOCK:
        if key not in _LOCAL:
            # Every core the process may use, up to four (llama.cpp gains little beyond): while the model reads,
            # nothing else of newsqa runs. On 2 cores one verdict took 1.4 s on two threads, 2.9 s on one.
            _LOCAL[key] = LocalBackend(MODELS[name], settings.cache_dir, max(1, min(4, usable_cores())))
        return _LOCAL[key]


def local_model(settings: Settings) -> ChatReadingModel:
    """A reading model over the local llama.cpp model (loaded on first use; `model.backend.load()` loads now)."""
    return ChatReadingModel(local_backend(settings))


def server_model(settings: Settings) -> ChatReadingModel:
    """A reading model over the OpenAI-compatible server at `settings.llm_url` (key from OPENAI_API_KEY)."""
    if not settings.llm_url:
        raise LLMError("the server reader needs a model server: pass --llm-url URL (QA_LLM_URL; in the library "
                       "Settings(llm_url=...)), e.g. http://127.0.0.1:11434 for Ollama, and --llm-model NAME")
    return ChatReadingModel(ServerBackend(settings.llm_url, settings.llm_model, timeout=settings.llm_timeout))


__all__ = [
    "ChatReadingModel",
    "LLMError",
    "LocalBackend",
    "ReadingModel",
    "ServerBackend",
    "assemble",
    "local_backend",
    "local_model",
    "server_model",
]
