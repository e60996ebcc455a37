"""The chart picker: which metric each chart shows (any numeric field of train/collapse/eval/system) and log-y."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Checkbox, Label, Select

from simsiam_tui.store.text import printable
from simsiam_tui.ui.layout import MAX_CHARTS, ChartSlot, Layout
from simsiam_tui.ui.screens.fitted import FittedModal
from simsiam_tui.ui.series import DEFAULT_CHARTS, METRICS


class ChartPicker(FittedModal[Layout | None]):
    """Dismisses with the new layout (apply) or None (cancel, escape).

    With `apply`, Apply hands it the new layout before the dialog closes: the charts' new places are then in the
    same frame as the dialog's going, one full repaint instead of two (a repaint of a wide screen costs tens of ms,
    several times that on a loaded machine)."""

    DEFAULT_CSS = """
    ChartPicker { align: center middle; }
    ChartPicker > Vertical {
        width: 76; max-width: 98%; height: auto; max-height: 95%; border: thick $accent; background: $surface;
        padding: 0 1;
    }
    ChartPicker .slot { height: 3; }
    ChartPicker .slot Label { width: 9; padding: 1 0; }
    ChartPicker .slot Select { width: 1fr; }
    ChartPicker .slot Checkbox { width: 14; }
    ChartPicker #buttons { height: 3; align-horizontal: right; }
    ChartPicker Button { margin-left: 1; }
    ChartPicker.compact .slot { height: 1; }
    ChartPicker.compact .slot Label { padding: 0; }
    ChartPicker.compact #buttons { height: 1; margin-top: 1; }
    """
    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(
        self, layout: Layout, fields: list[str], apply: Callable[[Layout], Awaitable[None]] | None = None
    ) -> None:
        super().__init__()
        self.current = layout
        self.apply = apply
        self.answered = False  # Apply or Cancel was pressed: later presses (or escape) while it closes do nothing
        builtin = [(f"{m.title}", m.key) for m in METRICS]
        known = {m.key for m in METRICS}
        extra = [s.metric for s in layout.charts if s.metric not in known and s.metric not in fields]
        # field names come from event files: shown as plain text, never as markup, control characters escaped
        self.options = builtin + [(Text(printable(f)), f) for f in [*fields, *extra] if f not in known]

    def compose(self) -> ComposeResult:
        slots = self.current.charts
        with Vertical():
            yield Label("Charts: a metric per chart (blank hides it), log-y per chart", classes="title")
            for i in range(MAX_CHARTS):
                slot = slots[i] if i < len(slots) else None
                with Horizontal(classes="slot"):
                    yield Label(f"chart {i + 1}")
                    yield Select(
                        self.options,
                        value=slot.metric if slot else Select.NULL,
                        allow_blank=True,
                        prompt="(none)",
                        id=f"metric-{i}",
                    )
                    yield Checkbox("log y", bool(slot and slot.log_y), id=f"log-{i}")
            with Horizontal(id="buttons"):
                yield Button("Defaults", id="defaults")
                yield Button("Cancel", id="cancel")
                yield Button("Apply", id="apply", variant="primary")

    def chosen(self) -> list[ChartSlot]:
        """The slots as the form stands: blank ones dropped, a metric shown once."""
        slots: list[ChartSlot] = []
        for i in range(MAX_CHARTS):
            value = self.query_one(f"#metric-{i}", Select).value
            if isinstance(value, str) and all(s.metric != value for s in slots):
                slots.append(ChartSlot(value, self.query_one(f"#log-{i}", Checkbox).value))
        return slots

    async def on_button_pressed(self, event: Button.Pressed) -> None:
        if self.answered:
            return
        if event.button.id == "cancel":
            self.action_cancel()
        elif event.button.id == "defaults":
            for i in range(MAX_CHARTS):
                value = DEFAULT_CHARTS[i] if i < len(DEFAULT_CHARTS) else Select.NULL
                self.query_one(f"#metric-{i}", Select).value = value
                self.query_one(f"#log-{i}", Checkbox).value = False
        else:
            slots = self.chosen()
            if not slots:
                self.notify("pick at least one chart", severity="warning")
                return
            layout = Layout(slots, self.current.x_axis, self.current.smooth)
            self.answered = True
            if self.apply is not None:
                await self.apply(layout)
            self.dismiss(layout)

    def action_cancel(self) -> None:
        if not self.answered:
            self.answered = True
            self.dismiss(None)
