"""The charts (textual-plot): one metric per chart for every compared run, x zoom/pan shared by all, a cursor, log-y."""

from __future__ import annotations

import math
import time
from contextlib import ExitStack
from dataclasses import dataclass
from typing import Any

import numpy as np
from rich.text import Text
from textual import events
from textual.app import ComposeResult, RenderResult
from textual.binding import Binding
from textual.containers import Grid, Horizontal, Vertical
from textual.message import Message
from textual.widgets import Static
from textual_plot import HiResMode, PlotWidget

from simsiam_tui.store import RunHistory, Verdict
from simsiam_tui.ui import fmt
from simsiam_tui.ui.layout import Layout
from simsiam_tui.ui.series import X_LABELS, Line, Metric, exact_at, group_line, line, metric_for
from simsiam_tui.ui.widgets.axes import fit_axes
from simsiam_tui.ui.widgets.quantile_chart import QuantileChart

PALETTE = (
    (86, 180, 233),  # sky blue
    (230, 159, 0),  # orange
    (0, 200, 140),  # green
    (240, 100, 170),  # pink
    (200, 200, 80),  # olive
    (150, 120, 255),  # violet
    (255, 110, 90),  # coral
    (120, 220, 230),  # cyan
    (190, 190, 190),  # grey
)
FAINT_TOWARD = (40, 40, 48)  # raw points under a smoothed line are blended toward the background
REFERENCE_COLOR = "#969696"
CURSOR_COLOR = "#ffd75f"
RAW_LINES_UP_TO = 8  # with more runs, only the smoothed lines are drawn: 16 runs stay readable (and cheap)


def hex_color(rgb: tuple[int, int, int]) -> str:
    """`#rrggbb` of an RGB tuple."""
    return "#{:02x}{:02x}{:02x}".format(*rgb)


def faint(rgb: tuple[int, int, int], amount: float = 0.55) -> tuple[int, int, int]:
    """The colour blended `amount` of the way toward the background."""
    return tuple(int(c + (b - c) * amount) for c, b in zip(rgb, FAINT_TOWARD, strict=True))  # type: ignore[return-value]


@dataclass
class ChartRun:
    """One line on the charts: a run (or a group of replicas), its label, colour, verdict and histories."""

    key: str
    label: str
    color: tuple[int, int, int]
    verdict: Verdict
    history: RunHistory
    group: list[RunHistory] | None = None  # replicas drawn as mean ± std (history is the first of them)
    members: list[str] | None = None  # the replicas' run keys


