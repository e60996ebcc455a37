"""SimsiamApp: the runs table, overlaid charts, GPU panel and run details, updated live from the run directories."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from textual import events
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.notifications import SeverityLevel
from textual.reactive import reactive
from textual.widgets import DataTable, Footer, Header

from simsiam_tui.store import resolve_path, runs_root
from simsiam_tui.store.text import printable
from simsiam_tui.ui.actions import Backend
from simsiam_tui.ui.app_base import AppBase
from simsiam_tui.ui.chart_view import ChartView
from simsiam_tui.ui.commands import ActionsMixin
from simsiam_tui.ui.explore import ExploreMixin
from simsiam_tui.ui.layout import Layout, load_layout
from simsiam_tui.ui.model import LOCAL_HOST, Catalog
from simsiam_tui.ui.poller import Changes, Poller
from simsiam_tui.ui.run_rows import RunRows
from simsiam_tui.ui.widgets.charts import ChartsPanel
from simsiam_tui.ui.widgets.details import DetailsPanel
from simsiam_tui.ui.widgets.gpu_panel import GpuPanel, render_gpus
from simsiam_tui.ui.widgets.runs_table import RunsTable

AUTO_COMPARE = 6  # until the user picks, up to this many runs are compared automatically
NARROW_WIDTH, SHORT_HEIGHT = 110, 30
SHORT_CHART_CELLS, SLIM_WIDTH = 2, 60  # a short terminal shows one row of charts at a time; a slim one, one chart
REDRAW_MIN_S = 0.5  # charts redraw at most twice a second while events stream in
REDRAW_BUSY_FACTOR = 3.0  # ... and spend at most a third of the time drawing
INPUT_QUIET_S = 0.3  # live cells and charts wait this long after a key: the key's own frame is painted first

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


class SimsiamApp(ExploreMixin, ActionsMixin, AppBase):
    """The Textual app on one or more run roots."""

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

    smooth: reactive[bool] = reactive(True)
    x_axis: reactive[str] = reactive("step")

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
        self.backend = backend or Backend()
        self.catalog = Catalog(self.roots)
        self.poller = Poller(self.catalog, self.backend, self._from_poller, interval=poll_interval)
        self.export_dir = export_dir or Path.cwd()
        self.presets_dir = presets_dir
        self.clock = clock or time.time
        self.auto_select = True
        self.chart_keys: list[str] = []
        self.redraws = 0
        self._redraw_pending = False
        self._charts_dirty = False
        self._last_redraw = 0.0
        self._last_key = 0.0
        self._redraw_cost = 0.0
        self._held_updates: list[Callable[[], None]] = []  # live panel updates waiting for the keys to pause
        self.sub_title = "  ".join(printable(shown_path(r)) for r in self.roots)  # a folder name may hold escapes
        self.closing = False
        self.seen_versions: dict[str, int] = {}
        layout, self.layout_notice = load_layout(self.roots[0])
        self.view = ChartView(layout)  # the charts' layout, zoom and cursor (ui/chart_view.py)
        self.set_reactive(SimsiamApp.smooth, layout.smooth)
        self.set_reactive(SimsiamApp.x_axis, layout.x_axis)
        self.quantile_tracks: dict[str, Any] = {}

    # the view's state, read by tests and benchmarks as the app's own
    @property
    def x_range(self) -> tuple[float, float] | None:
        """The zoomed x range shared by every chart (None: all the data)."""
        return self.view.x_range

    @property
    def cursor_x(self) -> float | None:
        """Where the cursor reads every run's value (None: no cursor)."""
        return self.view.cursor_x

    @property
    def chart_layout(self) -> Layout:
        """The charts' metrics, log-y, x axis and smoothing."""
        return self.view.layout

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
        yield RunsTable(id="runs")
        with Horizontal(id="body"):
            yield ChartsPanel(self.view.layout, id="charts")
            with Vertical(id="side"):
                yield GpuPanel(id="gpu")
                yield DetailsPanel(id="details")
        yield Footer()

    def on_mount(self) -> None:
        # widgets by reference: while a dialog is open, queries would search the dialog's screen
        self.table = self.query_one(RunsTable)
        self.rows = RunRows(self.catalog, self.table, self.clock)  # labels, colours and cells of the table's rows
        self.charts_panel = self.query_one(ChartsPanel)
        self.gpu_panel = self.query_one(GpuPanel)
        self.details = self.query_one(DetailsPanel)
        self.main_screen = self.screen
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

    def on_resize(self, event: Any) -> None:
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
        per_page = (1 if width < SLIM_WIDTH else SHORT_CHART_CELLS) if short else None
        if per_page != self.charts_panel.per_page:
            self.charts_panel.show_page(per_page)
            self.request_redraw()  # the legend names the page

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
        if self.closing or not hasattr(self, "table"):
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
        if changes.new or set(changes.runs) & set(self.chart_keys) or not self.chart_keys:
            self.request_redraw()
        if changes.gpus or changes.runs:
            self._after_keys(self.refresh_gpu_panel)
        if changes.error:
            self.notify(changes.error, severity="error", timeout=10)
        cursor = table.cursor_key
        if cursor and (cursor in changes.runs or changes.log or cursor in changes.new):
            self._after_keys(self._refresh_details)

    def _after_keys(self, update: Callable[[], None]) -> None:
        """Run a live side-panel update now, or once the keys pause (their frames are painted first)."""
        wait = INPUT_QUIET_S - (time.monotonic() - self._last_key)
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

    # -- charts -----------------------------------------------------------------------------------
    def charted(self) -> list[str]:
        """Runs on the charts: the selection, else the run under the cursor."""
        table = self.table
        keys = [k for k in table.selected if self.catalog.get(k) is not None]
        if not keys and table.cursor_key:
            keys = [table.cursor_key]
        return keys

    @property
    def charts_current(self) -> bool:
        """True when the table and charts show everything the poller has read (tests wait on this)."""
        seen = all(self.seen_versions.get(m.key) == m.version for m in self.catalog.models())
        panel = self.charts_panel
        building = panel.changing or any(c.pending and c.region.area > 0 for c in panel.charts())
        return (
            seen
            and not self.table.pending
            and not self._held_updates
            and not building
            and not self._redraw_pending
            and not self._charts_dirty
            and self.redraws > 0
        )

    def request_redraw(self) -> None:
        """Redraw the charts soon, at most every REDRAW_MIN_S."""
        self._charts_dirty = True
        if self._redraw_pending:
            return
        now = time.monotonic()
        # the first runs to draw are drawn at once: the charts had nothing to show, so no redraw pace applies
        pace = self.redraw_interval() - (now - self._last_redraw) if self.chart_keys else 0.0
        wait = max(pace, INPUT_QUIET_S - (now - self._last_key))
        if wait <= 0:
            self.redraw_charts()
        else:
            self._redraw_pending = True
            self.set_timer(wait, self._deferred_redraw)

    def redraw_interval(self) -> float:
        """Seconds between live redraws: REDRAW_MIN_S, longer when drawing is slow (many runs, a slow terminal)."""
        build = sum(c.build_seconds for c in self.charts_panel.charts())  # drawn one after another, on this thread
        return max(REDRAW_MIN_S, REDRAW_BUSY_FACTOR * (self._redraw_cost + build))

    def _deferred_redraw(self) -> None:
        self._redraw_pending = False
        if self.closing:
            return
        if time.monotonic() - self._last_key < INPUT_QUIET_S:
            self.request_redraw()  # the user is typing: their keys' frames come before live chart updates
        else:
            self.redraw_charts()

    async def on_event(self, event: events.Event) -> None:
        if isinstance(event, events.Key):
            self._last_key = time.monotonic()
            if hasattr(self, "table"):
                self.table.hold_live(INPUT_QUIET_S)  # the key's frame first, from the table's render cache
        await super().on_event(event)

    def redraw_charts(self) -> None:
        """Draw the charted runs now."""
        self._last_redraw = time.monotonic()
        self._charts_dirty = False
        runs, locks = self.chart_runs()
        self.chart_keys = [k for r in runs for k in (r.members or [r.key])]
        self.catalog.set_charted(self.chart_keys)  # long runs off the charts keep a thin history (issue 16)
        empty = None
        if not self.catalog.runs:
            where = ", ".join(shown_path(r) for r in self.roots)
            empty = f"no runs in {where} yet: press l to launch (try the stop-grad suite), or run `simsiam-tui demo`"
        view = self.view
        self.charts_panel.draw(runs, self.x_axis, self.smooth, locks, empty, view.x_range, view.cursor_x)
        self.draw_quantiles()
        self._redraw_cost = time.monotonic() - self._last_redraw
        self.redraws += 1

    def on_charts_panel_needs_redraw(self, message: ChartsPanel.NeedsRedraw) -> None:
        # after the refresh: a chart that just mounted has its own parts (the plot's legend) mounted by then
        self.call_after_refresh(self.request_redraw)

    # Watchers fire only on changes after start: __init__ restores both with set_reactive. (They were guarded by
    # `if self.is_mounted:`, a method on App, so always true; mypy's strict run on ui/ found it.)
    def watch_smooth(self) -> None:
        self.view.layout.smooth = self.smooth
        self.save_chart_layout()
        self.redraw_charts()

    def watch_x_axis(self) -> None:
        self.view.set_x_axis(self.x_axis)  # another unit: the zoom and the cursor mean nothing there
        self.save_chart_layout()
        self.redraw_charts()

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
        table = self.table
        key = table.cursor_key
        model = self.catalog.get(key) if key else None
        details = self.details
        if model is None:
            details.show_run(None, None, {})
            details.show_log(None, [])
            return
        details.show_run(model.summary, model.status, model.config)
        details.show_log(key, model.log_lines)

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        key = event.row_key.value if event.row_key else None
        self.poller.focus = key
        self.call_after_refresh(self.poller.wake)  # its reading competes for the GIL: after the key's frame
        self._refresh_details()
        if not self.table.selected:
            self.request_redraw()
        else:
            self.schedule_quantiles()  # the std view follows the cursor's run

    def on_runs_table_selection_changed(self, message: RunsTable.SelectionChanged) -> None:
        self.auto_select = False
        self.rows.update_all()
        self.redraw_charts()


def shown_path(path: Path) -> str:
    """A root as a person reads it: relative to the cwd when under it, `~/...` under home, else absolute."""
    for base, prefix in ((Path.cwd().resolve(), ""), (Path.home().resolve(), "~/")):
        try:
            rel = path.relative_to(base)
        except ValueError:
            continue
        return prefix + str(rel) if str(rel) != "." else (prefix.rstrip("/") or ".")
    return str(path)


def run_app(roots: Sequence[str | Path], **kwargs: Any) -> None:
    """Open the app on these run roots and block until it quits."""
    SimsiamApp(roots, **kwargs).run()
