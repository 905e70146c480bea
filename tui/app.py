"""The newsqa chat: ask questions about a folder of articles, read cited answers, open their sources.

The retriever is injected as a loader so tests can pass a small fake; it runs in a thread worker, so the
window appears at once while the model loads and the index is opened or built.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import sys
import threading
from collections import deque
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

from textual import events, on, work
from textual.app import App
from textual.binding import Binding
from textual.logging import TextualHandler
from textual.notifications import Notification, Notify
from textual.worker import Worker, get_current_worker

from qa.display import plural, printable, printable_data

from .commands import ChatCommands
from .conversation import Exchange, cited_doc_ids
from .export import answer_text, save_conversation
from .loading import LoadCancelled, Loader, LoadReporter, describe_error, folder_loader
from .messages import (
    AnswerReady,
    AskActivity,
    AskFailed,
    LoadFailed,
    LoadPhase,
    LoadProgress,
    LoadWarning,
    ReaderReady,
    ReaderUnavailable,
    RetrieverReady,
)
from .screens.article import ArticleScreen
from .screens.chat import ChatScreen
from .screens.corpus import CorpusScreen
from .screens.help import HelpScreen

if TYPE_CHECKING:  # importing qa costs ~0.5 s (numpy, scipy, bm25s): only the loader, in a worker, does
    from qa import Answer, Retriever, Settings
    from qa.retriever import OpenReport

log = logging.getLogger(__name__)

WAIT_FOR_LOAD = "Queued: answered as soon as the articles are loaded…"
WAIT_FOR_TURN = "Queued: answered after the question before it…"
SEARCHING = "Searching the articles…"
WAIT_FOR_STEP = "Queued: answered once the model finishes the step it is in…"
CANCELLED = "Cancelled."
ANSWERING = "Answering…"


class QAApp(App[None]):
    """Chat with a folder of articles.

    Args:
        load_retriever: opens the retriever of a corpus folder, `load_retriever(corpus, progress)`; called in a
            thread worker. `progress(done, total)` reports embedding progress, `progress.phase(text)` a step.
        corpus: the folder to open first.
        save_dir: where Ctrl+S saves the conversation (default: the current folder).
    """

    CSS_PATH = Path(__file__).with_name("app.tcss")  # absolute, so subclasses elsewhere find it too
    TITLE = "newsqa"
    COMMANDS = App.COMMANDS | {ChatCommands}
    BINDINGS = [
        Binding("ctrl+q", "quit", "Quit", priority=True),
        Binding("f1", "help", "Help"),
    ]

    def __init__(self, load_retriever: Loader, corpus: Path | str, *, save_dir: Path | None = None) -> None:
        super().__init__()
        self._load_retriever = load_retriever
        self.corpus = Path(corpus)
        self.save_dir = save_dir
        self.retriever: Retriever | None = None
        self._nothing_open = False  # the last load failed with no corpus to fall back on: questions are refused
        self._previous: tuple[Retriever, Path] | None = None  # kept while switching corpus, in case the new fails
        self.exchanges: list[Exchange] = []  # the conversation: its answers are the history of follow-ups
        self._queue: deque[tuple[int, str]] = deque()  # (turn id, question) not yet asked
        self._asking: int | None = None  # the turn being answered; one question at a time keeps history whole
        self._ask_worker: Worker | None = None
        self._cancelled: set[int] = set()  # turns cancelled with Escape: their late answers are dropped
        self._next_turn = 1
        self._first_live_turn = 1  # turns before it were cleared: their late answers are dropped
        self._switched_at: int | None = None  # the first turn asked of a folder being switched to
        self._generation = 0  # bumped per load, so a superseded load's messages are ignored
        self._reindexing = 0  # the generation of a re-index asked for in the palette: its result is told
        # Threads loading an index or a model, which may be writing files: quitting waits for them (a cancelled
        # one stops at its next step, or runs on until its model is loaded).
        self._load_threads = 0
        self._loads_done = threading.Condition()
        self.reader: str | None = None  # chosen in the palette; None: the `reader` setting (QA_READER)
        self._preparing: str | None = None  # the reader being built after it was chosen in the palette
        self._opening = False  # a folder is being opened: the status line shows its steps
        self._load_note: str | None = None  # why the status is not a plain "Ready" (a re-index that failed)
        self._chat = ChatScreen()
        self.sub_title = _corpus_label(self.corpus)

    def notify(self, message: str, *, title: str = "", **kwargs) -> None:  # type: ignore[override]
        """Every toast goes through here: file names and error messages in it are shown, never executed."""
        super().notify(printable(message), title=printable(title), **kwargs)

    @on(Notify)
    def _one_toast_per_text(self, message: Notify) -> None:
        """A toast already on screen is not stacked again (a key pressed three times, a warning said by every
        load): copies only cover the question box. Handled before App's own handler, which it can stop."""
        if any(_same_toast(shown, message.notification) for shown in self._notifications):
            message.prevent_default()

    def get_default_screen(self) -> ChatScreen:
        return self._chat

    @property
    def chat(self) -> ChatScreen:
        return self._chat

    async def on_event(self, event: events.Event) -> None:
        if isinstance(event, (events.Key, events.Paste)) and not event.is_forwarded:
            if isinstance(self.screen, ArticleScreen) and self.screen.hands_over(event):
                self.pop_screen()  # the chat is the screen at once: the key goes on to its question box
            if self.screen is self.chat:
                self.chat.route_to_question_box(event)  # before the key is handed to the focused widget
        await super().on_event(event)

    def on_ready(self) -> None:
        # Ready comes after the first frame is on screen: the chat is composed, and loading cannot delay it.
        self._start_loading(self.corpus, "Loading model…")

    # --- loading --------------------------------------------------------------------------------------

    def _start_loading(self, corpus: Path, status: str) -> None:
        self._generation += 1
        self._nothing_open = False
        self._opening = True
        self.chat.say(status)
        self._load(corpus, self._generation)

    @work(thread=True, exclusive=True, group="load", exit_on_error=False)
    def _load(self, corpus: Path, generation: int) -> None:
        worker = get_current_worker()
        try:
            with self._counted_as_loading():
                retriever = self._load_retriever(corpus, LoadReporter(self, worker, generation))
        except LoadCancelled:
            return
        except Exception as error:  # every failure becomes a toast, never a traceback
            log.warning("could not open %s", corpus, exc_info=True)
            if not worker.is_cancelled:
                self.post_message(LoadFailed(generation, corpus, describe_error(error)))
            return
        if not worker.is_cancelled:
            self.post_message(RetrieverReady(generation, retriever, corpus))

    @contextlib.contextmanager
    def _counted_as_loading(self) -> Iterator[None]:
        with self._loads_done:
            self._load_threads += 1
        try:
            yield
        finally:
            with self._loads_done:
                self._load_threads -= 1
                self._loads_done.notify_all()

    @property
    def loading(self) -> bool:
        """Whether a thread is still loading an index or a model (cancelled or not)."""
        with self._loads_done:
            return self._load_threads > 0

    def wait_for_loads(self) -> None:
        """Block until no thread loads an index or a model: one may be writing the index or a model file."""
        with self._loads_done:
            self._loads_done.wait_for(lambda: self._load_threads == 0)

    @on(LoadWarning)
    def _load_warning(self, message: LoadWarning) -> None:
        if message.generation == self._generation:
            self.notify(message.text, severity="warning", timeout=10, markup=False)

    @on(LoadPhase)
    def _load_phase(self, message: LoadPhase) -> None:
        if message.generation == self._generation:
            self.chat.say(message.text)

    @on(LoadProgress)
    def _load_progress(self, message: LoadProgress) -> None:
        if message.generation == self._generation:
            self.chat.status.progress(f"Indexing… {message.done}/{message.total} passages", message.done,
                                      message.total)

    @on(RetrieverReady)
    def _retriever_ready(self, message: RetrieverReady) -> None:
        if message.generation != self._generation:
            return
        self.retriever = message.retriever
        self.corpus = message.corpus
        if self._switched_at is not None:
            self._forget_turns_before(self._switched_at)
        self._previous = None
        self._opening = False
        self._load_note = None
        self.sub_title = _corpus_label(self.corpus)
        report = getattr(message.retriever, "report", None)
        self._show_status()
        if message.generation == self._reindexing:  # the status line alone changes too little to be noticed
            self.notify(_reindex_result(report), title="Re-indexed", markup=False)
        skipped = getattr(report, "newly_skipped", ()) if report is not None else ()  # each is told once
        if skipped:
            names = ", ".join(f"{s.path} ({s.reason})" for s in skipped[:3])
            more = f" and {len(skipped) - 3} more" if len(skipped) > 3 else ""
            self.notify(f"Skipped {plural(len(skipped), 'file')}: {names}{more}", severity="warning", markup=False)
        for turn_id, _ in self._queue:
            self.chat.set_waiting(turn_id, WAIT_FOR_TURN)
        self._ask_next()

    @on(LoadFailed)
    def _load_failed(self, message: LoadFailed) -> None:
        if message.generation != self._generation:
            return
        self._opening = False
        self._switched_at = None
        self.notify(message.text, title=f"Could not open {message.corpus}", severity="error", timeout=10,
                    markup=False)
        if self.retriever is None and self._previous is not None:  # a switch failed: back to where it was
            self.retriever, self.corpus = self._previous
            self._previous = None
            self.sub_title = _corpus_label(self.corpus)
            self._load_note = f"Could not open {message.corpus}; still answering from {self.corpus}"
            self._show_status()
            for turn_id, _ in self._queue:
                self.chat.set_waiting(turn_id, WAIT_FOR_TURN)
            self._ask_next()
        elif self.retriever is not None:
            self._load_note = "Re-indexing failed; still answering from the previous index"
            self._show_status()
        else:
            self.chat.say(f"Could not open {message.corpus}. Ctrl+P: Re-index or Switch corpus", "error")
            self._nothing_open = True
            while self._queue:  # nothing will answer them: say so rather than leave them waiting
                turn_id, _question = self._queue.popleft()
                self.chat.show_error(turn_id, f"{message.corpus} could not be opened")

    # --- asking ---------------------------------------------------------------------------------------

    @on(ChatScreen.QuestionAsked)
    def _question_asked(self, message: ChatScreen.QuestionAsked) -> None:
        if self.retriever is None and self._nothing_open:
            self.notify("No articles are open: Ctrl+P, then Switch corpus or Re-index.", title="Cannot ask that",
                        severity="warning", markup=False)
            self.chat.give_back(message.question)
            return
        turn_id = self._next_turn
        self._next_turn += 1
        self._load_note = None  # "Could not open …; still answering from …" was seen: the next is Answering, Ready
        if self.retriever is None:
            waiting = WAIT_FOR_LOAD
        elif self._queue or (self._asking is not None and self._asking not in self._cancelled):
            waiting = WAIT_FOR_TURN
        elif self._asking is not None:  # cancelled, or cleared away, but its model step is still running
            waiting = WAIT_FOR_STEP
        else:
            waiting = SEARCHING
        self.chat.add_turn(turn_id, message.question, waiting)
        self._queue.append((turn_id, message.question))
        self._ask_next()

    def _ask_next(self) -> None:
        if self._asking is not None or self.retriever is None or not self._queue:
            return
        turn_id, question = self._queue.popleft()
        self._asking = turn_id
        # A reader still being built holds the question until it is ready (the retriever builds it once).
        waits_for_reader = self._preparing is not None and self._preparing == self.reader
        self.chat.set_waiting(turn_id, _waiting_for_reader(self._preparing) if waits_for_reader else SEARCHING)
        self._show_status()
        history = [exchange.answer for exchange in self.exchanges]
        self._ask_worker = self._ask(self.retriever, turn_id, question, history, self.reader)

    @work(thread=True, group="ask", exit_on_error=False)
    def _ask(self, retriever: Retriever, turn_id: int, question: str, history: list[Answer],
             reader: str | None = None) -> None:
        from qa.llm.activity import Cancelled, reporting  # no model or network: the listener a reading model tells

        worker = get_current_worker()
        try:
            from qa.filters import split_filters

            asked, filters = split_filters(question)  # "since:2024-05 outlet:cnn What ..." keeps to those
            given = {k: v for k, v in filters.items() if v is not None}
            why_none = getattr(retriever, "no_article_matches", None)  # a fake retriever in tests may lack it
            unmatched = why_none(**given) if given and why_none is not None else None
            # said in the turn, as the command line says it, not left to a bare "the articles don't say"
            no_match = unmatched[0].upper() + unmatched[1:] if unmatched else ""
            with reporting(lambda text: self.post_message(AskActivity(turn_id, text)), lambda: worker.is_cancelled):
                # a fake retriever in tests may not take `reader`: pass it only when one was chosen
                if reader:
                    given["reader"] = reader
                answer = retriever.ask(asked, history=history, **given)
            articles = {}
            for doc_id in cited_doc_ids(answer):
                try:
                    articles[doc_id] = retriever.article(doc_id)
                except KeyError:
                    log.warning("answer cites %s, which the retriever does not hold", doc_id)
        except Exception as error:
            if isinstance(error, Cancelled):  # Escape, Ctrl+L or quitting stopped the reading model: nothing failed
                log.info("stopped answering %r: cancelled", question)
            else:
                log.warning("could not answer %r", question, exc_info=True)
            self.post_message(AskFailed(turn_id, describe_error(error)))
            return
        # Shown as data: every string of the answer and its articles (titles, names, metadata, text) with its
        # control characters made visible, one for one, so no widget can send them to the terminal.
        self.post_message(AnswerReady(turn_id, printable_data(Exchange(question, answer, articles, no_match))))

    @on(AskActivity)
    def _ask_activity(self, message: AskActivity) -> None:
        # A reading model judging the answer ("Checking…") can take seconds; "" (it finished) keeps the last text.
        if message.text and message.turn_id == self._asking and message.turn_id not in self._cancelled:
            self.chat.set_waiting(message.turn_id, message.text)
            self._show_status(message.text)

    def action_cancel_question(self) -> None:
        """Escape: stop waiting for the question being answered. A reading model's request under way finishes
        in its thread (llama.cpp cannot be interrupted) and is dropped; no further request starts."""
        if self._asking is None or self._asking in self._cancelled:
            return
        self.chat.set_waiting(self._asking, CANCELLED)
        self._stop_asking("Cancelled")

    def _stop_asking(self, done: str | None) -> None:
        """Drop the question being answered; its worker runs on to the end of the model's step, which the status
        line says ("Cancelled; …", when `done` is given) until then."""
        self._cancelled.add(self._asking)
        if self._ask_worker is not None:
            self._ask_worker.cancel()
        if done is not None:
            self.chat.say(f"{done}; the next question waits for the model to finish its current step", "ready")

    @on(AnswerReady)
    def _answer_ready(self, message: AnswerReady) -> None:
        self._finished(message.turn_id)
        if message.turn_id >= self._first_live_turn and message.turn_id not in self._cancelled:
            self.exchanges.append(message.exchange)
            self.chat.show_answer(message.turn_id, message.exchange)
        self._ask_next()

    @on(AskFailed)
    def _ask_failed(self, message: AskFailed) -> None:
        self._finished(message.turn_id)
        if message.turn_id >= self._first_live_turn and message.turn_id not in self._cancelled:
            self.notify(message.text, title="Could not answer", severity="error", markup=False)
            self.chat.show_error(message.turn_id, message.text)
        self._ask_next()

    def _finished(self, turn_id: int) -> None:
        if self._asking == turn_id:
            self._asking = None
            self._ask_worker = None
            self._show_status()  # Ready again (the model is free again, after a cancelled question too)

    def _show_status(self, activity: str = "") -> None:
        """Say in the status line what the chat is doing once its articles are open: loading a reader just chosen
        (a local model takes seconds), answering (`activity`: the step a reading model is in), or Ready. While a
        folder is being opened its own steps are shown instead, and "Cancelled; …" stays until the model's step
        under way ends."""
        if self._opening or self.retriever is None:
            return
        if self._asking is not None and self._asking in self._cancelled:
            return
        if self._preparing is not None:
            waits = " The question waits for it." if self._asking is not None else ""
            self.chat.say(f"Loading the {self._preparing} reader…{waits}")
        elif self._asking is not None:
            self.chat.say(activity or ANSWERING)
        elif self._load_note is not None:
            self.chat.say(self._load_note, "error")
        else:
            self.chat.say(self._ready_text(), "ready")

    def _ready_text(self) -> str:
        """"Ready · 5 articles · 42 passages · reader: strict": what the chat answers from, and who answers."""
        parts = ["Ready"]
        report = getattr(self.retriever, "report", None)
        if report is not None:
            parts += [plural(report.articles, "article"), plural(report.passages, "passage")]
        if self.current_reader:
            parts.append(f"reader: {self.current_reader}")
        return " · ".join(parts)

    @property
    def current_reader(self) -> str | None:
        """The name of the reader that answers the next question (None before any folder says)."""
        return self.reader or getattr(getattr(self.retriever, "settings", None), "reader", None)

    # --- actions (keys and command palette) -----------------------------------------------------------

    def action_clear_chat(self) -> None:
        """Forget the conversation: transcript, queued questions and the history of follow-ups."""
        self._forget_turns_before(self._next_turn, "Cleared")

    def _forget_turns_before(self, turn_id: int, done: str | None = None) -> None:
        """Forget the turns before `turn_id` (Ctrl+L: all of them; a switch of folder: those asked of the old
        one, not those asked while the new one opened): their transcript, their answers as history, and any of
        them waiting or being answered (the status line says `done` about that one, when given)."""
        self._switched_at = None
        self.exchanges.clear()  # every answer is of a turn before: none comes from a folder still opening
        self._queue = deque((turn, question) for turn, question in self._queue if turn >= turn_id)
        self._first_live_turn = max(self._first_live_turn, turn_id)
        if self._asking is not None and self._asking < turn_id and self._asking not in self._cancelled:
            self._stop_asking(done)  # its answer would be dropped anyway
        self.chat.clear_before(turn_id)

    def action_copy_answer(self) -> None:
        if not self.exchanges:
            self.notify("There is no answer to copy yet.", severity="warning", markup=False)
            return
        selected = self.chat.transcript.selected  # the newest answer, unless an earlier one was picked
        exchange = selected.exchange if selected is not None and selected.exchange is not None else self.exchanges[-1]
        self.copy_to_clipboard(answer_text(exchange))
        self.notify("Copied the selected answer and its sources.", markup=False)

    def action_save_chat(self) -> None:
        if not self.exchanges:
            self.notify("There is no conversation to save yet.", severity="warning", markup=False)
            return
        folders = [self.save_dir] if self.save_dir else [Path.cwd(), Path.home()]  # home: when cwd is read-only
        failure = OSError("nowhere to save")
        for folder in folders:
            try:
                path = save_conversation(self.exchanges, str(self.corpus), folder)
            except OSError as error:
                failure = error
                continue
            self.notify(f"Saved the conversation to {path}", title="Saved", markup=False)
            return
        self.notify(f"{failure.strerror or failure}: {failure.filename or ''}", title="Could not save",
                    severity="error", markup=False)

    def action_use_reader(self, name: str) -> None:
        """Answer the next questions with the reader called `name`, built now in a worker (a local model loads,
        a server's address is checked); one that cannot be used is reported at once and the previous stays."""
        previous, self.reader = self.reader, name
        if self.retriever is not None and hasattr(self.retriever, "reader"):  # a fake retriever in tests has none
            self._preparing = name
            self._prepare_reader(self.retriever, name, previous)  # says which reader answers once it is built
        else:  # built with the folder's retriever when it is ready
            self.notify(f"Answers now come from the {name} reader.", title="Reader", markup=False)
        self._show_status()

    @work(thread=True, group="reader", exit_on_error=False)
    def _prepare_reader(self, retriever: Retriever, name: str, previous: str | None) -> None:
        from qa import QAError

        try:
            with self._counted_as_loading():  # a local model's file may be assembled into the cache
                retriever.reader(name)
        except QAError as error:
            self.post_message(ReaderUnavailable(name, previous, describe_error(error)))
            return
        self.post_message(ReaderReady(name))

    @on(ReaderReady)
    def _reader_ready(self, message: ReaderReady) -> None:
        if self._preparing == message.name:
            self._preparing = None
        if self.reader != message.name:  # another was chosen meanwhile
            return
        self.notify(f"Answers now come from the {message.name} reader.", title="Reader", markup=False)
        if self._asking is not None and self._asking not in self._cancelled:  # it waited for this reader
            self.chat.set_waiting(self._asking, SEARCHING)
        self._show_status()

    @on(ReaderUnavailable)
    def _reader_unavailable(self, message: ReaderUnavailable) -> None:
        if self._preparing == message.name:
            self._preparing = None
        if self.reader != message.name:  # another was chosen meanwhile
            self._show_status()
            return
        self.reader = message.previous
        shown = message.previous or (self.retriever.settings.reader if self.retriever is not None and
                                     hasattr(self.retriever, "settings") else "default")
        self.notify(f"{message.text.rstrip('.')}. Answers still come from the {shown} reader.",
                    title=f"The {message.name} reader cannot be used", severity="error", timeout=15, markup=False)
        self._show_status()

    def action_help(self) -> None:
        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen())

    def action_reindex(self) -> None:
        """Reload the articles of the current folder; the current index answers until the new one is ready."""
        self._start_loading(self.corpus, f"Re-indexing {self.corpus}…")
        self._reindexing = self._generation

    def action_switch_corpus(self) -> None:
        self.push_screen(CorpusScreen(self.corpus), self._switch_corpus)

    def _switch_corpus(self, folder: Path | None) -> None:
        if folder is None:
            return
        if self.retriever is not None:
            self._previous = (self.retriever, self.corpus)
        # The conversation is of the articles open now: it goes once the new folder is open, and stays (with the
        # current folder) if that one cannot be opened.
        self._switched_at = self._next_turn
        self.retriever = None  # questions asked now wait for the new folder
        self.corpus = folder
        self.sub_title = _corpus_label(folder)
        self._start_loading(folder, f"Opening {folder}…")