class MetricChart(PlotWidget):
    """One metric for every compared run; the raw series faint behind the smoothed one, replicas as a band."""

    DEFAULT_CSS = """
    MetricChart { height: 1fr; width: 1fr; border-top: solid $foreground 25%; border-title-color: $foreground; }
    MetricChart:focus { border-top: solid $accent; }
    """
    BINDINGS = [Binding("y", "toggle_log_y", "Log y", show=True)]

    class CursorAt(Message):
        """The user clicked a chart at data x."""

        def __init__(self, x: float) -> None:
            super().__init__()
            self.x = x

    class ResetView(Message):
        """Reset the zoom of every chart."""

    class LogToggled(Message):
        """The user toggled log-y on this chart."""

        def __init__(self, chart: MetricChart) -> None:
            super().__init__()
            self.chart = chart

    def __init__(self, metric: Metric, log_y: bool = False, **kwargs: Any) -> None:
        super().__init__(id=f"chart-{metric.slug}", **kwargs)
        self.metric, self.log_y = metric, log_y
        self.lines: dict[str, Line] = {}
        self.readings: dict[str, float | None] = {}  # each run's value at the cursor
        self.signature: object = None  # what the last draw showed: an unchanged chart is not drawn again
        self.build_seconds = 0.0  # the app paces live redraws by this
        self.drawn = 0  # draw() calls; `rendered` catches up when the frame is painted
        self.rendered = 0
        for name, value in (("margin_top", 0), ("margin_bottom", 2), ("margin_left", 8)):
            self.set_reactive(getattr(PlotWidget, name), value)  # before mount: the watchers need the children
        self.border_title = Text(metric.title)  # plain: names come from files

    @property
    def pending(self) -> bool:
        """True while the newest data is not painted yet."""
        return self.rendered != self.drawn

    def _y(self, values: list[float] | np.ndarray) -> np.ndarray:
        y = np.asarray(values, dtype=float)
        if not self.log_y:
            return y
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(y > 0, np.log10(np.where(y > 0, y, 1.0)), np.nan)

    def draw(
        self, runs: list[tuple[ChartRun, Line | None]], x_range: tuple[float, float] | None, cursor: float | None
    ) -> None:
        """Plot these runs' lines (replacing the last plot), within `x_range` (None: all), with the cursor at x."""
        self.lines = {run.key: ln for run, ln in runs if ln is not None}
        if not self.is_mounted:
            return  # drawn again once mounted (on_mount asks for it)
        self.clear()
        fit_axes(self, self.log_y)
        self.border_title = Text(self.metric.title + (" (log)" if self.log_y else ""))
        raw = len(self.lines) <= RAW_LINES_UP_TO
        lo = hi = None
        for run, ln in runs:
            if ln is None:
                continue
            color = hex_color(run.color)
            if ln.band_lo is not None and ln.band_hi is not None and ln.at_x is not None:
                dim = hex_color(faint(run.color, 0.45))
                self.plot(ln.at_x, self._y(ln.band_lo), line_style=dim, hires_mode=HiResMode.BRAILLE)
                self.plot(ln.at_x, self._y(ln.band_hi), line_style=dim, hires_mode=HiResMode.BRAILLE)
            if ln.smooth_x is not None and ln.smooth_y is not None:
                if raw:
                    self.plot(ln.x, self._y(ln.y), line_style=hex_color(faint(run.color)), hires_mode=HiResMode.BRAILLE)
                self.plot(ln.smooth_x, self._y(ln.smooth_y), line_style=color, hires_mode=HiResMode.BRAILLE)
            else:
                self.plot(ln.x, self._y(ln.y), line_style=color, hires_mode=HiResMode.BRAILLE)
            lo = ln.x[0] if lo is None else min(lo, ln.x[0])
            hi = ln.x[-1] if hi is None else max(hi, ln.x[-1])
        if x_range is not None:
            lo, hi = x_range
        if self.metric.reference is not None and lo is not None and hi is not None:
            ref = self._y([self.metric.reference])
            self.plot([lo, hi], [ref[0], ref[0]], line_style=REFERENCE_COLOR, hires_mode=HiResMode.BRAILLE)
        if cursor is not None and lo is not None:
            self.add_v_line(cursor, line_style=CURSOR_COLOR)
        if not self.lines:
            self.border_title = Text(f"{self.metric.title}: no data yet")
        self.set_xlimits(*(x_range or (None, None)))
        self.set_ylimits(None, None)
        self.drawn += 1

    def render(self) -> RenderResult:
        start = time.perf_counter()
        with ExitStack() as stack:
            # one refresh per canvas after the plot is drawn, not one per pixel (the canvases' public batch API)
            for canvas in self.query("Canvas"):
                stack.enter_context(canvas.batch_refresh())  # type: ignore[attr-defined]
            result = super().render()
        if self.rendered != self.drawn:
            self.build_seconds = time.perf_counter() - start
            self.rendered = self.drawn
        return result

    def on_mount(self) -> None:
        self.post_message(ChartsPanel.NeedsRedraw())

    def on_click(self, event: events.Click) -> None:
        """A click puts the cursor of every chart at that x (the plot area starts after the left margin)."""
        # clicks bubble up from the plot's inner canvas with x relative to it: use the screen position instead
        px = int(event.screen_x) - self.content_region.x - self.margin_left
        py = int(event.screen_y) - self.content_region.y - self.margin_top
        if px < 0 or not self.lines:
            return
        x, _ = self.get_coordinate_from_pixel(px, max(0, py))
        if math.isfinite(x):
            self.post_message(self.CursorAt(x))

    def action_reset_scales(self) -> None:
        """`r` on a chart: every chart back to the whole x range (the panel resets all)."""
        self.post_message(self.ResetView())

    def action_toggle_log_y(self) -> None:
        """`y` on a chart: log scale on its y axis, or back."""
        self.log_y = not self.log_y
        self.post_message(self.LogToggled(self))


