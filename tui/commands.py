"""The app's commands in the command palette (Ctrl+P)."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING

from textual.command import DiscoveryHit, Hit, Hits, Provider

if TYPE_CHECKING:
    from .app import QAApp


class ChatCommands(Provider):
    """Clear, copy, save, help, re-index and switch corpus, by name."""

    def _commands(self) -> list[tuple[str, Callable[[], object], str]]:
        app: QAApp = self.app  # type: ignore[assignment]
        return [
            ("Copy answer", app.action_copy_answer, "Copy the selected answer and its sources (Ctrl+Y)"),
            ("Save conversation", app.action_save_chat, "Save the chat as Markdown in the current folder (Ctrl+S)"),
            ("Clear chat", app.action_clear_chat, "Forget the conversation so far (Ctrl+L)"),
            ("Re-index", app.action_reindex, "Reload the articles and update the index for changed files"),
            ("Switch corpus", app.action_switch_corpus, "Answer from another folder of articles"),
            ("Help", app.action_help, "Keys and how to read answers (F1)"),
            *((f"Reader: {name}", partial(app.action_use_reader, name),
               f"{about} (in use)" if name == app.current_reader else about)
              for name, about in _readers().items()),
        ]

    async def discover(self) -> Hits:
        for name, callback, help_text in self._commands():
            yield DiscoveryHit(name, callback, help=help_text)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for name, callback, help_text in self._commands():
            score = matcher.match(name)
            if score > 0:
                yield Hit(score, matcher.highlight(name), callback, text=name, help=help_text)


def _readers() -> dict[str, str]:
    """The readers to choose from, and what each does (imported when the palette opens, not at start)."""
    from qa.reader.registry import describe_readers

    return describe_readers()
