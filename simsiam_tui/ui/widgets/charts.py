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
from simsiam_tui.ui.ticks import forward, padded, symlog_threshold
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
Y_MARGIN = 0.03  # of the y range, above and below: lines clear the frame, and a round tick often fits in
SCALE_NOTES = {"linear": "", "log": " (log)", "symlog": " (symlog: has values <= 0)"}


def hex_color(rgb: tuple[int, int, int]) -> str:
    """`#rrggbb` of an RGB tuple."""
    return "#{:02x}{:02x}{:02x}".format(*rgb)


def faint(rgb: tuple[int, int, int], amount: float = 0.55) -> tuple[int, int, int]:
    """The colour blended `amount` of the way toward the background."""
    return tuple(int(c + (b - c) * amount) for c, b in zip(rgb, FAINT_TOWARD, strict=True))  # type: ignore[return-value]


def chart_scale(log_y: bool, lines: list[Line]) -> tuple[str, float]:
    """The y scale a chart draws on, and the symmetric log's linear half-width: log-y where every value is
    positive; where some are not (a negative loss), a symmetric log, which shows them all, never an empty chart."""
    if not log_y:
        return "linear", 1.0
    arrays = [np.asarray(v, dtype=float) for ln in lines for v in (ln.y, ln.band_lo) if v]
    values = np.concatenate(arrays) if arrays else np.empty(0)
    values = values[np.isfinite(values)]
    if not len(values) or values.min() > 0:
        return "log", 1.0
    return "symlog", symlog_threshold(values)


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
        self.scale, self.threshold = "linear", 1.0  # what the last draw used (chart_scale)
        self.limits: tuple[tuple[float, float], tuple[float, float]] = ((0.0, 1.0), (0.0, 1.0))  # x and y, drawn
        self.lines: dict[str, Line] = {}
        self.readings: dict[str, float | None] = {}  # each run's value at the cursor
        self.signature: object = None  # what the last draw showed: an unchanged chart is not drawn again
        self.build_seconds = 0.0  # the app paces live redraws by this
        self.drawn = 0  # draw() calls; `rendered` catches up when the frame is painted
        self.rendered = 0
        self.paints = 0  # render() calls, with data or without (a new chart is painted before its data are drawn)
        for name, value in (("margin_top", 0), ("margin_bottom", 2), ("margin_left", 8)):
            self.set_reactive(getattr(PlotWidget, name), value)  # before mount: the watchers need the children
        self.border_title = Text(metric.title)  # plain: names come from files

    @property
    def pending(self) -> bool:
        """True while the newest data is not painted yet."""
        return self.rendered != self.drawn

    def draw(
        self,
        runs: list[tuple[ChartRun, Line | None]],
        x_range: tuple[float, float] | None,
        cursor: float | None,
        why_empty: str = "no data yet",
    ) -> None:
        """Plot these runs' lines (replacing the last plot), within `x_range` (None: all), with the cursor at x."""
        self.lines = {run.key: ln for run, ln in runs if ln is not None}
        if not self.is_mounted:
            return  # drawn again once mounted (on_mount asks for it)
        self.clear()
        self.scale, self.threshold = chart_scale(self.log_y, list(self.lines.values()))
        raw = len(self.lines) <= RAW_LINES_UP_TO
        for run, ln in runs:
            if ln is not None:
                self._draw_line(run, ln, raw)
        xs = [v for ln in self.lines.values() for v in (ln.x[0], ln.x[-1])]
        lo, hi = x_range or (padded(min(xs), max(xs)) if xs else (0.0, 1.0))
        if self.metric.reference is not None and xs:
            ref = self._y([self.metric.reference])
            self.plot([lo, hi], [ref[0], ref[0]], line_style=REFERENCE_COLOR, hires_mode=HiResMode.BRAILLE)
        if cursor is not None and xs:
            self.add_v_line(cursor, line_style=CURSOR_COLOR)
        self.border_title = Text(self.metric.title + SCALE_NOTES[self.scale])
        if not self.lines:
            self.border_title = Text(f"{self.metric.title}: {why_empty}")
        fit_axes(self, self.scale, self.threshold)
        self.limits = (lo, hi), self._y_limits()
        self.set_xlimits(*self.limits[0])  # explicit: a single point or a flat line gets room, not a 1e-6 wide axis
        self.set_ylimits(*self.limits[1])
        self.drawn += 1

    def _y(self, values: list[float] | np.ndarray) -> np.ndarray:
        return forward(values, self.scale, self.threshold)

    def _draw_line(self, run: ChartRun, ln: Line, raw: bool) -> None:
        color = hex_color(run.color)
        if len(ln.x) == 1:  # one point (one evaluation so far): a dot, since a line needs two
            self.scatter(ln.x, self._y(ln.y), marker="●", marker_style=color)
            return
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

    def _y_limits(self) -> tuple[float, float]:
        """The drawn values' range (the reference line's too), with room around a point or a flat line."""
        ys = [self._y(v) for ln in self.lines.values() for v in (ln.y, ln.smooth_y, ln.band_lo, ln.band_hi) if v]
        if self.metric.reference is not None and self.lines:
            ys.append(self._y([self.metric.reference]))
        values = np.concatenate(ys) if ys else np.empty(0)
        values = values[np.isfinite(values)]
        return padded(float(values.min()), float(values.max()), Y_MARGIN) if len(values) else (0.0, 1.0)

    def scale_note(self) -> str:
        """What `y` did, for the notice: a symmetric log says why, and what it shows."""
        if self.scale != "symlog":
            return f"{self.metric.title}: {'log' if self.log_y else 'linear'} y"
        low = min(min(ln.y) for ln in self.lines.values())
        return (
            f"{self.metric.title} has values <= 0 (lowest {low:.4g}), which a log axis cannot show: "
            f"drawn on a symmetric log instead (log of |y| beyond +-{self.threshold:g}, linear inside); "
            "y or r: back to linear"
        )

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
        self.paints += 1
        return result

    def on_mount(self) -> None:
        self.post_message(ChartsPanel.NeedsRedraw())

    def on_resize(self) -> None:
        self.post_message(ChartsPanel.NeedsRedraw())  # shown again (a page of charts), or resized alone

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
        """`r` on a chart: every chart back to the whole x range (the panel resets all), this one to linear y."""
        if self.log_y:
            self.log_y = False
            self.post_message(self.LogToggled(self))
        self.post_message(self.ResetView())

    def action_toggle_log_y(self) -> None:
        """`y` on a chart: log scale on its y axis, or back."""
        self.log_y = not self.log_y
        self.post_message(self.LogToggled(self))


