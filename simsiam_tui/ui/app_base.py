"""What SimsiamApp shares with its mixins (ExploreMixin, ActionsMixin): its state and the methods they call.

Declarations only. SimsiamApp derives from this class, so a type checker holds the app to it; the
mixins derive from it only for the type checker (at run time they are plain classes), so they type-check
on their own without importing the app that imports them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from textual.app import App
from textual.screen import Screen

from simsiam_tui.ui.actions import Backend
from simsiam_tui.ui.chart_view import ChartView
from simsiam_tui.ui.model import Catalog
from simsiam_tui.ui.poller import Poller
from simsiam_tui.ui.run_rows import RunRows
from simsiam_tui.ui.widgets.charts import ChartsPanel
from simsiam_tui.ui.widgets.runs_table import RunsTable


class AppBase(App[None]):
    """The app's attributes and methods its mixins use (set in SimsiamApp.__init__ and on_mount)."""

    roots: list[Path]
    backend: Backend
    catalog: Catalog
    poller: Poller
    export_dir: Path
    presets_dir: str | None
    closing: bool
    view: ChartView  # the charts' layout, x zoom and cursor
    quantile_tracks: dict[str, Any]
    smooth: bool  # reactives on SimsiamApp
    x_axis: str
    table: RunsTable  # widgets, from on_mount
    rows: RunRows  # the table's rows: labels, colours, cells (from on_mount)
    charts_panel: ChartsPanel
    main_screen: Screen[Any]
    _charts_dirty: bool

    def charted(self) -> list[str]:
        """The keys of the runs on the charts."""
        raise NotImplementedError

    def redraw_charts(self) -> None:
        raise NotImplementedError

    def _refresh_details(self) -> None:
        raise NotImplementedError

    # defined by one mixin, called by the other
    def action_pick_charts(self) -> None:
        raise NotImplementedError

    def action_reset_view(self) -> None:
        raise NotImplementedError

    def action_toggle_cursor(self) -> None:
        raise NotImplementedError

    def action_next_charts(self) -> None:
        raise NotImplementedError

    def action_cannot(self, key: str) -> None:
        raise NotImplementedError
