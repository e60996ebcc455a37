"""Help: the keys, what the charts show, and the collapse rule with its thresholds."""

from __future__ import annotations

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from simsiam_tui.store import Verdict
from simsiam_tui.store.verdict_rule import rule_lines, rule_window
from simsiam_tui.ui import fmt

KEYS = (
    ("space", "select / unselect the run under the cursor for the charts"),
    ("a", "select every run, or none"),
    ("l", "launch runs: a suite or presets, scale, GPUs, --set overrides"),
    ("s", "stop the selected runs (asks first)"),
    ("r", "resume the selected runs from their checkpoints (asks first)"),
    ("d", "delete the selected runs' directories (asks first)"),
    ("e", "export the selected runs: events as CSV, or a figure (PNG/PDF, like `runs plot`)"),
    ("m", "smoothing (EMA) on/off; raw points stay faint behind"),
    ("x", "x-axis: step -> epoch -> wall time"),
    ("v", "charts: any numeric metric on any chart, log-y per chart (remembered per runs folder)"),
    ("+ - < > 0", "zoom, pan and reset the x axis of every chart (mouse: wheel zooms, drag pans)"),
    ("c [ ]", "cursor: every run's value at one x (a click on a chart puts it there), move it"),
    ("y  r", "on a focused chart (click it or tab to it): log-y on/off; reset the zoom and log-y"),
    ("p", "panels: charts <-> GPUs/log/config (narrow terminals, under 110 columns)"),
    ("n", "the next row of charts (short terminals, under 30 rows)"),
    ("ctrl+p", "command palette: every action by name"),
    ("?", "this help"),
    ("q", "quit (runs keep going)"),
)


def help_text() -> Table:
    """The help as a rich table."""
    table = Table.grid(padding=(0, 2))
    table.add_column(style="bold cyan", no_wrap=True)
    table.add_column()
    for key, what in KEYS:
        table.add_row(Text(key), Text(what))  # plain: `[ ]` and the like are keys, not markup
    table.add_row("", "")
    table.add_row(
        "charts",
        "loss; z_std/(1/sqrt d) with the healthy reference at 1; kNN top-1; effective rank of z, and beside it "
        "the per-dimension std quantiles (min, 25%, median, 75%, max) of the run under the cursor: a collapsing "
        "run's band falls toward 0. Selected runs overlay, one colour each (legend above the charts); replicas "
        "of one group (launch --seeds) draw as a mean line with a mean ± std band. "
        "With nothing selected the run under the cursor is drawn.",
    )
    for i, (label, when) in enumerate(rule_lines()):  # worded from store/verdict.py's thresholds
        badge = fmt.verdict(Verdict(label, ""))
        table.add_row("collapse" if i == 0 else "", Text.assemble(badge, f": {when}."))
    table.add_row("", rule_window())
    table.add_row("state!", "a trailing ! means part of the run could not be read; the Run tab says why")
    return table


class HelpScreen(ModalScreen[None]):
    """Press escape, q or ? to close."""

    DEFAULT_CSS = """
    HelpScreen { align: center middle; }
    HelpScreen > VerticalScroll {
        width: 96; max-width: 98%; height: auto; max-height: 95%; border: thick $primary; background: $surface;
        padding: 1 2;
    }
    """
    BINDINGS = [Binding("escape,q,question_mark", "dismiss", "Close")]

    def compose(self) -> ComposeResult:
        with VerticalScroll():
            yield Static(Text("simsiam-tui", style="bold"))
            yield Static(help_text())
