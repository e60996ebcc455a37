"""Chart axes: ticks that fit, and labels for any range."""

from __future__ import annotations

from simsiam_tui.ui.widgets.axes import FitFormatter


def test_a_flat_line_a_few_ulps_wide_gets_labelled_ticks():
    """A chart of a constant (effective rank 400 every step) once crashed the app drawing its y labels."""
    for limit in range(2, 9):
        ticks, labels = FitFormatter(limit).get_ticks_and_labels(399.99999999999994, 400.00000000000006, 8)
        assert ticks == sorted(set(ticks)) and len(labels) == len(ticks) >= 1
