"""Loading a retriever off the UI thread: the progress reporter a loader gets, and the default loader."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from textual.worker import Worker

from .messages import LoadPhase, LoadProgress, LoadWarning

if TYPE_CHECKING:
    from textual.app import App

    from qa import Retriever, Settings
    from qa.embedding import Embedder

log = logging.getLogger(__name__)


class LoadCancelled(Exception):
    """Raised inside a loader when its worker was cancelled (the app quit, or a newer load started)."""


class Reporter(Protocol):
    """What a loader may report. It is also a plain `progress(done, total)` callback for the library."""

    def __call__(self, done: int, total: int) -> None: ...

    def phase(self, text: str) -> None: ...


Loader = Callable[[Path, Reporter], "Retriever"]
"""Open the retriever of a corpus folder, reporting progress; runs in a thread worker."""


class LoadReporter:
    """Posts a loader's progress to the app, and stops the loader once its worker is cancelled."""

    def __init__(self, app: App, worker: Worker, generation: int) -> None:
        self._app = app
        self._worker = worker
        self._generation = generation

    def __call__(self, done: int, total: int) -> None:
        self._check()
        self._app.post_message(LoadProgress(self._generation, done, total))

    def phase(self, text: str) -> None:
        self._check()
        self._app.post_message(LoadPhase(self._generation, text))

    def waiting(self) -> None:
        """Called while the index waits for another process's lock: stops the wait once the app quits."""
        self._check()

    def warn(self, text: str) -> None:
        """Something the user should know once the folder is open (its index is kept elsewhere, rebuilt ...)."""
        self._app.post_message(LoadWarning(self._generation, text))

    def _check(self) -> None:
        # Raising from the library's progress callback is the only way to stop an embedding run early,
        # and it must stop: the process cannot exit while this thread is still embedding.
        if self._worker.is_cancelled:
            raise LoadCancelled


def describe_error(error: BaseException) -> str:
    """One line for people: the message of a QAError, or the exception's type and message otherwise."""
    try:
        from qa import QAError
    except ImportError:  # qa itself failed to import: that is the error to report
        QAError = ()  # noqa: N806

    if isinstance(error, QAError):
        return str(error)
    return f"{type(error).__name__}: {error}" if str(error) else type(error).__name__


def folder_loader(settings: Settings) -> Loader:
    """The real loader: load the model once, then open (or build, or update) the index of a folder.

    The model is shared by every corpus the app opens, so re-indexing or switching corpus does not load
    it again.
    """
    embedder: Embedder | None = None

    def load(corpus: Path, progress: Reporter) -> Retriever:
        nonlocal embedder
        from qa import QAError, Retriever  # imports numpy, bm25s ...: here, in the worker, not before the first paint
        from qa.embedding import Embedder, locate_model

        if Path(corpus).resolve() == Path(settings.corpus).resolve():
            chosen = replace(settings, corpus=Path(corpus))
        else:  # another folder gets its own index (beside its articles, or in the user cache when read-only),
            chosen = replace(settings, corpus=Path(corpus), index_dir=None)  # not the first corpus's index_dir
        if embedder is None:
            progress.phase("Loading model…")
            model = Embedder(locate_model(chosen.model, chosen.cache_dir), chosen.device)
            model.load()
            embedder = model
        progress.phase(f"Opening the articles in {chosen.corpus}…")
        with _index_warnings_shown(progress):  # "… being written by another newsqa process (pid N); waiting"
            retriever = Retriever.from_settings(chosen, progress=progress, embedder=embedder)
        log.info("opened %s: %s", chosen.corpus, retriever.report)
        # The reader loads its models now (a language model, the cross-encoder), not at the first question.
        progress.phase(f"Loading the {chosen.reader} reader…")
        try:
            retriever.reader().prepare(retriever)
        except QAError as error:  # said now, and again when a question needs it
            log.warning("the %s reader cannot be used: %s", chosen.reader, error)
            warn = getattr(progress, "warn", None)
            if warn is not None:
                warn(f"The {chosen.reader} reader cannot be used: {error}")
        return retriever

    return load


@contextmanager
def _index_warnings_shown(progress: Reporter) -> Iterator[None]:
    """While this thread opens a folder, what the library says as a warning, as the command line prints it:
    the index's (another process holds its lock, it is being rebuilt and why) in the status line as it
    happens, and every one (the index kept in the user cache, a file name that is not UTF-8 ...) as a toast.
    Skipped files are not among them: the app lists those from the retriever's report."""
    thread = threading.get_ident()
    warn = getattr(progress, "warn", None)

    class Shown(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            if record.thread != thread or record.levelno < logging.WARNING or record.name == "qa.articles":
                return
            if record.name == "qa.index":
                with suppress(LoadCancelled):  # a cancelled load stops at its next progress call
                    progress.phase(record.getMessage())
            if warn is not None:
                warn(record.getMessage())

    handler = Shown()
    library_log = logging.getLogger("qa")
    library_log.addHandler(handler)
    try:
        yield
    finally:
        library_log.removeHandler(handler)
