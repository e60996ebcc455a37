"""The `e` menu: export the selected runs' events as CSV, or a figure of them (the paper's Figure 2 layout)."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.widgets import Button, Static

from simsiam_tui.ui.screens.fitted import FittedModal

CHOICES = (("csv", "Events as CSV (c)"), ("png", "Figure as PNG (g)"), ("pdf", "Figure as PDF (f)"))


class ExportScreen(FittedModal[str | None]):
    """Dismisses with `csv`, `png`, `pdf`, or None."""

    DEFAULT_CSS = """
    ExportScreen { align: center middle; }
    ExportScreen > Vertical {
        width: 56; height: auto; border: thick $accent; background: $surface; padding: 1 2;
    }
    ExportScreen Button { width: 100%; margin-top: 1; }
    ExportScreen.compact > Vertical { padding: 0 1; }
    """
    BINDINGS = [
        Binding("c", "choose('csv')", "CSV"),
        Binding("g", "choose('png')", "PNG"),
        Binding("f", "choose('pdf')", "PDF"),
        Binding("escape", "choose('')", "Cancel"),
    ]

    def __init__(self, runs: int, folder: str) -> None:
        super().__init__()
        self.runs, self.folder = runs, folder

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(Text(f"Export {self.runs} run(s) to {self.folder}"))  # a folder's name is not markup
            for key, label in CHOICES:
                yield Button(label, id=f"export-{key}", variant="primary" if key == "png" else "default")
            yield Button("Cancel (esc)", id="export-cancel")

    def on_button_pressed(self, event: Button.Pressed) -> None:
        choice = (event.button.id or "").removeprefix("export-")
        self.dismiss(choice if choice in dict(CHOICES) else None)

    def action_choose(self, choice: str) -> None:
        self.dismiss(choice or None)
