"""SimsiamApp: the runs table, overlaid charts, GPU panel and run details, updated live from the run directories."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

from textual import events
from textual.app import App, ComposeResult, SystemCommand
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.notifications import SeverityLevel
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Header

from simsiam_tui.store import resolve_path, runs_root
from simsiam_tui.store.text import printable
from simsiam_tui.ui.actions import Backend
from simsiam_tui.ui.input_pace import InputPace
from simsiam_tui.ui.layout import ChartSlot, Layout, load_layout
from simsiam_tui.ui.live_charts import CANNOT_PAGE, LiveCharts, shown_path
from simsiam_tui.ui.model import LOCAL_HOST, Catalog
from simsiam_tui.ui.poller import Changes, Poller
from simsiam_tui.ui.run_actions import PaletteEntry, RunActions, RunsDeleted
from simsiam_tui.ui.run_rows import RunRows
from simsiam_tui.ui.screens.help import HelpScreen
from simsiam_tui.ui.series import X_AXES
from simsiam_tui.ui.widgets.details import DetailsPanel
from simsiam_tui.ui.widgets.gpu_panel import GpuPanel, render_gpus
from simsiam_tui.ui.widgets.runs_table import RunsTable

AUTO_COMPARE = 6  # until the user picks, up to this many runs are compared automatically
NARROW_WIDTH, SHORT_HEIGHT = 110, 30
SHORT_CHART_CELLS, SLIM_WIDTH = 2, 60  # a short terminal shows one row of charts at a time; a slim one, one chart
CANNOT = {
    "p": "p swaps the charts and the GPU/log/config panels on a narrow terminal (under 110 columns); "
    "here both are on screen",
    "n": CANNOT_PAGE,
    "y": "y sets log-y on the focused chart: click a chart (or tab to it), then y; r there sets it back",
}

CSS = """
Screen { layout: vertical; }
#runs { height: auto; max-height: 40%; min-height: 3; }
#body { height: 1fr; }
#charts { width: 1fr; }
#side { width: 46; border-left: vkey $foreground 20%; }
#gpu { border-bottom: hkey $foreground 20%; }
Screen.narrow #side { display: none; }
Screen.narrow #quantiles { display: none; }
Screen.narrow.show-side #side { display: block; width: 1fr; border-left: none; }
Screen.narrow.show-side #charts { display: none; }
Screen.short #runs { max-height: 7; }
Screen.short #legend { max-height: 1; text-wrap: nowrap; text-overflow: ellipsis; }
Screen.slim #chart-grid { grid-size: 1; }
Screen.short #gpu { max-height: 40%; }
"""


class PollerChanged(Message):
    """The poller read something new (posted from its thread). While the UI thread is busy, passes queue up:
    Textual hands a message still in the queue to the next one's can_replace, which takes its changes in, so
    the app handles one message with everything the passes read (no pass is lost, none is handled twice)."""

    def __init__(self, changes: Changes) -> None:
        super().__init__()
        self.changes = changes

    def can_replace(self, message: Message) -> bool:
        if not isinstance(message, PollerChanged):
            return False
        message.changes.absorb(self.changes)  # `message`, the newer one, is kept: it now holds both
        return True


class SimsiamApp(App[None]):
    """The Textual app on one or more run roots. Its parts own their state: RunRows (the table's rows), LiveCharts
    (the chart view controller) and RunActions (launch, stop, resume, delete, export); the app lays them out,
    routes keys and the poller's news to them, and keeps the side panels."""

    TITLE = "simsiam-tui"
    CSS = CSS
    BINDINGS = [
        Binding("p", "toggle_panels", "Panels"),
        Binding("n", "next_charts", "More charts"),
        Binding("l", "launch", "Launch"),
        Binding("s", "stop", "Stop"),
        Binding("r", "resume", "Resume"),
        Binding("d", "delete", "Delete"),
        Binding("e", "export", "Export"),
        Binding("m", "toggle_smoothing", "Smooth"),
        Binding("x", "cycle_x_axis", "X-axis"),
        Binding("v", "pick_charts", "Charts"),
        Binding("plus,equals_sign", "zoom_x(0.6)", "Zoom", show=False),
        Binding("minus", "zoom_x(1.6)", "Zoom out", show=False),
        Binding("less_than_sign", "pan_x(-0.25)", "Pan left", show=False),
        Binding("greater_than_sign", "pan_x(0.25)", "Pan right", show=False),
        Binding("0", "reset_view", "Reset zoom", show=False),
        Binding("c", "toggle_cursor", "Cursor"),
        Binding("left_square_bracket", "move_cursor(-1)", "Cursor left", show=False),
        Binding("right_square_bracket", "move_cursor(1)", "Cursor right", show=False),
        Binding("question_mark,f1", "help", "Help"),
        Binding("q", "quit", "Quit"),
        # the same keys when they cannot act (a wide terminal, nothing focused): they say why, never nothing
        Binding("p", "cannot('p')", "Panels (narrow terminals)", show=False),
        Binding("n", "cannot('n')", "More charts (short terminals)", show=False),
        Binding("y", "cannot('y')", "Log y (on a focused chart)", show=False),
    ]

    def __init__(
        self,
        roots: Sequence[str | Path],
        backend: Backend | None = None,
        poll_interval: float = 0.5,
        export_dir: Path | None = None,
        presets_dir: str | None = None,
        clock: Callable[[], float] | None = None,
    ) -> None:
        super().__init__()
        self.roots = [resolve_path(r) for r in roots] or [runs_root(None)]  # absolute: workers start elsewhere
        self.catalog = Catalog(self.roots)
        backend = backend or Backend()
        self.poller = Poller(self.catalog, backend, self._from_poller, interval=poll_interval)
        self.clock = clock or time.time
        self.pace = InputPace()
        self.auto_select = True
        self._held_updates: list[Callable[[], None]] = []  # live panel updates waiting for the keys to pause
        self.sub_title = "  ".join(printable(shown_path(r)) for r in self.roots)  # a folder name may hold escapes
        self.closing = False
        self.seen_versions: dict[str, int] = {}
        layout, self.layout_notice = load_layout(self.roots[0])
        # the parts: made here, laid out in compose
        self.table = RunsTable(id="runs")
        self.rows = RunRows(self.catalog, self.table, self.clock)
        self.charts_panel = LiveCharts(self.rows, self.roots, self.pace, layout, id="charts")
        self.gpu_panel = GpuPanel(id="gpu")
        self.details = DetailsPanel(id="details")
        self.actions = RunActions(
            self,
            backend,
            self.rows,
            self.poller,
            self.roots,
            export_dir or Path.cwd(),
            presets_dir,
            lambda: self.x_axis,
        )

    # the charts' state (LiveCharts' view), read here, by tests and by benchmarks as the app's own
    @property
    def x_range(self) -> tuple[float, float] | None:
        """The zoomed x range shared by every chart (None: all the data)."""
        return self.charts_panel.view.x_range

    @property
    def cursor_x(self) -> float | None:
        """Where the cursor reads every run's value (None: no cursor)."""
        return self.charts_panel.view.cursor_x

    @property
    def chart_layout(self) -> Layout:
        """The charts' metrics, log-y, x axis and smoothing."""
        return self.charts_panel.view.layout

    @property
    def smooth(self) -> bool:
        return self.chart_layout.smooth

    @property
    def x_axis(self) -> str:
        return self.chart_layout.x_axis

    # -- layout -----------------------------------------------------------------------------------
    def notify(
        self,
        message: str,
        *,
        title: str = "",
        severity: SeverityLevel = "information",
        timeout: float | None = None,
        markup: bool = False,
    ) -> None:
        """Toasts as plain text, always: they quote paths, run names and errors, and a `[` there is not markup;
        a control character from a run folder is shown escaped, never sent to the terminal."""
        message, title = printable(message, keep_newlines=True), printable(title)
        super().notify(message, title=title, severity=severity, timeout=timeout, markup=False)

    def compose(self) -> ComposeResult:
        yield Header(icon="◧")
        yield self.table
        with Horizontal(id="body"):
            yield self.charts_panel
            with Vertical(id="side"):
                yield self.gpu_panel
                yield self.details
        yield Footer()

    def on_mount(self) -> None:
        self.main_screen = self.screen  # while a dialog is open, self.screen is the dialog
        self.table.focus()
        self._layout_for(self.size.width, self.size.height)
        self.poller.start()
        self.set_interval(1.0, self._tick)
        self.refresh_gpu_panel()
        if self.layout_notice:
            self.notify(self.layout_notice, severity="warning", timeout=10)

    def on_unmount(self) -> None:
        self.closing = True
        self.poller.stop()

    def on_resize(self, event: events.Resize) -> None:
        self._layout_for(event.size.width, event.size.height)

    def _layout_for(self, width: int, height: int) -> None:
        screen = getattr(self, "main_screen", None)
        if screen is None:
            return
        narrow, short = width < NARROW_WIDTH, height < SHORT_HEIGHT
        if narrow != screen.has_class("narrow") or short != screen.has_class("short"):
            screen.set_class(narrow, "narrow")
            screen.set_class(short, "short")
            self.refresh_bindings()
        screen.set_class(width < SLIM_WIDTH, "slim")
        self.charts_panel.show_page_for((1 if width < SLIM_WIDTH else SHORT_CHART_CELLS) if short else None)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """`p` (charts <-> side panels) acts, and shows in the footer, on a narrow terminal; `n` (the next charts)
        on a short one. Elsewhere their `cannot` bindings say why they do nothing."""
        screen = getattr(self, "main_screen", None)
        if action == "toggle_panels":
            return bool(screen is not None and screen.has_class("narrow"))
        if action == "next_charts":
            return bool(screen is not None and self.charts_panel.pages > 1)
        return True

    # -- live data --------------------------------------------------------------------------------
    def _from_poller(self, changes: Changes) -> None:
        """Called on the poller thread: hand the changes to the UI thread."""
        self.post_message(PollerChanged(changes))

    def on_poller_changed(self, message: PollerChanged) -> None:
        if self.closing or not self.table.is_mounted:
            return
        changes = message.changes
        table = self.table
        for key in changes.new:
            self.rows.color(key)
            if self.auto_select and len(table.selected) < AUTO_COMPARE and key not in table.selected:
                table.selected.append(key)
        labels = self.rows.labels()
        for key in [*changes.new, *changes.runs]:
            model = self.catalog.get(key)
            if model is not None:
                self.seen_versions[key] = model.version
            self.rows.update(key, labels, live=True)
        if changes.new:
            self.rows.update_all(labels, live=True)
        self.charts_panel.runs_changed(changes.new, changes.runs)
        if changes.gpus or changes.runs:
            self._after_keys(self.refresh_gpu_panel)
        if changes.error:
            self.notify(changes.error, severity="error", timeout=10)
        cursor = table.cursor_key
        if cursor and (cursor in changes.runs or changes.log or cursor in changes.new):
            self._after_keys(self._refresh_details)

    def _after_keys(self, update: Callable[[], None]) -> None:
        """Run a live side-panel update now, or once the keys pause (their frames are painted first)."""
        wait = self.pace.wait()
        if wait <= 0:
            update()
            return
        if update in self._held_updates:
            return
        self._held_updates.append(update)

        def run() -> None:
            self._held_updates.remove(update)
            if not self.closing:
                self._after_keys(update)

        self.set_timer(wait, run)

    def _tick(self) -> None:
        """Once a second: elapsed and ETA of live runs move on."""
        if not self.closing:
            self.rows.tick()

    async def on_event(self, event: events.Event) -> None:
        if isinstance(event, events.Key):
            self.pace.key_pressed()
            self.table.hold_live(self.pace.quiet_s)  # the key's frame first, from the table's render cache
        await super().on_event(event)

    @property
    def charts_current(self) -> bool:
        """True when the table and charts show everything the poller has read (tests wait on this)."""
        seen = all(self.seen_versions.get(m.key) == m.version for m in self.catalog.models())
        return seen and not self.table.pending and not self._held_updates and self.charts_panel.current

    # -- side panels ------------------------------------------------------------------------------
    def refresh_gpu_panel(self) -> None:
        """Local GPUs from the probe, then what each live run's own `system` events say (remote hosts first)."""
        runs = []
        labels = self.rows.labels()
        for model in self.catalog.models():
            summary = model.summary
            if summary is None or not summary.live:
                continue
            with model.lock:
                system = model.shown.series["system"]
                last = model.shown.last.get("system") or {}
                utils = list(system.column("gpu_util_pct"))[-120:]
            if last:
                host = summary.host if summary.host and summary.host != LOCAL_HOST else "this host"
                runs.append((labels.get(model.key, summary.name), host, last, utils))
        remote = sorted(runs, key=lambda r: r[1] == "this host")
        panel = self.gpu_panel
        width = max(20, (panel.size.width or 44) - 2)
        panel.update(render_gpus(self.poller.gpus, self.poller.gpu_note, self.poller.gpus_probed, remote, width))

    def _refresh_details(self) -> None:
        key = self.table.cursor_key
        model = self.catalog.get(key) if key else None
        if model is None:
            self.details.show_run(None, None, {})
            self.details.show_log(None, [])
            return
        self.details.show_run(model.summary, model.status, model.config)
        self.details.show_log(key, model.log_lines)

    # -- the table's messages ---------------------------------------------------------------------
    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        key = event.row_key.value if event.row_key else None
        self.poller.focus = key
        self.call_after_refresh(self.poller.wake)  # its reading competes for the GIL: after the key's frame
        self._refresh_details()
        if not self.table.selected:
            self.charts_panel.request_redraw()
        else:
            self.charts_panel.schedule_quantiles()  # the std view follows the cursor's run

    def on_runs_table_selection_changed(self, message: RunsTable.SelectionChanged) -> None:
        self.auto_select = False
        self.rows.update_all()
        self.charts_panel.redraw()

    def on_runs_deleted(self, message: RunsDeleted) -> None:
        for key in message.keys:
            self.catalog.forget(key)
            self.table.drop(key)
        self.charts_panel.redraw()
        self._refresh_details()

    # -- keys: each routed to the part that owns what it changes ------------------------------------
    def action_launch(self) -> None:
        """Open the launch dialog."""
        self.actions.launch()

    def action_stop(self) -> None:
        """Stop the selected runs (asks first)."""
        self.actions.stop()

    def action_resume(self) -> None:
        """Resume the selected runs (asks first)."""
        self.actions.resume()

    def action_delete(self) -> None:
        """Delete the selected runs (asks first)."""
        self.actions.delete()

    def action_export(self) -> None:
        """Export the selected runs: events as CSV, or a figure (PNG/PDF) like `runs plot`."""
        self.actions.export()

    def action_toggle_smoothing(self) -> None:
        """Smoothing (EMA) on or off."""
        self.charts_panel.set_smooth(not self.smooth)

    def action_cycle_x_axis(self) -> None:
        """x-axis: step, epoch, wall time."""
        self.charts_panel.set_x_axis(X_AXES[(X_AXES.index(self.x_axis) + 1) % len(X_AXES)])
        self.notify(f"x-axis: {self.x_axis}", timeout=1.5)

    def action_pick_charts(self) -> None:
        """`v`: choose which metric each chart shows (any numeric field of train/collapse/eval/system), and log-y."""
        self.charts_panel.pick()

    def set_chart_slots(self, slots: list[ChartSlot]) -> None:
        """Replace the charts (tests and the palette use this too)."""
        self.charts_panel.set_slots(slots)

    def action_zoom_x(self, factor: float) -> None:
        """`+`/`-`: zoom every chart's x axis in or out, around the cursor when it is shown."""
        self.charts_panel.zoom_x(factor)

    def action_pan_x(self, fraction: float) -> None:
        """`<`/`>`: move every chart's x window by a fraction of its width."""
        self.charts_panel.pan_x(fraction)

    def action_reset_view(self) -> None:
        """`0`: every chart back to all the data."""
        self.charts_panel.set_view(None)

    def action_toggle_cursor(self) -> None:
        """`c`: a cursor in the middle of the visible x range that reads every run's value, or no cursor."""
        self.charts_panel.toggle_cursor()

    def action_move_cursor(self, steps: int) -> None:
        """`[`/`]`: move the cursor left or right."""
        self.charts_panel.move_cursor(steps)

    def action_next_charts(self) -> None:
        """`n` on a short terminal: the next row of charts."""
        self.charts_panel.next_page()

    def action_toggle_panels(self) -> None:
        """On a narrow terminal: show the GPU, log and config panels instead of the charts, or back."""
        if not self.main_screen.has_class("narrow"):
            self.action_cannot("p")  # from the palette: the key's own binding says so itself
            return
        self.main_screen.toggle_class("show-side")

    def action_cannot(self, key: str) -> None:
        """A key pressed where it cannot act: say why, and what would make it act."""
        self.notify(CANNOT.get(key, f"{key} does nothing here"), timeout=4)

    def action_help(self) -> None:
        """Show the keys and the collapse rule."""
        self.push_screen(HelpScreen())

    # -- the command palette ----------------------------------------------------------------------
    def get_system_commands(self, screen: Screen[Any]) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        for title, help_text, callback in self.palette_entries():
            # the palette reads help as markup: `[ and ]` are keys here, so every bracket is escaped
            yield SystemCommand(title, help_text.replace("[", "\\["), callback)

    def palette_entries(self) -> Iterable[PaletteEntry]:
        """The app's palette entries as plain text: title, help, action."""
        yield from self.actions.palette()
        yield ("Pick charts", "Any numeric metric on any chart, log-y per chart", self.action_pick_charts)
        yield ("Cursor", "Read every run's value at one x ([ and ] move it)", self.action_toggle_cursor)
        yield ("Reset zoom", "Every chart back to all the data", self.action_reset_view)
        yield ("Toggle smoothing", "EMA on/off; raw points stay faint behind", self.action_toggle_smoothing)
        yield ("Switch x-axis", "step -> epoch -> wall time", self.action_cycle_x_axis)
        yield ("Toggle panels", "Narrow terminals: charts or GPU/log/config", self.action_toggle_panels)
        yield ("More charts", "Short terminals: the next row of charts", self.action_next_charts)
        yield ("Help", "Keys and the collapse rule", self.action_help)


def run_app(roots: Sequence[str | Path], **kwargs: Any) -> None:
    """Open the app on these run roots and block until it quits."""
    SimsiamApp(roots, **kwargs).run()