def _reindex_result(report: OpenReport | None) -> str:
    """"Up to date: 5 articles, nothing changed", or what changed ("1 article added or changed, 1 article
    removed · 5 articles, 42 passages"), as the index's sync report counts it."""
    if report is None:  # a retriever that does not report
        return "Re-indexed the articles."
    sync = report.sync
    if not sync.changed:
        return f"Up to date: {plural(report.articles, 'article')}, nothing changed"
    changes = [f"rebuilt ({sync.rebuilt_because})"] if sync.rebuilt_because else []
    changes += [f"{plural(count, 'article')} {what}{_named(paths)}" for count, what, paths in (
        (sync.embedded, "added or changed", sync.changed_paths),
        (sync.updated, "updated without embedding", sync.updated_paths), (sync.removed, "removed", sync.removed_paths),
        (sync.resumed, "finished from an interrupted run", ()), (sync.resplit, "split again", ())) if count]
    return f"{', '.join(changes)} · {plural(report.articles, 'article')}, {plural(report.passages, 'passage')}"


def _named(paths: Sequence[str], most: int = 3) -> str:
    """" (a.txt, b.md and 2 more)": which files, for a notification; "" for none."""
    if not paths:
        return ""
    shown = ", ".join(printable(path) for path in paths[:most])
    return f" ({shown} and {len(paths) - most} more)" if len(paths) > most else f" ({shown})"


