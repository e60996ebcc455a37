"""Dialogs that fit a small terminal: under SHORT_ROWS rows their inputs, selects and buttons drop their borders."""

from __future__ import annotations

from typing import TypeVar

from textual import events, on
from textual.screen import ModalScreen
from textual.widgets import Button, Checkbox, Input, Select, SelectionList

SHORT_ROWS = 30  # an 80x24 ssh session or tmux pane: a bordered field costs three rows, a compact one one
ResultType = TypeVar("ResultType")


class FittedModal(ModalScreen[ResultType]):
    """A modal screen with the class `compact` and compact form widgets while the terminal is short."""

    @on(events.Mount)
    def _fit_on_mount(self) -> None:
        self.fit(self.app.size.height)

    @on(events.Resize)
    def _fit_on_resize(self, event: events.Resize) -> None:
        self.fit(event.size.height)

    def fit(self, rows: int) -> None:
        """Compact (one row, no border) form widgets on a terminal of fewer than SHORT_ROWS rows."""
        compact = rows < SHORT_ROWS
        self.set_class(compact, "compact")
        for widget in self.query(Input):
            widget.compact = compact
        for select in self.query(Select):
            select.compact = compact
        for button in self.query(Button):
            button.compact = compact
        for box in self.query(Checkbox):
            box.compact = compact
        for options in self.query(SelectionList):
            options.compact = compact
