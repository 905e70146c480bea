"""The chat while a reading model judges an answer: "Checking…" in the transcript, and Escape cancels."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from qa.llm.model import ChatReadingModel
from tests.test_tui import COST, COST_SENTENCE, answer_text, make_app, turns
from tests.test_tui_support import FakeRetriever, settle
from tui.app import CANCELLED, WAIT_FOR_STEP

ROOT = Path(__file__).resolve().parents[1]


class GatedBackend:
    """A model server that answers "yes" once `release()` is called."""

    name = "gated"

    def __init__(self) -> None:
        self.gate = threading.Event()
        self.started = threading.Event()

    def chat(self, request: dict) -> dict:
        self.started.set()
        self.gate.wait(10)
        return {"choices": [{"message": {"content": "yes"}}]}


class JudgedRetriever(FakeRetriever):
    """The fake retriever, with a reading model judging each answer before it is given."""

    def __init__(self, backend: GatedBackend) -> None:
        super().__init__()
        self.model = ChatReadingModel(backend)

    def ask(self, question, history=None):
        answer = super().ask(question, history)
        self.model.judge(question, [s.text for s in answer.sentences])
        return answer


async def _wait(pilot, event: threading.Event) -> None:
    for _ in range(100):
        if event.is_set():
            await pilot.pause()
            return
        await asyncio.sleep(0.05)
    raise AssertionError("the model was never asked")


async def _type(pilot, question: str) -> None:
    pilot.app.chat.query_one("#question").value = question
    await pilot.press("enter")


async def test_the_transcript_says_checking_while_the_model_judges() -> None:
    backend = GatedBackend()
    app = make_app(JudgedRetriever(backend))
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await _type(pilot, COST)
        await _wait(pilot, backend.started)
        await pilot.pause(0.1)
        [turn] = turns(app)
        assert answer_text(turn) == "Checking…"
        backend.gate.set()
        await settle(pilot)
        assert COST_SENTENCE in answer_text(turn)


async def test_escape_cancels_the_question_being_checked() -> None:
    backend = GatedBackend()
    retriever = JudgedRetriever(backend)
    app = make_app(retriever)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await _type(pilot, COST)
        await _wait(pilot, backend.started)
        await _type(pilot, "When will construction begin? " + COST)  # queued behind the first
        await pilot.press("escape")
        first, second = turns(app)
        assert answer_text(first) == CANCELLED
        assert app.chat.status.text.startswith("Cancelled")
        backend.gate.set()  # the model's step under way finishes; its answer is dropped
        await settle(pilot)
        assert answer_text(first) == CANCELLED and first.exchange is None
        assert COST_SENTENCE in answer_text(second)
        assert [q for q, _ in retriever.calls] == [COST, "When will construction begin? " + COST]
        assert app.chat.status.text == "Ready · 4 articles · 4 passages"  # the model is free again
        app.action_use_reader("strict")
        assert app.chat.status.text == "Ready · 4 articles · 4 passages · reader: strict"


async def test_clearing_the_chat_stops_the_question_being_answered() -> None:
    backend = GatedBackend()
    retriever = JudgedRetriever(backend)
    app = make_app(retriever)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await _type(pilot, COST)
        await _wait(pilot, backend.started)
        await pilot.press("ctrl+l")
        await _type(pilot, "When will construction begin? " + COST)
        [turn] = turns(app)  # the cleared question is gone; nothing "before it" to wait for is on screen
        assert answer_text(turn) == WAIT_FOR_STEP
        backend.gate.set()
        await settle(pilot)
        assert COST_SENTENCE in answer_text(turn) and len(app.exchanges) == 1


class JudgedTwice(JudgedRetriever):
    """Asks its model twice per answer, as a reader that judges and then writes does; says when it is done."""

    def __init__(self, backend: GatedBackend) -> None:
        super().__init__(backend)
        self.done = threading.Event()

    def ask(self, question, history=None):
        try:
            answer = super().ask(question, history)
            self.model.judge(question, [s.text for s in answer.sentences])
            return answer
        finally:
            self.done.set()


async def test_quitting_while_the_model_judges_asks_it_nothing_more() -> None:
    backend = GatedBackend()
    retriever = JudgedTwice(backend)
    app = make_app(retriever)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await _type(pilot, COST)
        await _wait(pilot, backend.started)
        await pilot.press("ctrl+q")
    backend.gate.set()  # the model's request under way ends; the worker, cancelled, starts no other
    assert await asyncio.to_thread(retriever.done.wait, 5)
    assert retriever.model.calls == 1


# A chat whose answer is stuck in a model call that cannot be interrupted (llama.cpp's), quit with Ctrl+Q: the
# process, started as `qa` starts it (run_chat), prints when Ctrl+Q is pressed.
STUCK_CHAT = """
import threading, time
import tui.app as chat
from tests.test_tui_support import FakeRetriever, loader_for