def _waiting_for_reader(name: str) -> str:
    return f"Waiting for the {name} reader to load…"


def _same_toast(shown: Notification, new: Notification) -> bool:
    return (shown.message, shown.title, shown.severity) == (new.message, new.title, new.severity)


def _corpus_label(corpus: Path) -> str:
    return printable(corpus.name or str(corpus.resolve().name or corpus))


def run_chat(settings: Settings | None = None) -> NoReturn:
    """Run the chat on `settings.corpus` (default: Settings.from_env()) until the user quits, then end the process
    with the app's exit status (130 when interrupted)."""
    if settings is None:
        from qa import Settings

        settings = Settings.from_env()
    app = QAApp(folder_loader(settings), settings.corpus)
    # A handler writing to the terminal's stderr (as the CLI sets up) would scribble over the screen: while
    # the app runs, log records go to Textual's log instead (`textual console` shows them).
    root = logging.getLogger()
    handlers = root.handlers[:]
    root.handlers[:] = [TextualHandler()]
    # Our own loop rather than asyncio.run: that would wait, silently, for every worker thread to end.
    loop = asyncio.new_event_loop()
    interrupted = False

    def interrupt() -> None:
        # SIGINT (kill -INT, or Ctrl-C where the terminal still sends it) closes the app cleanly, restoring the
        # terminal; as a KeyboardInterrupt it would land anywhere in the event loop and leave the screen raw.
        nonlocal interrupted
        interrupted = True
        app.exit(return_code=130)

    # No signal handlers on Windows' loop, nor outside the main thread: SIGINT then stays Python's.
    with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
        loop.add_signal_handler(signal.SIGINT, interrupt)
    try:
        app.run(loop=loop)
    finally:
        root.handlers[:] = handlers
        if app.loading:  # a thread cannot be stopped while it loads the model
            print("newsqa: closing once the model load or indexing step in progress stops…", file=sys.stderr,
                  flush=True)
        app.wait_for_loads()
        loop.run_until_complete(loop.shutdown_asyncgens())
        loop.close()  # does not join the worker threads: an answer's may be inside the reading model
    if interrupted:
        print("qa: interrupted", file=sys.stderr)
        _end_process(130)
    _end_process(app.return_code or 0)


def _end_process(code: int) -> NoReturn:
    """Exit now, without the interpreter's shutdown: it joins every worker thread, and a question's may be inside
    llama.cpp for seconds more (a strict answer's judge cannot be interrupted, and has nothing to save), and the
    native libraries' teardown (torch) adds two seconds more. The loads, which may be writing files, are over."""
    logging.shutdown()
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):
            stream.flush()
    os._exit(code)
