"""The runs table: one row per run, live cells, a collapse badge, and multi-select for comparing."""

from __future__ import annotations

import time

from rich.text import Text
from textual.binding import Binding
from textual.message import Message
from textual.timer import Timer
from textual.widgets import DataTable
from textual.widgets.data_table import CellDoesNotExist

from simsiam_tui.ui import fmt
from simsiam_tui.ui.model import RunSummary

# key, header, width (None: grows with its content)
COLUMNS = (
    ("sel", " ", 1),
    ("name", "run", None),
    ("state", "state", 10),
    ("verdict", "collapse", 10),
    ("epoch", "epoch", 14),
    ("loss", "loss", 8),
    ("z", "z/ref", 5),
    ("knn", "kNN", 5),
    ("ips", "img/s", 6),
    ("gpu", "GPU", None),
    ("elapsed", "elapsed", 7),
    ("eta", "ETA", 6),
    ("variant", "variant", None),
)
GROWING = {key for key, _, width in COLUMNS if width is None}
HOLD_MAX_S = 1.0  # live cells wait for a quiet moment after keys, but never longer than this


def cells(summary: RunSummary, label: str, selected: bool, color: str | None, now: float | None) -> dict[str, object]:
    """The table cells of one run."""
    mark = Text("●", style=f"bold {color}") if selected and color else Text("○" if not selected else "●", style="dim")
    gpu = summary.gpus or "-"
    if summary.host and summary.host != _local_host():
        gpu = f"{summary.host}:{gpu}" if summary.gpus else summary.host
    name = Text(label)
    if summary.loading:
        name.append(" …", style="dim")
    return {
        "sel": mark,
        "name": name,
        "state": fmt.state(summary.state, summary.problem),
        "verdict": fmt.verdict(summary.verdict),
        "epoch": fmt.progress(summary.epoch, summary.epochs),
        "loss": Text(fmt.num(summary.loss, 4), justify="right"),
        "z": Text(fmt.num(summary.z_ratio, 2), justify="right"),
        "knn": Text(fmt.num(summary.knn, 3), justify="right"),
        "ips": Text(fmt.rate(summary.img_per_s), justify="right"),
        "gpu": Text(gpu[:18]),
        "elapsed": Text(fmt.duration(summary.elapsed(now)), justify="right"),
        "eta": Text(fmt.duration(summary.eta_s), justify="right"),
        "variant": Text(summary.variant),
    }


def shown_as(value: object) -> object:
    """What a cell looks like on screen, comparable: its text, style, spans and justification."""
    if isinstance(value, Text):
        return (value.plain, str(value.style), tuple(value.spans), value.justify)
    return value


def _local_host() -> str:
    from simsiam_tui.ui.model import LOCAL_HOST

    return LOCAL_HOST


