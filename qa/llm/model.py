"""A reading model: judges whether quoted evidence answers a question, and writes short cited answers."""

from __future__ import annotations

import logging
import math
import re
import threading
from collections.abc import Sequence
from typing import Any, Protocol, runtime_checkable

from .activity import working
from .backends import Backend
from .prompts import judge_messages, writer_messages
from .verify import split_cited, verified

log = logging.getLogger(__name__)

TOP_LOGPROBS = 10
WRITE_TOKENS = 160
# A server that returns no token probabilities still says yes or no; its verdict then counts as this sure.
PLAIN_VERDICT = 0.9
_VERDICT = re.compile(r"^\W*(yes|no)\b", re.IGNORECASE)


@runtime_checkable
class ReadingModel(Protocol):
    def judge(self, question: str, evidence: Sequence[str]) -> float:
        """P(the evidence answers the question), 0..1."""
        ...

    def write(self, question: str, quotes: Sequence[str]) -> list[tuple[str, tuple[int, ...]]]:
        """Short answer sentences in the model's own words, each with the 1-based numbers of its quotes."""
        ...


class ChatReadingModel:
    """A `ReadingModel` over any chat backend; counts replies it could not read (`format_errors`) and written
    sentences it dropped because the cited quotes do not hold their names, numbers or dates (`dropped`).
    Each request is announced to a listener of `qa.llm.activity.reporting` on the asking thread (the chat shows
    "Checking…"), which may also cancel it."""

    def __init__(self, backend: Backend) -> None:
        self.backend = backend
        self.name = backend.name
        self.format_errors = 0
        self.dropped = 0
        self.calls = 0
        self._count = threading.Lock()

    def judge(self, question: str, evidence: Sequence[str]) -> float:
        if not evidence:
            return 0.0
        request = {"messages": judge_messages(question, evidence), "max_tokens": 1, "temperature": 0,
                   "logprobs": True, "top_logprobs": TOP_LOGPROBS}
        response = self._ask("Checking…", request)
        probability = verdict_probability(response)
        if probability is None:
            self._tally(format_error=True)
            log.warning("%s gave no yes/no verdict: %r", self.name, _content(response)[:80])
            return 0.5
        return probability

    def write(self, question: str, quotes: Sequence[str]) -> list[tuple[str, tuple[int, ...]]]:
        if not quotes:
            return []
        request = {"messages": writer_messages(question, quotes), "max_tokens": WRITE_TOKENS, "temperature": 0}
        reply = _content(self._ask("Writing…", request)).strip()
        if not reply or reply.strip(". ").upper() == "NONE":
            return []
        cited = [pair for pair in split_cited(reply) if pair[1]]
        kept = verified(reply, quotes)
        self._tally(format_error=not cited, dropped=len(cited) - len(kept))
        if len(kept) < len(cited):
            log.info("dropped %d written sentence(s) the quotes do not support", len(cited) - len(kept))
        return kept

    def _ask(self, activity: str, request: dict[str, Any]) -> dict[str, Any]:
        with working(activity):
            try:
                return self.backend.chat(request)
            finally:
                with self._count:
                    self.calls += 1

    def _tally(self, format_error: bool = False, dropped: int = 0) -> None:
        with self._count:
            self.format_errors += int(format_error)
            self.dropped += dropped


def _content(response: dict[str, Any]) -> str:
    try:
        return str(response["choices"][0]["message"]["content"] or "")
    except (KeyError, IndexError, TypeError):
        return ""


def verdict_probability(response: dict[str, Any]) -> float | None:
    """P(yes) from the first token's top log-probabilities, yes against no; from the text when the server
    sends none; None when the reply is neither."""
    try:
        first = response["choices"][0]["logprobs"]["content"][0]
        candidates = first.get("top_logprobs") or [first]
    except (KeyError, IndexError, TypeError):
        candidates = []
    mass = {"yes": 0.0, "no": 0.0}
    for candidate in candidates:
        token = str(candidate.get("token", "")).strip().lower()
        if token in mass and candidate.get("logprob") is not None:
            mass[token] += math.exp(float(candidate["logprob"]))
    if mass["yes"] + mass["no"] > 0:
        return mass["yes"] / (mass["yes"] + mass["no"])
    match = _VERDICT.match(_content(response))
    if match is None:
        return None
    return PLAIN_VERDICT if match.group(1).lower() == "yes" else 1 - PLAIN_VERDICT