class ChartsPanel(Vertical):
    """The legend and cursor readout above a grid of charts; the std quantile view sits beside effective rank."""

    class NeedsRedraw(Message):
        """A chart changed size; redraw at the new width."""

    class ViewChanged(Message):
        """The user zoomed or panned a chart with the mouse or its own keys: x range (None: all)."""

        def __init__(self, x_range: tuple[float, float] | None) -> None:
            super().__init__()
            self.x_range = x_range

    DEFAULT_CSS = """
    ChartsPanel { height: 1fr; }
    ChartsPanel #legend { height: auto; max-height: 3; padding: 0 1; }
    ChartsPanel #readout { height: auto; max-height: 6; padding: 0 1; display: none; }
    ChartsPanel.cursor #readout { display: block; }
    ChartsPanel #chart-grid { grid-size: 2; grid-gutter: 0 1; height: 1fr; }
    ChartsPanel .pair { height: 1fr; width: 1fr; }
    """

    def __init__(self, layout: Layout | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.legend = Static(id="legend")
        self.readout = Static(id="readout")
        self.quantiles = QuantileChart(id="quantiles")
        self.chart_layout = layout or Layout()
        self.changing = False  # True while set_layout swaps the charts
        self._charts = self._make_charts(self.chart_layout)

    @staticmethod
    def _make_charts(layout: Layout) -> list[MetricChart]:
        charts, seen = [], set()
        for slot in layout.charts:
            metric = metric_for(slot.metric)
            if metric.slug in seen:
                continue  # one chart per metric: ids stay unique
            seen.add(metric.slug)
            charts.append(MetricChart(metric, slot.log_y))
        return charts

    def _cells(self) -> list[Any]:
        cells: list[Any] = []
        for chart in self._charts:
            if chart.metric.key == "rank":
                cells.append(Horizontal(chart, self.quantiles, classes="pair"))
            else:
                cells.append(chart)
        if not any(c.metric.key == "rank" for c in self._charts):
            cells.append(self.quantiles)
        return cells

    def compose(self) -> ComposeResult:
        yield self.legend
        yield self.readout
        yield Grid(*self._cells(), id="chart-grid")

    async def set_layout(self, layout: Layout) -> None:
        """Replace the charts by those of `layout`."""
        self.chart_layout = layout
        self.changing = True
        grid = self.query_one("#chart-grid", Grid)
        await grid.remove_children()
        self.quantiles = QuantileChart(id="quantiles")
        self._charts = self._make_charts(layout)
        await grid.mount_all(self._cells())
        self.changing = False

    def charts(self) -> list[MetricChart]:
        """The metric charts, in order."""
        return list(self._charts)

    def draw(
        self,
        runs: list[ChartRun],
        x_axis: str,
        smooth: bool,
        locks: dict[str, Any],
        empty: str | None = None,
        x_range: tuple[float, float] | None = None,
        cursor: float | None = None,
    ) -> None:
        """Redraw every chart, the legend and the cursor readout for these runs."""
        for chart in self.charts():
            width = max(16, chart.size.width - chart.margin_left)  # a min and a max per cell: braille has two dots
            signature = (
                tuple((r.key, r.color, r.label, *_lengths(r, chart.metric.kind)) for r in runs),
                x_axis,
                smooth,
                x_range,
                cursor,
                width,
                chart.size.height,
                chart.log_y,
                chart.is_mounted,
            )
            if signature == chart.signature:
                continue  # nothing it shows changed (an eval or collapse chart while only train events came)
            chart.signature = signature
            lines = []
            chart.readings = {}
            for run in runs:
                with ExitStack() as held:  # the poller appends to these arrays: copy them under their locks
                    for lock in locks.get(run.key, ()):
                        held.enter_context(lock)
                    lines.append((run, _line(run, chart.metric, x_axis, width, smooth, x_range)))
                    if cursor is not None:
                        chart.readings[run.key] = exact_at(run.group or [run.history], chart.metric, x_axis, cursor)
            chart.draw(lines, x_range, cursor)
        self.legend.update(Text(empty, style="bold") if empty else legend(runs, x_axis, smooth, x_range))
        self.set_class(cursor is not None, "cursor")
        if cursor is not None:
            self.readout.update(readout(self.charts(), runs, cursor, x_axis))

    def on_plot_widget_scale_changed(self, message: PlotWidget.ScaleChanged) -> None:
        """A chart was zoomed or panned by the mouse or its keys: every chart follows on x."""
        message.stop()
        self.post_message(self.ViewChanged((message.x_min, message.x_max)))

    def on_metric_chart_reset_view(self, message: MetricChart.ResetView) -> None:
        message.stop()
        self.post_message(self.ViewChanged(None))

    def on_resize(self) -> None:
        self.post_message(self.NeedsRedraw())


def _lengths(run: ChartRun, kind: str) -> tuple[int, ...]:
    """How many rows each history of a chart line has (and which history object: a preview is replaced)."""
    return tuple(v for h in (run.group or [run.history]) for v in (id(h), len(h.series[kind])))


def _line(run: ChartRun, metric: Metric, x_axis: str, width: int, smooth: bool, x_range: Any) -> Line | None:
    if run.group:
        return group_line(run.group, metric, x_axis, width, smooth, x_range)
    return line(run.history, metric, x_axis, width, smooth, x_range)


def legend(runs: list[ChartRun], x_axis: str, smooth: bool, x_range: tuple[float, float] | None = None) -> Text:
    """`■ simsiam healthy  ■ no-stop-grad COLLAPSED   x: step  smoothing: on`."""
    text = Text()
    if not runs:
        text.append("no run selected: space selects runs to compare", style="dim")
    for run in runs:
        text.append("■ ", style=hex_color(run.color))
        text.append(run.label + " ", style="bold")
        if run.group:
            text.append(f"(mean ± std of {len(run.group)}) ", style="dim")
        text.append_text(fmt.verdict(run.verdict))
        text.append("   ")
    zoom = f"  zoom: {fmt_x(x_range[0])}..{fmt_x(x_range[1])} (0 resets)" if x_range else ""
    text.append(f"x: {X_LABELS[x_axis]}  smoothing: {'on' if smooth else 'off'}{zoom}", style="dim")
    return text


def fmt_x(x: float) -> str:
    """A compact x value for the legend and the readout."""
    return f"{x:.0f}" if abs(x) >= 100 else f"{x:.3g}"


def readout(charts: list[MetricChart], runs: list[ChartRun], cursor: float, x_axis: str) -> Text:
    """One line per chart: every visible run's value at the cursor's x."""
    text = Text()
    text.append(f"cursor {X_LABELS[x_axis]} {fmt_x(cursor)}", style=f"bold {CURSOR_COLOR}")
    for chart in charts:
        text.append(f"\n{chart.metric.title}: ", style="dim")
        for run in runs:
            value = chart.readings.get(run.key)
            if value is None:
                continue
            text.append("■", style=hex_color(run.color))
            text.append(f"{value:.4g}  ")
    return text
