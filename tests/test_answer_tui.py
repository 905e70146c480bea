"""Choosing the reader in the chat's command palette: later questions are asked of that reader."""

from __future__ import annotations

from collections.abc import Sequence

from qa import Answer
from tests.test_tui_support import FakeRetriever, ask, loader_for, settle
from tui.app import QAApp
from tui.commands import ChatCommands

from .conftest import ROOT


class ReaderRecordingRetriever(FakeRetriever):
    """A fake retriever that also records which reader each question was asked of."""

    def __init__(self) -> None:
        super().__init__()
        self.readers: list[str | None] = []

    def ask(self, question: str, history: Sequence[Answer] | None = None, reader: str | None = None) -> Answer:
        self.readers.append(reader)
        return super().ask(question, history)


async def test_the_palette_chooses_the_reader_of_the_next_questions() -> None:
    fake = ReaderRecordingRetriever()
    app = QAApp(loader_for(fake), ROOT / "seeds")
    async with app.run_test() as pilot:
        await settle(pilot)
        await ask(pilot, "What will the bridge cost?")
        await pilot.press("ctrl+p")
        await pilot.pause()
        await pilot.press(*"Reader: strict")
        await pilot.pause(0.3)
        await pilot.press("enter")
        await pilot.pause()
        assert app.reader == "strict"
        await ask(pilot, "What will the bridge cost?")
        assert fake.readers == [None, "strict"]
        helps = {name: help_text for name, _, help_text in ChatCommands(app.screen)._commands()}
        assert helps["Reader: strict"].endswith("(in use)") and not helps["Reader: extractive"].endswith("(in use)")
