"""Charts that never mislead: one point, two, 1e5, a constant, NaN and inf, all negative on log-y; any size."""

from __future__ import annotations

import math

import pytest
from textual.app import App, ComposeResult

from simsiam_tui.store import RunHistory, Verdict
from simsiam_tui.ui.series import metric_for
from simsiam_tui.ui.ticks import fit_ticks, fits
from simsiam_tui.ui.widgets.axes import plot_cells
from simsiam_tui.ui.widgets.charts import ChartRun, MetricChart, _line

SIZES = ((24, 10), (39, 15), (110, 32))  # a slim pane, half of 80x24, a wide terminal
NAN, INF = float("nan"), float("inf")


def history(ys: list[float], kind: str = "train", field: str = "loss", every: int = 1) -> RunHistory:
    h = RunHistory()
    h.apply([{"kind": kind, "step": (i + 1) * every, "epoch": i, "time": float(i), field: y} for i, y in enumerate(ys)])
    return h


CASES = {
    "one point": history([0.42], "eval", "knn_top1", every=105),
    "two points": history([0.3, 0.5], "eval", "knn_top1", every=40),
    "1e5 points": history([-1 + 1 / (1 + i) for i in range(100_000)]),
    "constant": history([400.0] * 50, "collapse", "effective_rank"),
    "nan and inf": history([0.5, NAN, 0.4, INF, -INF, 0.3]),
    "all negative": history([-0.2 - 0.79 * (1 - math.exp(-i / 30)) for i in range(300)]),
}
METRIC = {"one point": "knn", "two points": "knn", "constant": "rank"}


class Chart(App[None]):
    def __init__(self, chart: MetricChart) -> None:
        super().__init__()
        self.chart = chart

    def compose(self) -> ComposeResult:
        yield self.chart


def _ink(app: App[None]) -> int:
    """Braille dots and point markers on screen: what was drawn."""
    svg = app.export_screenshot()
    return sum(1 for ch in svg if 0x2801 <= ord(ch) <= 0x28FF or ch == "●")


async def _draw(case: str, size: tuple[int, int], log_y: bool = False) -> tuple[MetricChart, int]:
    metric = metric_for(METRIC.get(case, "loss"))
    chart = MetricChart(metric, log_y)
    app = Chart(chart)
    async with app.run_test(size=size) as pilot:
        await pilot.pause()
        run = ChartRun("r", "run", (86, 180, 233), Verdict("healthy", ""), CASES[case])
        width = plot_cells(chart)[0]
        chart.draw([(run, _line(run, metric, "step", width, True, None))], None, None)
        await pilot.pause()
        return chart, _ink(app)


def _assert_sane_axes(chart: MetricChart) -> None:
    width, height = plot_cells(chart)
    for (lo, hi), cells, horizontal, scale in (
        (chart.limits[0], width, True, "linear"),
        (chart.limits[1], height, False, chart.scale),
    ):
        assert hi > lo and math.isfinite(lo) and math.isfinite(hi)
        assert (hi - lo) > 1e-6 * max(abs(lo), abs(hi), 1.0)  # never a few ulps wide
        ticks, labels = fit_ticks(lo, hi, cells, horizontal, scale, chart.threshold)
        assert labels and all(len(label) <= 7 for label in labels), labels
        positions = [(t - lo) / (hi - lo) * (cells - 1) for t in ticks]
        assert fits(positions, labels, horizontal), labels


@pytest.mark.parametrize("case", list(CASES))
async def test_every_case_draws_with_sane_ticks_at_every_size(case: str) -> None:
    for size in SIZES:
        chart, ink = await _draw(case, size)
        assert ink > 0, (case, size)  # something is drawn: a dot for one point, a line otherwise
        _assert_sane_axes(chart)
        assert "no data" not in str(chart.border_title)


async def test_one_point_sits_inside_a_padded_axis() -> None:
    chart, _ = await _draw("one point", (39, 15))
    (xlo, xhi), (ylo, yhi) = chart.limits
    assert xlo < 105 < xhi and ylo < 0.42 < yhi and xhi - xlo < 20


async def test_log_y_on_an_all_negative_series_is_a_symmetric_log() -> None:
    chart, ink = await _draw("all negative", (39, 15), log_y=True)
    assert chart.scale == "symlog" and ink > 0 and "symlog" in str(chart.border_title)
    assert "values <= 0" in chart.scale_note() and "back to linear" in chart.scale_note()
    _assert_sane_axes(chart)


async def test_nothing_finite_says_so() -> None:
    metric = metric_for("loss")
    chart = MetricChart(metric)
    app = Chart(chart)
    async with app.run_test(size=(39, 15)) as pilot:
        await pilot.pause()
        chart.draw([], None, None, "nothing finite to draw (NaN or inf)")
        await pilot.pause()
        assert "nothing finite" in str(chart.border_title)
