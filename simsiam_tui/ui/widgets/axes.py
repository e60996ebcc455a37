"""Axis ticks for the charts: as many as fit the chart's size, and log-scale labels."""

from __future__ import annotations

from typing import Any

from textual_plot import NumericAxisFormatter, PlotWidget


class FitFormatter(NumericAxisFormatter):
    """Nice ticks, no more than fit the chart (labels of a narrow chart never run into each other)."""

    def __init__(self, limit: int = 8) -> None:
        self.limit = limit

    def get_ticks(self, min_: float, max_: float, max_ticks: int = 8) -> list[float]:
        ticks = super().get_ticks(min_, max_, max(2, min(max_ticks, self.limit)))
        # a flat line's range is a few ulps wide: its ticks round to equal floats, and equal neighbours
        # make the label precision log10(0) (a crash while drawing)
        return sorted(set(ticks))


class LogFormatter(FitFormatter):
    """Ticks of a log10-transformed axis, labelled with the values themselves (0.01, 0.1, 1...)."""

    def get_labels_for_ticks(self, ticks: Any) -> list[str]:
        return [f"{10**t:.2g}" for t in ticks]


def fit_axes(chart: PlotWidget, log_y: bool = False) -> None:
    """Tick counts for the chart's current size: a label about every 10 columns and every 3 rows."""
    width, height = chart.size.width - chart.margin_left, chart.size.height - chart.margin_bottom
    chart.set_x_formatter(FitFormatter(max(2, width // 10)))
    chart.set_y_formatter((LogFormatter if log_y else FitFormatter)(max(2, height // 3)))
