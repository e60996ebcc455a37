"""The per-dimension std of the selected run over time, as quantile bands: a collapsing run's dimensions die."""

from __future__ import annotations

from typing import Any

import numpy as np
from rich.text import Text
from textual_plot import HiResMode, PlotWidget

from simsiam_tui.ui.quantiles import BANDS
from simsiam_tui.ui.ticks import padded
from simsiam_tui.ui.widgets.axes import fit_axes

# min and max faint, the quartiles brighter, the median brightest: a band that narrows toward 0 is collapse
BAND_STYLES = ("#4e6a88", "#6fa8dc", "#e8f1ff", "#6fa8dc", "#4e6a88")
REFERENCE_COLOR = "#969696"


class QuantileChart(PlotWidget):
    """Quantile bands (min, 25%, median, 75%, max) of `std_quantiles` for one run, with the 1/sqrt(d) line."""

    DEFAULT_CSS = """
    QuantileChart { height: 1fr; width: 1fr; border-top: solid $foreground 25%; }
    """

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        for name, value in (("margin_top", 0), ("margin_bottom", 2), ("margin_left", 8)):
            self.set_reactive(getattr(PlotWidget, name), value)  # before mount: the watchers need the children
        self.border_title = Text("per-dim std quantiles")  # plain: names come from files
        self.run_label: str | None = None
        self.points = 0
        self.signature: object = None

    def draw(
        self,
        label: str | None,
        x: np.ndarray,
        q: np.ndarray,
        reference: float | None,
        x_range: tuple[float, float] | None,
    ) -> None:
        """Draw one run's bands (q: rows of BANDS quantiles) or say why there is nothing to draw."""
        self.run_label, self.points = label, len(x)
        if not self.is_mounted:
            return
        ends = (float(x[0]), float(x[-1])) if len(x) else ()
        signature = (label, len(x), ends, reference, x_range, self.size.width, self.size.height)
        if signature == self.signature:
            return  # the same picture: drawing it again would cost a frame for nothing
        self.signature = signature
        self.clear()
        fit_axes(self)
        if label is None:
            self.border_title = Text("per-dim std quantiles: move the cursor to a run")
        elif not len(x):
            self.border_title = Text(f"std quantiles of {label}: no collapse events yet")
        else:
            self.border_title = Text(f"std quantiles of {label} (min 25 50 75 max)")
            for j in range(len(BANDS)):
                if len(x) == 1:  # a line of one point draws nothing
                    self.scatter(x, q[:, j], marker="●", marker_style=BAND_STYLES[j])
                else:
                    self.plot(x, q[:, j], line_style=BAND_STYLES[j], hires_mode=HiResMode.BRAILLE)
            if reference is not None:
                lo, hi = x_range or (float(x[0]), float(x[-1]))
                self.plot([lo, hi], [reference, reference], line_style=REFERENCE_COLOR, hires_mode=HiResMode.BRAILLE)
        if len(x):  # explicit limits: one collapse event is a point with room around it, not a 1e-6 wide axis
            finite = q[np.isfinite(q)]
            top = max(float(finite.max()) if finite.size else 0.0, reference or 0.0)
            self.set_xlimits(*(x_range or padded(float(x[0]), float(x[-1]))))
            self.set_ylimits(0.0, top if top > 0 else 1.0)
        else:
            self.set_xlimits(None, None)
            self.set_ylimits(None, None)
