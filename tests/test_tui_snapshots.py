"""Snapshots of the chat's main screens (pytest-textual-snapshot), with the fake retriever, cursor blink off.

Update them after an intended change with `pytest tests/test_tui_snapshots.py --snapshot-update`, and look
at the report before committing.
"""

from __future__ import annotations

from pathlib import Path

from tests.test_tui_support import FakeRetriever, GatedLoader, ask, loader_for, settle
from tui.app import QAApp
from tui.widgets.question_input import QuestionInput

SIZE = (100, 30)
CORPUS = Path("seeds")  # shown by name only; the fake loader never reads it


def steady(pilot) -> None:
    """No blinking cursor, so two runs draw the same frame."""
    for box in pilot.app.query(QuestionInput):
        box.cursor_blink = False


def test_loading(snap_compare) -> None:
    """The window while the index is built: progress in the status line, a question queued meanwhile."""
    loader = GatedLoader(FakeRetriever())

    async def run_before(pilot) -> None:
        steady(pilot)
        await loader.reached(pilot)
        await pilot.press(*"How much will the bridge cost?", "enter")
        await pilot.pause()

    assert snap_compare(QAApp(loader, CORPUS), terminal_size=SIZE, run_before=run_before)


def test_answered(snap_compare) -> None:
    """An answer with two citations, its sources listed with the quoted sentences highlighted."""

    async def run_before(pilot) -> None:
        steady(pilot)
        await settle(pilot)
        await ask(pilot, "Why is the bridge news?")

    assert snap_compare(QAApp(loader_for(FakeRetriever()), CORPUS), terminal_size=SIZE, run_before=run_before)


def test_abstained(snap_compare) -> None:
    """A question the articles do not answer: the abstention and the closest passages."""

    async def run_before(pilot) -> None:
        steady(pilot)
        await settle(pilot)
        await ask(pilot, "Who won the football match?")

    assert snap_compare(QAApp(loader_for(FakeRetriever()), CORPUS), terminal_size=SIZE, run_before=run_before)


def test_source_view(snap_compare) -> None:
    """Source [1] opened: the whole article, scrolled to the highlighted sentence."""

    async def run_before(pilot) -> None:
        steady(pilot)
        await settle(pilot)
        await ask(pilot, "How much goes to cycle lanes?")
        pilot.app.chat.query_one("#transcript").focus()
        await pilot.press("1")
        await pilot.pause()

    assert snap_compare(QAApp(loader_for(FakeRetriever()), CORPUS), terminal_size=SIZE, run_before=run_before)


def test_help(snap_compare) -> None:
    """The help screen over the chat."""

    async def run_before(pilot) -> None:
        steady(pilot)
        await settle(pilot)
        await pilot.press("f1")
        await pilot.pause()

    assert snap_compare(QAApp(loader_for(FakeRetriever()), CORPUS), terminal_size=SIZE, run_before=run_before)


def test_narrow_terminal(snap_compare) -> None:
    """80x24: the sources go below the transcript."""

    async def run_before(pilot) -> None:
        steady(pilot)
        await settle(pilot)
        await ask(pilot, "How much will the bridge cost?")

    assert snap_compare(QAApp(loader_for(FakeRetriever()), CORPUS), terminal_size=(80, 24), run_before=run_before)
