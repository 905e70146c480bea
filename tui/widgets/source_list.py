"""The list in the sources panel: one option per source, read with the keys even when a source is taller than it."""

from __future__ import annotations

from collections.abc import Callable

from textual.binding import Binding
from textual.widgets import OptionList


class SourceList(OptionList):
    """Up/Down and PageUp/PageDown scroll through the highlighted source before they move to another one.

    A source can be taller than the pane (a long quote with its context, in an 80x24 terminal, where the pane
    has six rows): OptionList alone moves from the top of one option to the top of the next, so the end of a
    tall one could only be reached with the mouse wheel. Reading upwards, a tall source is shown from its end,
    the rows just above those read before. OptionList keeps no public record of where an option lies, hence
    its line cache (`_index_to_line`, `_heights`, `_lines`) is read here.
    """

    # One key in the footer: at 80 columns a second would push Ctrl+Q off it. The help lists them all.
    BINDINGS = [Binding("pagedown", "page_down", "Scroll")]

    def action_cursor_down(self) -> None:
        if self._rows_hidden()[1]:
            self._scroll_by(1)
        else:
            super().action_cursor_down()

    def action_cursor_up(self) -> None:
        if self._rows_hidden()[0]:
            self._scroll_by(-1)
        else:
            self._moved_up(super().action_cursor_up)

    def action_page_down(self) -> None:
        below = self._rows_hidden()[1]
        if below:
            self._scroll_by(min(below, self._page))
        elif self.highlighted is None or not self._lines:
            super().action_page_down()
        else:  # the next page starts where the view ends: never the highlighted source again
            self.highlighted = self._lines[min(self._top + self._page, len(self._lines) - 1)][0]

    def action_page_up(self) -> None:
        above = self._rows_hidden()[0]
        if above:
            self._scroll_by(-min(above, self._page))
        elif self.highlighted is None or not self._lines:
            super().action_page_up()
        else:
            line = max(self._top - self._page, 0)
            self._moved_up(lambda: setattr(self, "highlighted", self._lines[line][0]))

    def action_last(self) -> None:
        super().action_last()
        self.scroll_end(animate=False, immediate=True)

    @property
    def _top(self) -> int:
        return round(self.scroll_y)

    @property
    def _page(self) -> int:
        return max(1, self.scrollable_content_region.height)

    def _span(self) -> tuple[int, int] | None:
        """The lines [top, bottom) of the highlighted source."""
        index = self.highlighted
        if index is None or index not in self._index_to_line:
            return None
        top = self._index_to_line[index]
        return top, top + self._heights[index]

    def _rows_hidden(self) -> tuple[int, int]:
        """How many rows of the highlighted source lie above the view, and how many below it."""
        span = self._span()
        if span is None:
            return 0, 0
        top, bottom = span
        return max(0, self._top - top), max(0, bottom - (self._top + self._page))

    def _scroll_by(self, rows: int) -> None:
        self.scroll_to(y=self._top + rows, animate=False, immediate=True)

    def _moved_up(self, move: Callable[[], None]) -> None:
        """Move the highlight up with `move`; a source taller than the view reached so is shown from its end."""
        before = self.highlighted
        move()
        span = self._span()
        if self.highlighted != before and span is not None and span[1] - span[0] > self._page:
            self.scroll_to(y=span[1] - self._page, animate=False, immediate=True)
