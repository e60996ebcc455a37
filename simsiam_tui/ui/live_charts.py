"""LiveCharts: the chart view controller. The charts of the charted runs, kept live at a pace the keys allow,
with the x zoom shared by every chart, a cursor, log-y, the chart picker, the layout file and the std view.

It reads the runs table (which runs are charted, their labels and colours) through RunRows and never reaches
into the app: the app routes keys to its public methods and tells it when runs changed.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

from textual import work

from simsiam_tui.store.text import printable
from simsiam_tui.ui.chart_view import ChartView, XRange
from simsiam_tui.ui.input_pace import InputPace
from simsiam_tui.ui.layout import ChartSlot, Layout, save_layout
from simsiam_tui.ui.quantiles import QuantileTrack
from simsiam_tui.ui.run_rows import RunRows
from simsiam_tui.ui.screens.chart_picker import ChartPicker
from simsiam_tui.ui.series import numeric_fields
from simsiam_tui.ui.widgets.charts import ChartRun, ChartsPanel, MetricChart

CANNOT_PAGE = "every chart is on screen: n pages through the charts on a short terminal (under 30 rows)"
REDRAW_MIN_S = 0.5  # charts redraw at most twice a second while events stream in
REDRAW_BUSY_FACTOR = 3.0  # ... and spend at most a third of the time drawing
QUANTILES_AFTER_S = 0.15
VIEW_SETTLE_S = 0.08  # a drag sends a scale change per mouse move: redraw every chart once it pauses


def group_of(model: Any) -> str | None:
    """The replica group of a run (`launch --seeds`): its start event's `group`, else its config's."""
    for start in model.shown.starts:
        if start.get("group"):
            return str(start["group"])
    group = model.config.get("group")
    return str(group) if group else None


class LiveCharts(ChartsPanel):
    """The charts panel with its controller: what is charted, when it is drawn, and how the view moves."""

    def __init__(self, rows: RunRows, roots: list[Path], pace: InputPace, layout: Layout, **kwargs: Any) -> None:
        super().__init__(layout, **kwargs)
        self.rows, self.catalog, self.table = rows, rows.catalog, rows.table
        self.roots, self.pace = roots, pace
        self.view = ChartView(layout)  # the charts' layout, zoom and cursor (ui/chart_view.py)
        self.chart_keys: list[str] = []  # the runs drawn last, replicas included
        self.redraws = 0
        self.closing = False
        self.quantile_tracks: dict[str, QuantileTrack] = {}
        self._pending = False  # a deferred redraw is on a timer
        self._dirty = False  # something changed since the last redraw
        self._last_redraw = 0.0
        self._redraw_cost = 0.0
        self._view_timer: Any = None
        self._quantile_timer: Any = None

    def on_unmount(self) -> None:
        self.closing = True

    @property
    def current(self) -> bool:
        """True when the charts show what they were last told to (tests wait on this, with the table's state)."""
        building = self.changing or any(c.pending and c.region.area > 0 for c in self.charts())
        return not building and not self._pending and not self._dirty and self.redraws > 0

    # -- what is charted --------------------------------------------------------------------------
    def charted(self) -> list[str]:
        """Runs on the charts: the selection, else the run under the cursor."""
        keys = [k for k in self.table.selected if self.catalog.get(k) is not None]
        if not keys and self.table.cursor_key:
            keys = [self.table.cursor_key]
        return keys

    def chart_runs(self) -> tuple[list[ChartRun], dict[str, list[threading.Lock]]]:
        """The charted runs as chart lines: replicas of one group become a single mean ± std line."""
        labels = self.rows.labels()
        runs: list[ChartRun] = []
        locks: dict[str, list[threading.Lock]] = {}
        groups: dict[str, ChartRun] = {}
        for key in self.charted():
            model = self.catalog.get(key)
            if model is None or model.summary is None:
                continue
            color = self.rows.color(key)
            group = group_of(model)
            if group and group in groups:
                unit = groups[group]
                assert unit.group is not None and unit.members is not None
                unit.group.append(model.shown)
                unit.members.append(key)
                locks[unit.key].append(model.lock)
                continue
            run = ChartRun(key, labels.get(key, key), color, model.summary.verdict, model.shown)
            if group:
                run.group, run.members, run.label = [model.shown], [key], printable(group)  # a name from the run folder
                groups[group] = run
            runs.append(run)
            locks[key] = [model.lock]
        for run in runs:  # a group of one is just a run
            if run.group is not None and len(run.group) == 1:
                run.group, run.label = None, labels.get(run.key, run.key)
        return runs, locks

    def runs_changed(self, new: list[str], changed: set[str]) -> None:
        """The poller read new runs or events: redraw soon if any of them is on the charts."""
        if new or changed & set(self.chart_keys) or not self.chart_keys:
            self.request_redraw()

    # -- drawing ----------------------------------------------------------------------------------
    def request_redraw(self) -> None:
        """Redraw soon: at most every redraw_interval(), and not while keys are being pressed."""
        self._dirty = True
        if self._pending:
            return
        # the first runs to draw are drawn at once: the charts had nothing to show, so no redraw pace applies
        pace = self.redraw_interval() - (time.monotonic() - self._last_redraw) if self.chart_keys else 0.0
        wait = max(pace, self.pace.wait())
        if wait <= 0:
            self.redraw()
        else:
            self._pending = True
            self.set_timer(wait, self._deferred_redraw)

    def redraw_interval(self) -> float:
        """Seconds between live redraws: REDRAW_MIN_S, longer when drawing is slow (many runs, a slow terminal)."""
        build = sum(c.build_seconds for c in self.charts())  # drawn one after another, on this thread
        return max(REDRAW_MIN_S, REDRAW_BUSY_FACTOR * (self._redraw_cost + build))

    def _deferred_redraw(self) -> None:
        self._pending = False
        if self.closing:
            return
        if self.pace.wait() > 0:
            self.request_redraw()  # the user is typing: their keys' frames come before live chart updates
        else:
            self.redraw()

    def redraw(self) -> None:
        """Draw the charted runs now."""
        self._last_redraw = time.monotonic()
        self._dirty = False
        runs, locks = self.chart_runs()
        self.chart_keys = [k for r in runs for k in (r.members or [r.key])]
        self.catalog.set_charted(self.chart_keys)  # long runs off the charts keep a thin history (issue 16)
        empty = None
        if not self.catalog.runs:
            where = ", ".join(shown_path(r) for r in self.roots)
            empty = f"no runs in {where} yet: press l to launch (try the stop-grad suite), or run `simsiam-tui demo`"
        view = self.view
        self.draw(runs, view.layout.x_axis, view.layout.smooth, locks, empty, view.x_range, view.cursor_x)
        self.draw_quantiles()
        self._redraw_cost = time.monotonic() - self._last_redraw
        self.redraws += 1

    def on_charts_panel_needs_redraw(self, message: ChartsPanel.NeedsRedraw) -> None:
        message.stop()
        # after the refresh: a chart that just mounted has its own parts (the plot's legend) mounted by then
        self.call_after_refresh(self.request_redraw)

    def show_page_for(self, per_page: int | None) -> None:
        """The terminal's size decided how many grid cells fit at a time (None: all)."""
        if per_page != self.per_page:
            self.show_page(per_page)
            self.request_redraw()  # the legend names the page

    def next_page(self) -> None:
        """`n` on a short terminal: the next row of charts."""
        if self.pages == 1:
            self.notify(CANNOT_PAGE, timeout=4)
            return
        self.show_page(self.per_page, self.page + 1)
        self._dirty = True
        self.redraw()  # the legend names the page; charts that were off the page draw at their size

    # -- smoothing and the x axis -----------------------------------------------------------------
    def set_smooth(self, smooth: bool) -> None:
        self.view.layout.smooth = smooth
        self.save_layout()
        self.redraw()

    def set_x_axis(self, x_axis: str) -> None:
        self.view.set_x_axis(x_axis)  # another unit: the zoom and the cursor mean nothing there
        self.save_layout()
        self.redraw()

    # -- zoom, pan, cursor ------------------------------------------------------------------------
    def data_x_range(self) -> XRange | None:
        """The x range of everything drawn (before any zoom)."""
        xs = [(ln.x[0], ln.x[-1]) for c in self.charts() for ln in c.lines.values() if ln.x]
        if not xs:
            return None
        return min(a for a, _ in xs), max(b for _, b in xs)

    def set_view(self, x_range: XRange | None) -> None:
        """Show this x range on every chart (None: all)."""
        if self.view.show(x_range):
            self.redraw()

    def _apply(self, changed: bool | None, verb: str) -> None:
        """Redraw after a view change, or say why the key did nothing (None: the charts have no data)."""
        if changed is None:
            self.notify(f"nothing to {verb}: the charts have no data yet (space selects runs to compare)", timeout=3)
        elif changed:
            self.redraw()

    def zoom_x(self, factor: float) -> None:
        """Zoom every chart's x axis in (< 1) or out, around the cursor when it is shown."""
        self._apply(self.view.zoom(factor, self.data_x_range()), "zoom")

    def pan_x(self, fraction: float) -> None:
        """Move every chart's x window by a fraction of its width."""
        self._apply(self.view.pan(fraction, self.data_x_range()), "pan")

    def toggle_cursor(self) -> None:
        """A cursor in the middle of the visible x range that reads every run's value, or no cursor."""
        self._apply(self.view.toggle_cursor(self.data_x_range()), "put a cursor on")

    def move_cursor(self, steps: int) -> None:
        self._apply(self.view.move_cursor(steps, self.data_x_range()), "move a cursor on")

    def on_charts_panel_view_changed(self, message: ChartsPanel.ViewChanged) -> None:
        """A chart's own zoom or pan (wheel, drag, its keys): the others follow once the mouse rests a moment."""
        message.stop()
        if message.x_range is None:
            self.set_view(None)
            return
        if not self.view.show(message.x_range):
            return
        self._dirty = True
        if self._view_timer is not None:
            self._view_timer.stop()
        self._view_timer = self.set_timer(VIEW_SETTLE_S, self._view_settled)

    def _view_settled(self) -> None:
        if not self.closing:
            self.redraw()

    def on_metric_chart_cursor_at(self, message: MetricChart.CursorAt) -> None:
        message.stop()
        self.view.cursor_x = message.x
        self.redraw()

    def on_metric_chart_log_toggled(self, message: MetricChart.LogToggled) -> None:
        message.stop()
        chart = message.chart
        self.view.set_log_y(chart.metric.key, chart.log_y)
        self.save_layout()
        self.redraw()  # first: the notice says which scale the data allowed
        self.notify(chart.scale_note(), timeout=8 if chart.scale == "symlog" else 1.5)

    # -- the layout -------------------------------------------------------------------------------
    def save_layout(self) -> None:
        """Remember the charts, x axis and smoothing in the first runs folder."""
        notice = save_layout(self.roots[0], self.view.layout)
        if notice:
            self.notify(notice, severity="warning")

    def pick(self) -> None:
        """The chart picker: which metric each chart shows (any numeric field of the runs' events), and log-y."""
        fields: dict[str, None] = {}
        for model in self.catalog.models():
            with model.lock:  # the poller adds columns as new fields appear
                fields.update(dict.fromkeys(numeric_fields([model.shown])))
        self.app.push_screen(ChartPicker(self.view.layout, list(fields), apply=self.use_layout))

    async def use_layout(self, layout: Layout) -> None:
        """Show these charts; x axis and smoothing stay as they are."""
        layout.x_axis, layout.smooth = self.view.layout.x_axis, self.view.layout.smooth
        self.view.layout = layout
        self._dirty = True  # drawn on LayoutReady: the new layout is painted first, then its data
        await self.set_layout(layout)
        self.save_layout()

    def set_slots(self, slots: list[ChartSlot]) -> None:
        """Replace the charts (tests and scripts use this)."""
        self.call_later(self.use_layout, Layout(slots))

    def on_charts_panel_layout_ready(self, message: ChartsPanel.LayoutReady) -> None:
        message.stop()
        self.redraw()

    # -- std quantiles of the run under the cursor ------------------------------------------------
    def schedule_quantiles(self) -> None:
        """Draw the std view once the cursor rests: holding a key down never reads every run it passes."""
        if self._quantile_timer is not None:
            self._quantile_timer.stop()
        self._quantile_timer = self.set_timer(QUANTILES_AFTER_S, self.draw_quantiles)

    def draw_quantiles(self) -> None:
        """Draw the cursor run's std quantile bands; read its new collapse events on a thread first."""
        if self.closing:
            return
        key = self.table.cursor_key
        model = self.catalog.get(key) if key else None
        if model is None:
            self.quantiles.draw(None, *_empty(), None, None)
            return
        track = self.quantile_tracks.get(model.key)
        if track is None:
            track = self.quantile_tracks[model.key] = QuantileTrack(model.paths.events)
        x, q = track.bands(self.view.layout.x_axis)
        with model.lock:
            ref = model.shown.series["train"].last("z_std_ref")
        self.quantiles.draw(self.rows.labels().get(model.key, model.key), x, q, ref, self.view.x_range)
        try:
            grown = model.paths.events.stat().st_size != track.offset  # grown, or truncated and rewritten
        except OSError:
            grown = False
        if grown:
            self._read_quantiles(model.key, track)

    @work(thread=True, exclusive=True, group="quantiles")
    def _read_quantiles(self, key: str, track: QuantileTrack) -> None:
        if track.poll() and not self.closing:
            self.app.call_from_thread(self._quantiles_read, key)

    def _quantiles_read(self, key: str) -> None:
        if self.table.cursor_key == key:
            self.draw_quantiles()


def shown_path(path: Path) -> str:
    """A root as a person reads it: relative to the cwd when under it, `~/...` under home, else absolute."""
    for base, prefix in ((Path.cwd().resolve(), ""), (Path.home().resolve(), "~/")):
        try:
            rel = path.relative_to(base)
        except ValueError:
            continue
        return prefix + str(rel) if str(rel) != "." else (prefix.rstrip("/") or ".")
    return str(path)


def _empty() -> tuple[Any, Any]:
    import numpy as np

    return np.empty(0), np.empty((0, 5))
