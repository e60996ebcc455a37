"""The charts' view state: the layout (metrics, log-y, x axis, smoothing), the x zoom shared by every chart, the cursor.

No widgets here: the app asks a ChartView what a key does to the view, and redraws when it says the view changed.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from simsiam_tui.ui.layout import Layout

CURSOR_STEPS = 60  # `[` and `]` move the cursor by this fraction of the visible x range

XRange = tuple[float, float]


@dataclass
class ChartView:
    """What the charts show and where: every method returns True when the view changed (the charts redraw)."""

    layout: Layout = field(default_factory=Layout)
    x_range: XRange | None = None  # the zoomed x range shared by every chart (None: all the data)
    cursor_x: float | None = None

    def visible(self, data: XRange | None) -> XRange | None:
        """The x range on screen: the zoom, else all the data (`data`, None when nothing is drawn)."""
        return self.x_range or data

    def show(self, x_range: XRange | None) -> bool:
        """Show this x range on every chart (None: all); an empty or inverted range changes nothing."""
        if x_range is not None and not x_range[1] > x_range[0]:
            return False
        self.x_range = x_range
        return True

    def zoom(self, factor: float, data: XRange | None) -> bool | None:
        """Zoom x by `factor` (< 1: in) around the cursor when it is shown, else the middle. None: nothing drawn."""
        view = self.visible(data)
        if view is None:
            return None
        lo, hi = view
        center = self.cursor_x if self.cursor_x is not None and lo <= self.cursor_x <= hi else (lo + hi) / 2
        return self.show((center - (center - lo) * factor, center + (hi - center) * factor))

    def pan(self, fraction: float, data: XRange | None) -> bool | None:
        """Move the x window by a fraction of its width. None: nothing drawn."""
        view = self.visible(data)
        if view is None:
            return None
        shift = (view[1] - view[0]) * fraction
        return self.show((view[0] + shift, view[1] + shift))

    def toggle_cursor(self, data: XRange | None) -> bool | None:
        """A cursor in the middle of the visible range, or none. None: nothing drawn and no cursor to remove."""
        view = self.visible(data)
        if view is None and self.cursor_x is None:
            return None
        self.cursor_x = None if self.cursor_x is not None or view is None else (view[0] + view[1]) / 2
        return True

    def move_cursor(self, steps: int, data: XRange | None) -> bool | None:
        """Move the cursor `steps` of CURSOR_STEPS across the visible range (placing it first). None: nothing drawn."""
        view = self.visible(data)
        if view is None:
            return None
        if self.cursor_x is None:
            self.cursor_x = (view[0] + view[1]) / 2
        self.cursor_x += steps * (view[1] - view[0]) / CURSOR_STEPS
        return True

    def set_x_axis(self, x_axis: str) -> None:
        """Another x unit: the zoom and the cursor meant something only in the old one."""
        self.layout.x_axis = x_axis
        self.x_range, self.cursor_x = None, None

    def set_log_y(self, metric: str, log_y: bool) -> None:
        """Remember a chart's log-y in the layout."""
        for slot in self.layout.charts:
            if slot.metric == metric:
                slot.log_y = log_y
