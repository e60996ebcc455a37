"""Chart axes: ticks that fit any width, labels that never touch, and scales that never empty a chart."""

from __future__ import annotations

import math

import numpy as np
import pytest

from simsiam_tui.ui.series import Line
from simsiam_tui.ui.ticks import MAX_LABEL, fit_ticks, fits, forward, inverse, padded, symlog_threshold
from simsiam_tui.ui.widgets.charts import chart_scale

WIDTHS = (6, 12, 20, 29, 31, 45, 70, 110, 190)
RANGES = {
    "one point": padded(105.0, 105.0),
    "two points": (0.0, 1.0),
    "1e5 points": (1.0, 100_000.0),
    "constant": padded(400.0, 400.0),
    "a few ulps": (399.99999999999994, 400.00000000000006),
    "all negative": (-0.99997, -0.2),
    "tiny values": (1.2e-6, 3.4e-6),
    "huge values": (3.0e9, 7.5e12),
    "wall minutes": (0.0, 0.37),
    "around zero": (-0.004, 0.006),
}


def _check(lo: float, hi: float, cells: int, horizontal: bool, scale: str = "linear", threshold: float = 1.0) -> None:
    ticks, labels = fit_ticks(lo, hi, cells, horizontal, scale, threshold)
    assert ticks and len(ticks) == len(labels)
    assert len(set(labels)) == len(labels), labels  # no two ticks read the same
    assert all(len(label) <= MAX_LABEL for label in labels), labels
    assert all(lo - 1e-9 <= t <= hi + 1e-9 for t in ticks)
    if len(ticks) > 1:
        positions = [(t - lo) / (hi - lo) * (cells - 1) for t in ticks]
        assert fits(positions, labels, horizontal), (labels, positions)


@pytest.mark.parametrize("name", list(RANGES))
def test_labels_never_touch_at_any_width(name: str) -> None:
    lo, hi = padded(*RANGES[name])
    for cells in WIDTHS:
        _check(lo, hi, cells, True)
        _check(lo, hi, max(1, cells // 4), False)


def test_a_single_point_gets_sane_ticks() -> None:
    """One kNN evaluation at step 105 once drew `104.9999995105.0000000 105.0000005105.000`."""
    lo, hi = padded(105.0, 105.0)
    _, labels = fit_ticks(lo, hi, 29, True)
    assert labels == ["100", "102", "104", "106", "108", "110"]  # whole steps around the point
    assert padded(0.0, 0.0) == (-1.0, 1.0)


def test_log_ticks_are_decades_or_values_inside_one() -> None:
    _, labels = fit_ticks(-3.0, 1.0, 16, False, "log")
    assert labels == ["0.001", "0.01", "0.1", "1", "10"]
    lo, hi = forward([20.0, 27.0], "log")
    _, labels = fit_ticks(float(lo), float(hi), 12, False, "log")
    assert len(labels) >= 2 and all(20 <= float(label) <= 27 for label in labels)


def test_scales_round_trip() -> None:
    y = np.array([-1.0, -0.5, 0.0, 0.01, 3.0])
    for scale in ("linear", "symlog"):
        assert inverse(forward(y, scale, 0.01), scale, 0.01) == pytest.approx(y)
    assert math.isnan(forward([-1.0], "log")[0])
    assert symlog_threshold(y) == pytest.approx(0.01)


def _line(y: list[float]) -> Line:
    return Line(list(range(len(y))), y)


@pytest.mark.parametrize(
    ("values", "scale"),
    [
        ([-0.9, -0.95, -0.99], "symlog"),  # a SimSiam loss: log-y once emptied the chart
        ([0.0, 1.0, 2.0], "symlog"),
        ([0.5, 2.0, 30.0], "log"),
        ([float("nan"), 1.0], "log"),
    ],
)
def test_log_y_draws_what_it_can(values: list[float], scale: str) -> None:
    chosen, threshold = chart_scale(True, [_line(values)])
    assert chosen == scale
    drawn = forward(values, chosen, threshold)
    assert np.isfinite(drawn[np.isfinite(values)]).all()  # every finite value has a place on the axis
    assert chart_scale(False, [_line(values)]) == ("linear", 1.0)
