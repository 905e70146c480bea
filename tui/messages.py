"""Messages the app's thread workers post to the UI thread (post_message is thread-safe; widgets are not)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from textual.message import Message

if TYPE_CHECKING:
    from qa import Retriever

    from .conversation import Exchange


class LoadWarning(Message):
    """The library warned while opening the folder (the index is kept in the user cache, it was rebuilt ...)."""

    def __init__(self, generation: int, text: str) -> None:
        super().__init__()
        self.generation = generation
        self.text = text


class LoadPhase(Message):
    """The loader started a new step ("Loading model…")."""

    def __init__(self, generation: int, text: str) -> None:
        super().__init__()
        self.generation = generation
        self.text = text


class LoadProgress(Message):
    """The loader embedded `done` of `total` passages."""

    def __init__(self, generation: int, done: int, total: int) -> None:
        super().__init__()
        self.generation = generation
        self.done = done
        self.total = total


class RetrieverReady(Message):
    """The retriever of `corpus` is loaded and indexed."""

    def __init__(self, generation: int, retriever: Retriever, corpus: Path) -> None:
        super().__init__()
        self.generation = generation
        self.retriever = retriever
        self.corpus = corpus


class LoadFailed(Message):
    """Loading failed; `text` is one line for people."""

    def __init__(self, generation: int, corpus: Path, text: str) -> None:
        super().__init__()
        self.generation = generation
        self.corpus = corpus
        self.text = text


class AnswerReady(Message):
    """The question of turn `turn_id` has its answer."""

    def __init__(self, turn_id: int, exchange: Exchange) -> None:
        super().__init__()
        self.turn_id = turn_id
        self.exchange = exchange


class AskActivity(Message):
    """A reading model started (`text`, e.g. "Checking…") or finished ("") work on turn `turn_id`."""

    def __init__(self, turn_id: int, text: str) -> None:
        super().__init__()
        self.turn_id = turn_id
        self.text = text


class AskFailed(Message):
    """Asking the question of turn `turn_id` raised; `text` is one line for people."""

    def __init__(self, turn_id: int, text: str) -> None:
        super().__init__()
        self.turn_id = turn_id
        self.text = text


class ReaderReady(Message):
    """The reader chosen in the palette is built (its model loaded) and answers the next questions."""

    def __init__(self, name: str) -> None:
        super().__init__()
        self.name = name


class ReaderUnavailable(Message):
    """The reader chosen in the palette cannot be built (its extra is not installed, no server address ...)."""

    def __init__(self, name: str, previous: str | None, text: str) -> None:
        super().__init__()
        self.name = name
        self.previous = previous
        self.text = text