asked = threading.Event()

class Stuck(FakeRetriever):
    def ask(self, question, history=None):
        asked.set()
        time.sleep(20)
        return super().ask(question, history)

async def quit_while_answering(pilot):
    while pilot.app.retriever is None:
        await pilot.pause(0.01)
    pilot.app.chat.query_one("#question").value = "How much will the bridge cost?"
    await pilot.press("enter")
    while not asked.is_set():
        await pilot.pause(0.01)
    print(time.monotonic(), flush=True)
    await pilot.press("ctrl+q")

run = chat.QAApp.run
chat.QAApp.run = lambda self, **kwargs: run(self, headless=True, auto_pilot=quit_while_answering, **kwargs)
chat.folder_loader = lambda settings: loader_for(Stuck())
chat.run_chat()
"""


def test_quitting_does_not_wait_for_a_model_call_under_way() -> None:
    result = subprocess.run([sys.executable, "-c", STUCK_CHAT], cwd=ROOT, capture_output=True, text=True,
                            timeout=15)  # the stuck call alone takes 20 s
    ended = time.monotonic()
    assert result.returncode == 0, result.stderr
    assert ended - float(result.stdout.split()[0]) < 2


# --- the real folder loader, with a fake embedding model ------------------------------------------------------

SEEDS = Path(__file__).resolve().parents[1] / "seeds"


class Reporter:
    """What a loader reports, kept: its phases (the status line) and its warnings (toasts)."""

    def __init__(self) -> None:
        self.said: list[str] = []
        self.warned: list[str] = []

    def __call__(self, done: int, total: int) -> None:
        pass

    def phase(self, text: str) -> None:
        self.said.append(text)

    def warn(self, text: str) -> None:
        self.warned.append(text)


@pytest.fixture
def fake_model(monkeypatch) -> None:
    """The loader's embedding model, found and loaded at once (a counting fake)."""
    import qa.embedding
    from tests.fakes import CountingEmbedder

    class Loaded(CountingEmbedder):
        def load(self) -> None:
            pass

    monkeypatch.setattr(qa.embedding, "locate_model", lambda *args: None)
    monkeypatch.setattr(qa.embedding, "Embedder", lambda source, device="cpu": Loaded())


@pytest.fixture
def ready_readers(monkeypatch) -> None:
    """Every reader is ready at once: no model behind it."""
    from qa import Retriever

    monkeypatch.setattr(Retriever, "reader", lambda self, name=None: type("Ready", (), {"prepare": lambda s, r: None})())


def test_the_chat_loads_a_chosen_reading_model_while_it_opens_the_index(tmp_path, monkeypatch, fake_model) -> None:
    """With QA_READER=strict the model loads during "Loading…", not when the first question is asked (and the
    default reader's cross-encoder too)."""
    from qa import Retriever, Settings
    from tui.loading import folder_loader

    built: list[str | None] = []

    class Prepared:
        def prepare(self, retriever) -> None:
            built.append(retriever.settings.reader)

    monkeypatch.setattr(Retriever, "reader", lambda self, name=None: Prepared())
    for reader in ("strict", "extractive"):  # the extractive reader loads its cross-encoder then
        built.clear()
        phases = Reporter()
        settings = Settings(corpus=SEEDS, index_dir=tmp_path / "index", reader=reader)
        folder_loader(settings)(SEEDS, phases)
        assert built == [reader]
        assert f"Loading the {reader} reader…" in phases.said


