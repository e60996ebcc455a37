"""Four charts that overlay the compared runs (loss, z_std/ref, kNN, effective rank) and their legend."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

from rich.text import Text
from textual.app import ComposeResult, RenderResult
from textual.containers import Grid, Vertical
from textual.message import Message
from textual.widgets import Static
from textual_plotext import PlotextPlot

from simsiam_tui.store import RunHistory, Verdict
from simsiam_tui.ui import fmt
from simsiam_tui.ui.series import METRICS, X_LABELS, Line, Metric, line

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
REFERENCE_COLOR = (150, 150, 150)
_BUILD_LOCK = threading.Lock()


def hex_color(rgb: tuple[int, int, int]) -> str:
    """`#rrggbb` of an RGB tuple."""
    return "#{:02x}{:02x}{:02x}".format(*rgb)


def faint(rgb: tuple[int, int, int], amount: float = 0.55) -> tuple[int, int, int]:
    """The colour blended `amount` of the way toward the background."""
    return tuple(int(c + (b - c) * amount) for c, b in zip(rgb, FAINT_TOWARD, strict=True))  # type: ignore[return-value]


@dataclass
class ChartRun:
    """One run on the charts: its label, colour, verdict and history (read under its lock)."""

    key: str
    label: str
    color: tuple[int, int, int]
    verdict: Verdict
    history: RunHistory


@dataclass
class _Job:
    generation: int
    lines: list[tuple[ChartRun, Line | None]]
    width: int
    height: int
    theme: str


class MetricChart(PlotextPlot):
    """One metric for every compared run, with the raw series faint behind the smoothed one.

    plotext is pure Python and takes tens of milliseconds per chart, so the text is built on a thread
    (the newest request wins) and render() only shows the last result: keys never wait on a chart.
    """

    DEFAULT_CSS = """
    MetricChart { height: 1fr; width: 1fr; }
    """

    class Built(Message):
        """A chart's text is ready (posted from its builder thread)."""

        def __init__(self, chart: MetricChart, job: _Job, text: Text, seconds: float) -> None:
            super().__init__()
            self.chart, self.job, self.text, self.seconds = chart, job, text, seconds

    def __init__(self, metric: Metric, **kwargs: object) -> None:
        super().__init__(id=f"chart-{metric.key}", **kwargs)  # type: ignore[arg-type]
        self.metric = metric
        self.lines: dict[str, Line] = {}
        self.build_seconds = 0.0  # the app paces live redraws by this
        self.generation = 0
        self.shown_generation = 0
        self.shown_size = (0, 0)
        self._text = Text("")
        self._job: _Job | None = None
        self._job_lock = threading.Lock()
        self._building = False

    @property
    def pending(self) -> bool:
        """True while the newest request is not on screen yet, or was built for another size."""
        return self.shown_generation != self.generation or self.shown_size != (self.size.width, self.size.height)

    def draw(self, runs: list[tuple[ChartRun, Line | None]], x_axis: str, smooth: bool) -> None:
        """Ask for the plot of these runs' lines; it appears when built."""
        self.lines = {run.key: ln for run, ln in runs if ln is not None}
        self.generation += 1
        job = _Job(
            self.generation, runs, self.size.width, self.size.height, self._get_plotext_theme_name(self.app.theme)
        )
        with self._job_lock:
            self._job = job
            if self._building:
                return
            self._building = True
        threading.Thread(target=self._builder, name=f"chart-{self.metric.key}", daemon=True).start()

    def _builder(self) -> None:
        while True:
            with self._job_lock:
                job, self._job = self._job, None
                if job is None:
                    self._building = False
                    return
            start = time.perf_counter()
            try:
                with _BUILD_LOCK:  # one chart at a time: fewer threads compete with the UI for the GIL
                    text = self._build(job)
            except Exception as exc:  # a plotting bug shows as text, never kills the app
                text = Text(f"{self.metric.title}: cannot draw ({exc})", style="red")
            self.post_message(self.Built(self, job, text, time.perf_counter() - start))

    def _build(self, job: _Job) -> Text:
        plt = self.plt  # used by this builder thread only, one job at a time
        plt.clear_figure()
        plt.title(self.metric.title)
        drawn = False
        for run, ln in job.lines:
            if ln is None:
                continue
            drawn = True
            if ln.smooth_x is not None and ln.smooth_y is not None:
                plt.plot(ln.x, ln.y, color=faint(run.color), marker="braille")
                plt.plot(ln.smooth_x, ln.smooth_y, color=run.color, marker="braille")
            else:
                plt.plot(ln.x, ln.y, color=run.color, marker="braille")
        if self.metric.reference is not None and drawn:
            plt.hline(self.metric.reference, color=REFERENCE_COLOR)
        if not drawn:
            plt.title(f"{self.metric.title}: no data yet")
        plt.xfrequency(3)
        plt.yfrequency(3)
        width, height = max(job.width, 10), max(job.height, 4)
        plt.plotsize(width, height)
        plt._set_size(width, height)
        plt.theme(job.theme)
        return Text.from_ansi(plt.build())

    def on_metric_chart_built(self, message: Built) -> None:
        message.stop()
        self.build_seconds = message.seconds
        job = message.job
        if job.generation >= self.shown_generation:
            self.shown_generation = job.generation
            self.shown_size = (job.width, job.height)
            self._text = message.text
            self.refresh()
            if self.shown_generation == self.generation and self.shown_size != (self.size.width, self.size.height):
                self.post_message(ChartsPanel.NeedsRedraw())  # resized while building: draw again

    def render(self) -> RenderResult:
        return self._text

    def on_resize(self) -> None:
        self.post_message(ChartsPanel.NeedsRedraw())

    def _register_theme(self, app_theme_name: str) -> None:
        super()._register_theme(app_theme_name)
        self.post_message(ChartsPanel.NeedsRedraw())  # the text was built with the old theme


