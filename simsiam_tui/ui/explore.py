"""Exploring the charts: x zoom and pan shared by every chart, a cursor, log-y, the chart picker and the std view."""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any

from textual import work

from simsiam_tui.store.text import printable
from simsiam_tui.ui.layout import ChartSlot, Layout, save_layout
from simsiam_tui.ui.quantiles import QuantileTrack
from simsiam_tui.ui.screens.chart_picker import ChartPicker
from simsiam_tui.ui.series import numeric_fields
from simsiam_tui.ui.widgets.charts import ChartRun, ChartsPanel, MetricChart

if TYPE_CHECKING:  # the app's declared state (ui/app_base.py); a plain class at run time
    from simsiam_tui.ui.app_base import AppBase

    _Base = AppBase
else:
    _Base = object

CANNOT_PAGE = "every chart is on screen: n pages through the charts on a short terminal (under 30 rows)"
QUANTILES_AFTER_S = 0.15
VIEW_SETTLE_S = 0.08  # a drag sends a scale change per mouse move: redraw every chart once it pauses


def group_of(model: Any) -> str | None:
    """The replica group of a run (`launch --seeds`): its start event's `group`, else its config's."""
    for start in model.shown.starts:
        if start.get("group"):
            return str(start["group"])
    group = model.config.get("group")
    return str(group) if group else None


