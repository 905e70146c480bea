"""What a reading model is doing, told to whoever asked on this thread, and a way for them to cancel it."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass

from .weights import LLMError


class Cancelled(LLMError):
    """The person who asked cancelled the question while a reading model was about to work on it."""


@dataclass(frozen=True, slots=True)
class _Listener:
    tell: Callable[[str], None]
    cancelled: Callable[[], bool]


_current: ContextVar[_Listener | None] = ContextVar("qa_llm_activity", default=None)


@contextmanager
def reporting(tell: Callable[[str], None], cancelled: Callable[[], bool] = lambda: False) -> Iterator[None]:
    """While inside, reading models working on this thread call `tell("Checking…")` (or "Writing…") before each
    request and `tell("")` after it, and raise `Cancelled` instead of starting a request once `cancelled()`."""
    token = _current.set(_Listener(tell, cancelled))
    try:
        yield
    finally:
        _current.reset(token)


@contextmanager
def working(activity: str) -> Iterator[None]:
    """Wrap one request of a reading model: say what it does, and refuse to start after a cancel."""
    listener = _current.get()
    if listener is None:
        yield
        return
    if listener.cancelled():
        raise Cancelled("cancelled")
    listener.tell(activity)
    try:
        yield
    finally:
        listener.tell("")
