"""Axis ticks for the charts: as many as fit the chart's size, labels that never touch, on linear, log and symlog axes."""

from __future__ import annotations

from collections.abc import Sequence

from textual_plot import PlotWidget
from textual_plot.axis_formatter import AxisFormatter

from simsiam_tui.ui.ticks import fit_ticks, inverse, labels


def plot_cells(chart: PlotWidget) -> tuple[int, int]:
    """Columns and rows inside the plot's frame (the widget less its margins and the frame's two lines)."""
    width = chart.content_size.width - chart.margin_left - 2
    height = chart.content_size.height - chart.margin_top - chart.margin_bottom - 2
    return max(1, width), max(1, height)


class FitAxis(AxisFormatter):
    """Ticks for the chart's x (horizontal) or y axis in the drawing space of `scale` (ui/ticks.py), fitted to the
    size the chart has when it paints (a chart drawn while off screen has none yet)."""

    def __init__(self, chart: PlotWidget, horizontal: bool, scale: str = "linear", threshold: float = 1.0) -> None:
        self.chart, self.horizontal, self.scale, self.threshold = chart, horizontal, scale, threshold

    def get_ticks_and_labels(self, min_: float, max_: float, max_ticks: int = 8) -> tuple[list[float], list[str]]:
        cells = plot_cells(self.chart)[0 if self.horizontal else 1]
        return fit_ticks(min_, max_, cells, self.horizontal, self.scale, self.threshold)

    def get_ticks(self, min_: float, max_: float, max_ticks: int = 8) -> list[float]:
        return self.get_ticks_and_labels(min_, max_)[0]

    def get_labels_for_ticks(self, ticks: Sequence[float]) -> list[str]:
        return labels([float(v) for v in inverse(list(ticks), self.scale, self.threshold)])


def fit_axes(chart: PlotWidget, scale: str = "linear", threshold: float = 1.0) -> None:
    """Formatters for the chart: x labels with room between them, y labels a row apart, on the y scale `scale`."""
    chart.set_x_formatter(FitAxis(chart, True))
    chart.set_y_formatter(FitAxis(chart, False, scale, threshold))