def test_the_chat_says_when_another_process_is_writing_the_index(tmp_path, fake_model, ready_readers) -> None:
    import fcntl
    import os

    from qa import Settings
    from tui.loading import folder_loader

    reporter = Reporter()
    index = tmp_path / "index"
    index.mkdir()
    holder = os.open(index / "lock", os.O_RDWR | os.O_CREAT, 0o644)  # another writer, as far as flock can tell
    fcntl.flock(holder, fcntl.LOCK_EX)
    os.pwrite(holder, b"4242", 0)
    releaser = threading.Timer(0.6, lambda: os.close(holder))
    releaser.start()
    folder_loader(Settings(corpus=SEEDS, index_dir=index))(SEEDS, reporter)
    releaser.join()
    assert any("being written by another newsqa process (pid 4242); waiting for it" in text
               for text in reporter.said), reporter.said


def test_a_switched_read_only_folder_is_indexed_in_the_user_cache_and_the_chat_says_so(
        tmp_path, monkeypatch, fake_model, ready_readers) -> None:
    import errno
    import shutil

    import qa.index
    from qa import Settings
    from tui.loading import folder_loader

    shared = tmp_path / "shared"  # read-only, as a mounted archive is (for root too: the write probe fails)
    shutil.copytree(SEEDS, shared)
    real = qa.index._probe_write

    def refuse(folder: Path) -> None:
        if folder == shared / ".qa-index":
            raise OSError(errno.EROFS, "Read-only file system")
        real(folder)

    monkeypatch.setattr(qa.index, "_probe_write", refuse)
    reporter = Reporter()
    load = folder_loader(Settings(corpus=SEEDS, index_dir=tmp_path / "index", cache_dir=tmp_path / "cache"))
    retriever = load(shared, reporter)  # switched to from the palette: not the first folder's --index-dir
    assert (tmp_path / "cache" / "indexes") in retriever.store.folder.parents
    assert any("cannot be written: keeping the index in" in text for text in reporter.warned), reporter.warned


async def test_a_reader_that_cannot_be_built_is_reported_when_chosen_and_the_previous_stays() -> None:
    from qa.errors import ReaderError
    from tests.test_tui import Toasts

    built: list[str] = []

    class WithReaders(FakeRetriever):
        def reader(self, name=None):
            built.append(name)
            if name == "server":
                raise ReaderError("the server reader needs a model server: give --llm-url URL or set QA_LLM_URL")
            return object()

    app = make_app(WithReaders())
    toasts = Toasts()
    async with app.run_test(size=(100, 30), message_hook=toasts) as pilot:
        await settle(pilot)
        app.action_use_reader("strict")  # built now, in a worker: a local model loads before the next question
        await settle(pilot)
        app.action_use_reader("server")
        await settle(pilot)
        assert built == ["strict", "server"] and app.reader == "strict"
        assert [text for text in toasts.of("information") if text.startswith("Answers now")] == [
            "Answers now come from the strict reader."]  # never claimed for the server reader
        assert any("needs a model server" in text and "still come from the strict reader" in text
                   for text in toasts.of("error"))
        assert app.chat.status.text.endswith("reader: strict")


def test_a_reader_set_in_the_environment_that_cannot_be_used_is_said_at_start(tmp_path, fake_model) -> None:
    from qa import Settings
    from tui.loading import folder_loader

    reporter = Reporter()
    folder_loader(Settings(corpus=SEEDS, index_dir=tmp_path / "index", reader="server"))(SEEDS, reporter)
    assert any(text.startswith("The server reader cannot be used: ") and "--llm-url" in text
               for text in reporter.warned)
