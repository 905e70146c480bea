"""The question box: an Input that remembers earlier questions (Up/Down), like a shell."""

from __future__ import annotations

from textual import events
from textual.widgets import Input

from qa.question import without_controls


def starts_question(event: events.Key | events.Paste) -> bool:
    """Whether a key or a paste outside the question box starts a question there, as in any chat: a printable
    character does, except a digit or a space (they open a source, or act in a list), and pasted text does."""
    if isinstance(event, events.Paste):
        return bool(event.text)
    character = event.character
    return event.is_printable and bool(character) and not character.isdigit() and character != " "


class QuestionInput(Input):
    """Type a question, Enter to ask; Up and Down walk through the questions asked before."""

    def __init__(self, **kwargs) -> None:
        kwargs.setdefault("placeholder", "Ask a question about the articles…")
        # Coming back to a half-typed question (Tab, or a letter typed in the transcript) goes on typing it.
        kwargs.setdefault("select_on_focus", False)
        super().__init__(**kwargs)
        self.history: list[str] = []
        self._position: int | None = None  # index into history while browsing it, else None
        self._draft = ""  # what was typed before browsing started

    async def _on_key(self, event: events.Key) -> None:
        # Enter, Up and Down are handled here, not through bindings: a binding runs only once the key has bubbled
        # up to the app, and by then the keys that came in the same burst (a paste of several lines, type-ahead
        # over a slow link) are already typed into this question.
        if event.key in ("enter", "up", "down"):
            event.stop()
            event.prevent_default()
            if event.key == "up":
                self.action_history_previous()
            elif event.key == "down":
                self.action_history_next()
            else:  # the box is emptied at once for the next question, and Up brings this one back
                question, self.value = self.value, ""
                self.remember(question.strip())
                self.post_message(self.Submitted(self, question))
            return
        await super()._on_key(event)

    def _on_paste(self, event: events.Paste) -> None:
        event.stop()
        event.prevent_default()  # Input's own handler would paste the first line again
        self.paste(event.text)

    def paste(self, text: str) -> None:
        """Insert pasted text at the cursor (over the selection), its lines joined by spaces: a question copied
        from several lines of an article is one question (Input alone keeps only the first line)."""
        joined = " ".join(line.strip() for line in text.splitlines() if line.strip())
        if not joined:
            return
        # A line break around the pasted words parts them from the words beside the cursor, as a space would.
        start, end = sorted(self.selection)
        if text[:1].isspace() and self.value[:start][-1:] not in ("", " "):
            joined = " " + joined
        if text[-1:].isspace() and self.value[end:][:1] not in ("", " "):
            joined += " "
        if self.selection.is_empty:
            self.insert_text_at_cursor(joined)
        else:
            self.replace(joined, *self.selection)

    def validate_value(self, value: str) -> str:
        """A pasted question keeps its words but not its escape sequences or control characters, which the box
        would otherwise send to the terminal as it draws them."""
        return without_controls(value)

    def remember(self, question: str) -> None:
        """Add a question to the history (not twice in a row) and stop browsing."""
        if question and (not self.history or self.history[-1] != question):
            self.history.append(question)
        self._position = None
        self._draft = ""

    def action_history_previous(self) -> None:
        if not self.history:
            return
        if self._position is None:
            self._draft = self.value
            self._position = len(self.history) - 1
        elif self._position > 0:
            self._position -= 1
        self._show(self.history[self._position])

    def action_history_next(self) -> None:
        if self._position is None:
            return
        if self._position < len(self.history) - 1:
            self._position += 1
            self._show(self.history[self._position])
        else:
            self._position = None
            self._show(self._draft)

    def _show(self, text: str) -> None:
        self.value = text
        self.cursor_position = len(text)