class ExploreMixin(_Base):
    """Zoom, pan, cursor, log-y, chart picker, layout memory and the std quantile view of SimsiamApp."""

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

    def action_next_charts(self) -> None:
        """`n` on a short terminal: the next row of charts."""
        panel = self.charts_panel
        if panel.pages == 1:
            self.notify(CANNOT_PAGE, timeout=4)
            return
        panel.show_page(panel.per_page, panel.page + 1)
        self._charts_dirty = True
        self.redraw_charts()  # the legend names the page; charts that were off the page draw at their size

    # -- zoom, pan, cursor ------------------------------------------------------------------------
    def data_x_range(self) -> tuple[float, float] | None:
        """The x range of everything drawn (before any zoom)."""
        xs = [(ln.x[0], ln.x[-1]) for c in self.charts_panel.charts() for ln in c.lines.values() if ln.x]
        if not xs:
            return None
        return min(a for a, _ in xs), max(b for _, b in xs)

    def visible_x(self) -> tuple[float, float] | None:
        """The x range on screen: the zoom, else all the data."""
        return self.view.visible(self.data_x_range())

    def set_view(self, x_range: tuple[float, float] | None) -> None:
        """Show this x range on every chart (None: all)."""
        if self.view.show(x_range):
            self.redraw_charts()

    def _apply(self, changed: bool | None, verb: str) -> None:
        """Redraw after a view change, or say why the key did nothing (None: the charts have no data)."""
        if changed is None:
            self._nothing_drawn(verb)
        elif changed:
            self.redraw_charts()

    def action_zoom_x(self, factor: float) -> None:
        """`+`/`-`: zoom every chart's x axis in or out, around the cursor when it is shown."""
        self._apply(self.view.zoom(factor, self.data_x_range()), "zoom")

    def action_pan_x(self, fraction: float) -> None:
        """`<`/`>`: move every chart's x window by a fraction of its width."""
        self._apply(self.view.pan(fraction, self.data_x_range()), "pan")

    def action_reset_view(self) -> None:
        """`0`: every chart back to all the data."""
        self.set_view(None)

    def action_toggle_cursor(self) -> None:
        """`c`: a cursor in the middle of the visible x range that reads every run's value, or no cursor."""
        self._apply(self.view.toggle_cursor(self.data_x_range()), "put a cursor on")

    def action_move_cursor(self, steps: int) -> None:
        """`[`/`]`: move the cursor left or right."""
        self._apply(self.view.move_cursor(steps, self.data_x_range()), "move a cursor on")

    def _nothing_drawn(self, verb: str) -> None:
        self.notify(f"nothing to {verb}: the charts have no data yet (space selects runs to compare)", timeout=3)

    def on_charts_panel_view_changed(self, message: ChartsPanel.ViewChanged) -> None:
        """A chart's own zoom or pan (wheel, drag, its keys): the others follow once the mouse rests a moment."""
        if message.x_range is None:
            self.set_view(None)
            return
        if not self.view.show(message.x_range):
            return
        self._charts_dirty = True
        timer = getattr(self, "_view_timer", None)
        if timer is not None:
            timer.stop()
        self._view_timer = self.set_timer(VIEW_SETTLE_S, self._view_settled)

    def _view_settled(self) -> None:
        if not self.closing and self.is_running:
            self.redraw_charts()

    def on_metric_chart_cursor_at(self, message: MetricChart.CursorAt) -> None:
        self.view.cursor_x = message.x
        self.redraw_charts()

    def on_metric_chart_log_toggled(self, message: MetricChart.LogToggled) -> None:
        chart = message.chart
        self.view.set_log_y(chart.metric.key, chart.log_y)
        self.save_chart_layout()
        self.redraw_charts()  # first: the notice says which scale the data allowed
        self.notify(chart.scale_note(), timeout=8 if chart.scale == "symlog" else 1.5)

    # -- layout -----------------------------------------------------------------------------------
    def save_chart_layout(self) -> None:
        """Remember the charts, x axis and smoothing in the first runs folder."""
        notice = save_layout(self.roots[0], self.view.layout)
        if notice:
            self.notify(notice, severity="warning")

    def action_pick_charts(self) -> None:
        """`v`: choose which metric each chart shows (any numeric field of train/collapse/eval/system), and log-y."""
        fields: dict[str, None] = {}
        for model in self.catalog.models():
            with model.lock:  # the poller adds columns as new fields appear
                fields.update(dict.fromkeys(numeric_fields([model.shown])))
        self.push_screen(ChartPicker(self.view.layout, list(fields)), self._charts_picked)

    async def _charts_picked(self, layout: Layout | None) -> None:
        if layout is None:
            return
        layout.x_axis, layout.smooth = self.x_axis, self.smooth
        self.view.layout = layout
        self._charts_dirty = True  # drawn on the panel's LayoutReady: the new layout is painted first, then data
        await self.charts_panel.set_layout(layout)
        self.save_chart_layout()

    def on_charts_panel_layout_ready(self, message: ChartsPanel.LayoutReady) -> None:
        self.redraw_charts()

    def set_chart_slots(self, slots: list[ChartSlot]) -> None:
        """Replace the charts (tests and the palette use this too)."""
        self.call_later(self._charts_picked, Layout(slots, self.x_axis, self.smooth))

    # -- std quantiles of the run under the cursor ------------------------------------------------
    def schedule_quantiles(self) -> None:
        """Draw the std view once the cursor rests: holding a key down never reads every run it passes."""
        timer = getattr(self, "_quantile_timer", None)
        if timer is not None:
            timer.stop()
        self._quantile_timer = self.set_timer(QUANTILES_AFTER_S, self.draw_quantiles)

    def draw_quantiles(self) -> None:
        """Draw the cursor run's std quantile bands; read its new collapse events on a thread first."""
        if self.closing or not self.is_running:
            return
        key = self.table.cursor_key if hasattr(self, "table") else None
        model = self.catalog.get(key) if key else None
        chart = self.charts_panel.quantiles
        if model is None:
            chart.draw(None, *_empty(), None, None)
            return
        track = self.quantile_tracks.get(model.key)
        if track is None:
            track = self.quantile_tracks[model.key] = QuantileTrack(model.paths.events)
        x, q = track.bands(self.x_axis)
        with model.lock:
            ref = model.shown.series["train"].last("z_std_ref")
        chart.draw(self.rows.labels().get(model.key, model.key), x, q, ref, self.view.x_range)
        try:
            grown = model.paths.events.stat().st_size != track.offset  # grown, or truncated and rewritten
        except OSError:
            grown = False
        if grown:
            self._read_quantiles(model.key, track)

    @work(thread=True, exclusive=True, group="quantiles")
    def _read_quantiles(self, key: str, track: QuantileTrack) -> None:
        if track.poll() and not self.closing:
            self.call_from_thread(self._quantiles_read, key)

    def _quantiles_read(self, key: str) -> None:
        if self.table.cursor_key == key:
            self.draw_quantiles()


def _empty() -> tuple[Any, Any]:
    import numpy as np

    return np.empty(0), np.empty((0, 5))