class RunsTable(DataTable[object]):
    """DataTable of runs keyed by run directory; space toggles a run into the comparison."""

    BINDINGS = [
        Binding("space", "toggle_select", "Select", tooltip="Add or remove the run under the cursor from the charts"),
        Binding("a", "select_all", "All/none", tooltip="Select every run, or none"),
    ]

    class SelectionChanged(Message):
        """The set of selected runs changed."""

    def __init__(self, **kwargs: object) -> None:
        super().__init__(cursor_type="row", zebra_stripes=False, **kwargs)  # type: ignore[arg-type]
        self.selected: list[str] = []
        # Any update_cell drops the render cache of every cell (DataTable keys its caches on one update count),
        # so a key's frame would draw the whole table again. Cells are only updated when their text changed,
        # and live updates wait until the keys pause (hold_live), so the key's frame is drawn from the cache.
        self._shown: dict[str, dict[str, object]] = {}
        self.pending: dict[str, dict[str, object]] = {}  # live cells not on screen yet
        self._hold_until = 0.0
        self._held_since: float | None = None
        self._flush_timer: Timer | None = None
        self._measuring = False  # a row was added or a growing cell updated: DataTable measures when idle

    # DataTable measures new and updated cells when idle, but the cells it drew before keep their render
    # cache, keyed on an update count that measuring does not move: a row drawn between an add and the
    # measure (a busy app) stayed cut to the header's width ("sim" for "simsiam") until something else
    # changed the table. So after an idle pass that may have measured (a row added, a growing cell updated),
    # the columns' widths are compared with those before it; when they changed, one cell is set again to its
    # own value (update_cell moves the count: every cached row is drawn again, at the measured widths).
    def on_idle(self) -> None:
        if self._measuring:  # DataTable's own idle handler measures after this one; then the check below
            self._measuring = False
            self.call_next(self._redraw_if_widths_changed, self._render_widths())

    def _render_widths(self) -> tuple[int, ...]:
        return tuple(column.get_render_width(self) for column in self.ordered_columns)

    def _redraw_if_widths_changed(self, before: tuple[int, ...]) -> None:
        if self._render_widths() == before or not self.row_count:
            return
        row_key = next(iter(self.rows))
        self.update_cell(row_key, "sel", self.get_cell(row_key, "sel"))

    def on_mount(self) -> None:
        for key, label, width in COLUMNS:
            self.add_column(label, key=key, width=width)

    def upsert(self, key: str, values: dict[str, object], live: bool = False) -> None:
        """Add the run's row, or update the cells that changed; `live` updates wait while keys are pressed."""
        if key not in self.rows:
            self.pending.pop(key, None)
            self.add_row(*(values[c] for c, _, _ in COLUMNS), key=key)
            self._measuring = True
            self._shown[key] = {column: shown_as(value) for column, value in values.items()}
            return
        if not live:
            self._apply(key, {**self.pending.pop(key, {}), **values})
            return
        self.pending.setdefault(key, {}).update(values)
        now = time.monotonic()
        if now >= self._hold_until:
            self.flush()
            return
        if self._held_since is None:
            self._held_since = now
        self._schedule_flush(now)

    def hold_live(self, seconds: float) -> None:
        """A key was pressed: live cell updates wait `seconds` (at most HOLD_MAX_S in all)."""
        self._hold_until = time.monotonic() + seconds

    def _schedule_flush(self, now: float) -> None:
        if self._flush_timer is not None:
            return
        assert self._held_since is not None
        wait = min(self._hold_until, self._held_since + HOLD_MAX_S) - now
        self._flush_timer = self.set_timer(max(0.0, wait), self._flush_due)

    def _flush_due(self) -> None:
        self._flush_timer = None
        now = time.monotonic()
        held = self._held_since
        if now < self._hold_until and held is not None and now - held < HOLD_MAX_S:
            self._schedule_flush(now)  # keys are still coming
        else:
            self.flush()

    def flush(self) -> None:
        """Show every held live update now."""
        pending, self.pending = self.pending, {}
        self._held_since = None
        if self._flush_timer is not None:
            self._flush_timer.stop()
            self._flush_timer = None
        for key, values in pending.items():
            if key in self.rows:
                self._apply(key, values)

    def _apply(self, key: str, values: dict[str, object]) -> None:
        shown = self._shown.setdefault(key, {})
        for column, value in values.items():
            look = shown_as(value)
            if shown.get(column) == look:
                continue
            shown[column] = look
            self.update_cell(key, column, value, update_width=column in GROWING)
            self._measuring |= column in GROWING

    def drop(self, key: str) -> None:
        """Remove a run's row."""
        self.pending.pop(key, None)
        self._shown.pop(key, None)
        if key in self.rows:
            self.remove_row(key)
        if key in self.selected:
            self.selected.remove(key)
            self.post_message(self.SelectionChanged())

    @property
    def cursor_key(self) -> str | None:
        """The run under the cursor."""
        if not self.row_count:
            return None
        try:
            return self.coordinate_to_cell_key(self.cursor_coordinate).row_key.value
        except CellDoesNotExist:  # the cursor sits past a row that was just removed
            return None

    def action_toggle_select(self) -> None:
        key = self.cursor_key
        if key is None:
            self.app.notify("no run to select yet: l launches some", timeout=3)
            return
        if key in self.selected:
            self.selected.remove(key)
        else:
            self.selected.append(key)
        self.post_message(self.SelectionChanged())

    def action_select_all(self) -> None:
        keys = [str(k.value) for k in self.rows]
        if not keys:
            self.app.notify("no run to select yet: l launches some", timeout=3)
            return
        self.selected = [] if set(self.selected) >= set(keys) else keys
        self.post_message(self.SelectionChanged())
