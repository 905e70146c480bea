"""Where a reading model runs: in this process (llama.cpp through xllamacpp) or on an OpenAI-compatible server.

Both take an OpenAI chat-completions request (a dict) and return the response (a dict)."""

from __future__ import annotations

import http.client
import json
import logging
import os
import secrets
import threading
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urlsplit

from .weights import LLMError, PartedWeights, assemble

log = logging.getLogger(__name__)

INSTALL_HINT = 'pip install -e ".[strict]" in the newsqa folder'
# llama.cpp keeps the prompts it has processed to reuse their prefix; its default cache (8 GiB) grew the 1.5B
# process from 1.9 to 2.8 GB. Our prompts share only the system message, so a small cache keeps its benefit.
PROMPT_CACHE_MIB = 32
CONTEXT_TOKENS = 2048


class Backend(Protocol):
    name: str

    def chat(self, request: dict[str, Any]) -> dict[str, Any]: ...


class LocalBackend:
    """A GGUF model run in this process by llama.cpp; loaded once, kept warm, one request at a time.

    llama.cpp also opens an OpenAI-compatible HTTP listener on 127.0.0.1 (`url`); it is locked with a random key
    (`api_key`) so that only this process, or whom it tells, can use it."""

    def __init__(self, weights: PartedWeights, cache_dir: Path, threads: int | None = None) -> None:
        self.weights = weights
        self.name = weights.name
        self.cache_dir = Path(cache_dir)
        self.threads = threads or max(1, min(4, os.cpu_count() or 1))
        self.api_key = secrets.token_urlsafe(24)
        self._server: Any = None
        self._lock = threading.Lock()

    def load(self) -> None:
        """Assemble the weights if needed and load the model now (otherwise the first request does)."""
        with self._lock:
            self._load_locked()

    def _load_locked(self) -> None:
        if self._server is not None:
            return
        try:
            import xllamacpp
        except ImportError:
            raise LLMError(f"the local reading model needs llama.cpp: {INSTALL_HINT}") from None
        path = assemble(self.weights, self.cache_dir)
        params = xllamacpp.CommonParams()
        params.model.path = str(path)
        params.n_ctx = CONTEXT_TOKENS
        params.n_parallel = 1
        params.cpuparams.n_threads = self.threads
        params.cpuparams_batch.n_threads = self.threads
        params.cache_ram_mib = PROMPT_CACHE_MIB
        params.warmup = False
        params.verbosity = -1
        params.hostnames = ["127.0.0.1"]
        params.api_keys = [self.api_key]
        log.info("loading %s with %d threads", path.name, self.threads)
        try:
            self._server = xllamacpp.Server(params)
        except Exception as error:  # llama.cpp reports a bad file as a RuntimeError or ValueError
            raise LLMError(f"llama.cpp cannot load {path}: {error}") from error

    @property
    def url(self) -> str:
        """The loopback address of the loaded model's OpenAI-compatible listener."""
        self.load()
        return str(self._server.listening_address)

    def chat(self, request: dict[str, Any]) -> dict[str, Any]:
        with self._lock:
            self._load_locked()
            response = self._server.handle_chat_completions(dict(request))
        if isinstance(response, str):
            response = json.loads(response)
        if not isinstance(response, dict) or "error" in response:
            message = response.get("error") if isinstance(response, dict) else response
            raise LLMError(f"the local model failed: {_short(message)}")
        return response

    def close(self) -> None:
        with self._lock:
            self._server = None


class ServerBackend:
    """An OpenAI-compatible chat-completions endpoint (Ollama, llama.cpp server, vLLM, hosted APIs)."""

    def __init__(self, url: str, model: str = "", api_key: str | None = None, timeout: float = 30.0) -> None:
        url = url.rstrip("/")
        if not url.startswith(("http://", "https://")):
            raise LLMError(f"--llm-url {url!r} is not an http:// or https:// address")
        try:
            parts = urlsplit(url)
            parts.port  # noqa: B018  (reading it checks it: "h:abc" and ports over 65535 raise here)
        except ValueError as error:
            raise LLMError(f"--llm-url {url!r} is not a usable address: {error}") from None
        if not parts.hostname:
            raise LLMError(f"--llm-url {url!r} names no host")
        for suffix in ("/chat/completions", "/v1"):
            if url.endswith(suffix):
                url = url[: -len(suffix)]
        self.base = url
        self.endpoint = f"{url}/v1/chat/completions"
        self.model = model
        self.name = model or url
        self.api_key = os.environ.get("OPENAI_API_KEY") if api_key is None else api_key
        self.timeout = timeout

    def chat(self, request: dict[str, Any]) -> dict[str, Any]:
        body = dict(request)
        if self.model:
            body["model"] = self.model
        headers = {"Content-Type": "application/json", "Accept": "application/json"}
        if self.api_key:
            headers["Authorization"] = f"Bearer {self.api_key}"
        http_request = urllib.request.Request(self.endpoint, data=json.dumps(body).encode(), headers=headers)
        try:
            with urllib.request.urlopen(http_request, timeout=self.timeout) as reply:
                payload = reply.read()
        except urllib.error.HTTPError as error:
            detail = _short(_error_text(error))
            hint = " (set OPENAI_API_KEY)" if error.code in (401, 403) else ""
            raise LLMError(f"the model server at {self.base} answered HTTP {error.code}{hint}: {detail}") from None
        except TimeoutError:
            raise LLMError(f"the model server at {self.base} did not answer within {self.timeout:g} s "
                           f"(raise it with QA_LLM_TIMEOUT)") from None
        except (ValueError, http.client.HTTPException) as error:  # an address urllib cannot use after all
            raise LLMError(f"cannot ask the model server at {self.base}: {_short(error)}") from None
        except (urllib.error.URLError, OSError) as error:
            reason = getattr(error, "reason", error)
            if isinstance(reason, TimeoutError):
                raise LLMError(f"the model server at {self.base} did not answer within {self.timeout:g} s "
                               f"(raise it with QA_LLM_TIMEOUT)") from None
            raise LLMError(f"cannot reach the model server at {self.base}: {_short(reason)}") from None
        try:
            response = json.loads(payload)
        except ValueError:
            raise LLMError(f"the model server at {self.base} did not answer with JSON: {_short(payload[:200])}") from None
        if not isinstance(response, dict):
            raise LLMError(f"the model server at {self.base} sent an unexpected reply: {_short(response)}")
        return response


def _error_text(error: urllib.error.HTTPError) -> str:
    try:
        body = json.loads(error.read() or b"{}")
    except ValueError:
        return str(error.reason)
    detail = body.get("error", body) if isinstance(body, dict) else body
    if isinstance(detail, dict):
        detail = detail.get("message", detail)
    return str(detail) or str(error.reason)


def _short(value: object, limit: int = 160) -> str:
    text = " ".join(str(value).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"
