"""Tables of runs for the terminal: every cell escaped text (it comes from run folders), never markup."""

from __future__ import annotations

import time
from typing import Any

from rich.console import Console
from rich.table import Table
from rich.text import Text

from simsiam_tui.cli.common import console
from simsiam_tui.store.text import printable

STATE_STYLE = {
    "running": "green",
    "starting": "green",
    "queued": "cyan",
    "finished": "bold",
    "stopped": "yellow",
    "failed": "red",
    "diverged": "red",
    "lost": "magenta",
    "symlink": "dim",
    "corrupt": "bold red",
}
VERDICT_STYLE = {"healthy": "green", "collapsing": "yellow", "collapsed": "bold red", "unknown": "dim", "n/a": "dim"}


def table_console() -> Console:
    """The console for tables: the terminal's, or a wide one when piped so ids and numbers are never cut."""
    return console if console.is_terminal else Console(width=220, highlight=False)


def fmt(value: Any, spec: str = ".3f") -> str:
    return "-" if value is None else format(value, spec)


def cell(value: Any, style: str = "") -> Text:
    """A table cell of text from a run folder: control characters escaped, and never read as markup."""
    return Text(printable(value), style=style)


def styled(value: Any, styles: dict[str, str]) -> Text:
    return cell(value, styles.get(str(value), ""))


def epochs(row: dict[str, Any]) -> Text:
    return cell(f"{row['epoch']:.1f}/{row['epochs']}" if row.get("epochs") else f"{row['epoch']:.1f}")


def created(stamp: Any) -> str:
    return time.strftime("%Y-%m-%d %H:%M", time.localtime(stamp)) if isinstance(stamp, (int, float)) and stamp else ""


def summary_table(rows: list[dict[str, Any]], title: str) -> Table:
    """A rich table of run summaries: losses, z_std/ref, kNN, img/s, epochs, state and the collapse verdict."""
    table = Table(title=cell(title))  # a run id as the title: a Text, never markup
    for col, justify in (
        ("run", "left"),
        ("variant", "left"),
        ("state", "left"),
        ("epoch", "right"),
        ("loss last", "right"),
        ("loss best", "right"),
        ("z_std/ref", "right"),
        ("kNN top-1", "right"),
        ("linear top-1", "right"),
        ("linear eval", "right"),
        ("img/s", "right"),
        ("verdict", "left"),
    ):
        table.add_column(col, justify=justify, no_wrap=True)  # type: ignore[arg-type]
    for row in rows:
        # a linear-eval run names its source; a pre-training run shows its linear eval's result beside its kNN
        variant = f"{row['variant']} (linear eval of {row['source_run']})" if row.get("source_run") else str(row["variant"])
        table.add_row(
            cell(row["id"]),
            cell(variant),
            styled(row["state"], STATE_STYLE),
            epochs(row),
            fmt(row["loss_last"], ".4f"),
            fmt(row["loss_best"], ".4f"),
            fmt(row["z_std_ratio"], ".2f"),
            fmt(row["knn_top1_last"], ".3f"),
            fmt(row.get("linear_top1_last"), ".3f"),
            fmt(row.get("linear_eval_top1"), ".3f"),
            fmt(row["img_per_s"], ".0f"),
            styled(row["verdict"], VERDICT_STYLE),
        )
    return table
