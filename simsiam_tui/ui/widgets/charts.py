"""Four charts that overlay the compared runs (loss, z_std/ref, kNN, effective rank) and their legend."""

from __future__ import annotations

from dataclasses import dataclass

from rich.text import Text
from textual.app import ComposeResult
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


class MetricChart(PlotextPlot):
    """One metric for every compared run, with the raw series faint behind the smoothed one."""

    DEFAULT_CSS = """
    MetricChart { height: 1fr; width: 1fr; }
    """

    def __init__(self, metric: Metric, **kwargs: object) -> None:
        super().__init__(id=f"chart-{metric.key}", **kwargs)  # type: ignore[arg-type]
        self.metric = metric
        self.lines: dict[str, Line] = {}

    def draw(self, runs: list[tuple[ChartRun, Line | None]], x_axis: str, smooth: bool) -> None:
        """Replace the plot with these runs' lines."""
        plt = self.plt
        plt.clear_figure()
        plt.title(self.metric.title)
        self.lines = {run.key: ln for run, ln in runs if ln is not None}
        drawn = False
        for run, ln in runs:
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
        self.refresh()

    def on_resize(self) -> None:
        self.post_message(ChartsPanel.NeedsRedraw())


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

    def draw(self, runs: list[ChartRun], x_axis: str, smooth: bool, locks: dict[str, object]) -> None:
        """Redraw every chart and the legend for these runs."""
        for chart in self.charts():
            width = max(20, chart.size.width * 2)  # braille: two points per cell
            lines = []
            for run in runs:
                lock = locks.get(run.key)
                if lock is not None:
                    with lock:  # type: ignore[attr-defined]
                        lines.append((run, line(run.history, chart.metric, x_axis, width, smooth)))
                else:
                    lines.append((run, line(run.history, chart.metric, x_axis, width, smooth)))
            chart.draw(lines, x_axis, smooth)
        self.legend.update(legend(runs, x_axis, smooth))


def legend(runs: list[ChartRun], x_axis: str, smooth: bool) -> Text:
    """`■ simsiam ok  ■ no-stop-grad COLLAPSED   x: step  smoothing: on`."""
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