class ChartsPanel(Vertical):
    """The legend (one colour per run, with its collapse badge) above a 2 x 2 grid of charts."""

    class NeedsRedraw(Message):
        """A chart changed size; redraw at the new width."""

    DEFAULT_CSS = """
    ChartsPanel { height: 1fr; }
    ChartsPanel #legend { height: auto; max-height: 3; padding: 0 1; }
    ChartsPanel #chart-grid { grid-size: 2 2; grid-gutter: 0 1; height: 1fr; }
    """

    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.legend = Static(id="legend")
        self._charts = [MetricChart(metric) for metric in METRICS]

    def compose(self) -> ComposeResult:
        yield self.legend
        with Grid(id="chart-grid"):
            yield from self._charts

    def charts(self) -> list[MetricChart]:
        """The four charts, in order."""
        return list(self._charts)

    def draw(
        self, runs: list[ChartRun], x_axis: str, smooth: bool, locks: dict[str, object], empty: str | None = None
    ) -> None:
        """Redraw every chart and the legend for these runs; `empty` replaces the legend when there are no runs."""
        for chart in self.charts():
            width = max(16, chart.size.width)  # a min and a max per cell: braille has two dots across
            lines = []
            for run in runs:
                lock = locks.get(run.key)
                if lock is not None:
                    with lock:  # type: ignore[attr-defined]
                        lines.append((run, line(run.history, chart.metric, x_axis, width, smooth)))
                else:
                    lines.append((run, line(run.history, chart.metric, x_axis, width, smooth)))
            chart.draw(lines, x_axis, smooth)
        self.legend.update(Text(empty, style="bold") if empty else legend(runs, x_axis, smooth))


def legend(runs: list[ChartRun], x_axis: str, smooth: bool) -> Text:
    """`■ simsiam healthy  ■ no-stop-grad COLLAPSED   x: step  smoothing: on`."""
    text = Text()
    if not runs:
        text.append("no run selected: space selects runs to compare", style="dim")
    for run in runs:
        text.append("■ ", style=hex_color(run.color))
        text.append(run.label + " ", style="bold")
        text.append_text(fmt.verdict(run.verdict))
        text.append("   ")
    text.append(f"x: {X_LABELS[x_axis]}  smoothing: {'on' if smooth else 'off'}", style="dim")
    return text