class ChartPlaceholder(Static):
    """Where a new chart goes, on screen at once (its title, "drawing…") while the chart itself is built."""

    DEFAULT_CSS = """
    ChartPlaceholder {
        height: 1fr; width: 1fr; border-top: solid $foreground 25%; border-title-color: $foreground;
        color: $text-muted; content-align: center middle;
    }
    """

    def __init__(self, chart: MetricChart) -> None:
        super().__init__(Text("drawing…"))
        self.chart = chart
        self.border_title = Text(chart.metric.title)  # plain: names come from files
        self.paints = 0  # render() calls: it was on a frame

    def render(self) -> RenderResult:
        self.paints += 1
        return super().render()


class ChartsPanel(Vertical):
    """The legend and cursor readout above a grid of charts; the std quantile view sits beside effective rank."""

    class NeedsRedraw(Message):
        """A chart changed size; redraw at the new width."""

    class LayoutReady(Message):
        """set_layout's charts are mounted and painted (empty): their data can be drawn."""

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
    ChartsPanel .off-page { display: none; }
    """

    def __init__(self, layout: Layout | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.legend = Static(id="legend")
        self.readout = Static(id="readout")
        self.quantiles = QuantileChart(id="quantiles")
        self.changing = False  # True while set_layout swaps the charts
        self._charts = self._make_charts(layout or Layout())
        self.per_page: int | None = None  # a short terminal shows this many grid cells at a time (None: all)
        self.page = 0
        self._grid_cells: list[Any] = []
        self._placeholders: list[ChartPlaceholder] = []  # new charts still being built (set_layout)
        self._layouts = 0  # set_layout calls: a build of an older layout stops when a newer one came

    @staticmethod
    def _make_charts(layout: Layout, keep: dict[str, MetricChart] | None = None) -> list[MetricChart]:
        """The charts of `layout`: those in `keep` (by metric slug) reused, with the layout's log-y."""
        charts, seen = [], set()
        for slot in layout.charts:
            metric = metric_for(slot.metric)
            if metric.slug in seen:
                continue  # one chart per metric: ids stay unique
            seen.add(metric.slug)
            chart = (keep or {}).get(metric.slug)
            if chart is None:
                chart = MetricChart(metric, slot.log_y)
                chart.border_title = Text(f"{metric.title}: drawing…")  # on screen at once, its data after
            elif chart.log_y != slot.log_y:
                chart.log_y, chart.signature = slot.log_y, None
            charts.append(chart)
        return charts

    def _cells(self, placeholders: bool = False) -> list[Any]:
        """The grid's cells; with `placeholders`, a new chart (not mounted yet) is a ChartPlaceholder for now."""
        cells: list[Any] = []
        for chart in self._charts:
            if chart.metric.key == "rank":
                pair = chart.parent if isinstance(chart.parent, Horizontal) else None
                cells.append(pair or Horizontal(chart, self.quantiles, classes="pair"))
            elif placeholders and chart.parent is None:
                self._placeholders.append(ChartPlaceholder(chart))
                cells.append(self._placeholders[-1])
            else:
                cells.append(chart)
        if not any(c.metric.key == "rank" for c in self._charts):
            cells.append(self.quantiles)
        self._grid_cells = cells
        return cells

    @property
    def pages(self) -> int:
        """How many pages the charts take (1 when all are on screen)."""
        if not self.per_page:
            return 1
        return max(1, -(-len(self._grid_cells) // self.per_page))

    def show_page(self, per_page: int | None, page: int | None = None) -> None:
        """Show `per_page` grid cells at a time (None: all), from page `page` (default: the current one)."""
        self.per_page = per_page
        self.page = (self.page if page is None else page) % self.pages
        for i, cell in enumerate(self._grid_cells):
            cell.set_class(per_page is not None and i // per_page != self.page, "off-page")

    def page_label(self) -> str:
        """`charts 1-2 of 4 (n: next)` while paged, else empty."""
        if self.pages == 1 or not self.per_page:
            return ""
        first = self.page * self.per_page
        last = min(len(self._grid_cells), first + self.per_page)
        shown = f"{first + 1}" if last == first + 1 else f"{first + 1}-{last}"
        return f"charts {shown} of {len(self._grid_cells)} (n: next)  "

    def compose(self) -> ComposeResult:
        yield self.legend
        yield self.readout
        yield Grid(*self._cells(), id="chart-grid")

    async def set_layout(self, layout: Layout) -> None:
        """Replace the charts by those of `layout`. A chart whose metric stays is kept as it is, data and all.
        A new metric's place shows at once (a placeholder with its title, "drawing…"); its chart is built after
        that frame (mounting a plot costs tens of ms, far more on a loaded machine), empty, and LayoutReady
        says when its data can be drawn."""
        self.changing = True
        self._layouts += 1
        grid = self.query_one("#chart-grid", Grid)
        old_cells = list(self._grid_cells)
        had_rank = any(c.metric.key == "rank" for c in self._charts)
        self._charts = self._make_charts(layout, {c.metric.slug: c for c in self._charts})
        if had_rank != any(c.metric.key == "rank" for c in self._charts):
            self.quantiles = QuantileChart(id="quantiles")  # it moves in or out of the pair with effective rank
        self._placeholders = []
        cells = self._cells(placeholders=True)
        await self._arrange(grid, old_cells, cells)
        self.call_after_refresh(self._build_charts, self._layouts)

    async def _arrange(self, grid: Grid, old_cells: list[Any], cells: list[Any]) -> None:
        """Make the grid's children `cells`, in order: the others removed, new ones mounted, kept ones moved."""
        await grid.remove_children([c for c in old_cells if c not in cells])
        for index, cell in enumerate(cells):
            if cell.parent is None:
                await grid.mount(cell, before=index if index < len(grid.children) else None)
            elif grid.children.index(cell) != index:
                grid.move_child(cell, before=index)
        self.show_page(self.per_page, 0)

    async def _build_charts(self, layout: int) -> None:
        """After the frame with the placeholders: the new charts in their place (empty), then LayoutReady."""
        if layout != self._layouts:
            return  # a newer layout came meanwhile; its own build follows
        if self._placeholders:
            grid = self.query_one("#chart-grid", Grid)
            cells = [p.chart if isinstance(p, ChartPlaceholder) else p for p in self._grid_cells]
            self._placeholders = []
            await self._arrange(grid, list(self._grid_cells), cells)
            self._grid_cells = cells
            self.show_page(self.per_page, 0)
        self.changing = False
        self.call_after_refresh(self.post_message, self.LayoutReady())  # once the new charts were painted

    def cells(self) -> list[Any]:
        """The grid's cells, in order: charts, the effective-rank pair, placeholders while charts are built."""
        return list(self._grid_cells)

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
            logged = any(_logged(run, chart.metric) for run in runs)
            chart.draw(lines, x_range, cursor, "nothing finite to draw (NaN or inf)" if logged else "no data yet")
        self.legend.update(
            Text(empty, style="bold") if empty else legend(runs, x_axis, smooth, x_range, self.page_label())
        )
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


def _logged(run: ChartRun, metric: Metric) -> bool:
    """True when some history of the line has rows with the metric's column (drawn or not)."""
    return any(
        len(h.series[metric.kind]) and metric.column in h.series[metric.kind].columns
        for h in run.group or [run.history]
    )


def _line(run: ChartRun, metric: Metric, x_axis: str, width: int, smooth: bool, x_range: Any) -> Line | None:
    if run.group:
        return group_line(run.group, metric, x_axis, width, smooth, x_range)
    return line(run.history, metric, x_axis, width, smooth, x_range)


def legend(
    runs: list[ChartRun], x_axis: str, smooth: bool, x_range: tuple[float, float] | None = None, page: str = ""
) -> Text:
    """`■ simsiam healthy  ■ no-stop-grad COLLAPSED   x: step  smoothing: on`."""
    text = Text()
    if page:
        text.append(page, style="bold")
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
