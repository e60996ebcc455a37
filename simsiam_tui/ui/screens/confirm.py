"""A yes/no question before anything destructive (stop, resume, delete)."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Static

from simsiam_tui.store.text import printable
from simsiam_tui.ui.screens.fitted import FittedModal


class ConfirmScreen(FittedModal[bool]):
    """Dismisses with True on yes, False on no or escape."""

    DEFAULT_CSS = """
    ConfirmScreen { align: center middle; }
    ConfirmScreen > Vertical {
        width: 64; max-width: 95%; height: auto; border: thick $warning; background: $surface; padding: 1 2;
    }
    ConfirmScreen #question { margin-bottom: 1; }
    ConfirmScreen Horizontal { height: auto; align-horizontal: right; }
    ConfirmScreen Button { margin-left: 2; }
    ConfirmScreen.compact > Vertical { padding: 0 1; }
    """
    BINDINGS = [
        Binding("y", "answer(True)", "Yes"),
        Binding("n,escape", "answer(False)", "No"),
    ]

    def __init__(self, question: str, yes: str = "Yes", danger: bool = False) -> None:
        super().__init__()
        self.question, self.yes, self.danger = question, yes, danger

    def compose(self) -> ComposeResult:
        with Vertical():
            # run names come from run folders: never markup, and their control characters escaped
            yield Static(Text(printable(self.question, keep_newlines=True)), id="question")
            with Horizontal():
                yield Button(f"{self.yes} (y)", id="yes", variant="error" if self.danger else "warning")
                yield Button("Cancel (n)", id="no", variant="default")

    def on_mount(self) -> None:
        self.query_one("#no", Button).focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "yes")

    def action_answer(self, yes: bool) -> None:
        self.dismiss(yes)
