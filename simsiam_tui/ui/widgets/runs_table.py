"""The runs table: one row per run, live cells, a collapse badge, and multi-select for comparing."""

from __future__ import annotations

from rich.text import Text
from textual.binding import Binding
from textual.message import Message
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


def _local_host() -> str:
    from simsiam_tui.ui.model import LOCAL_HOST

    return LOCAL_HOST


class RunsTable(DataTable):
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

    def on_mount(self) -> None:
        for key, label, width in COLUMNS:
            self.add_column(label, key=key, width=width)

    def upsert(self, key: str, values: dict[str, object]) -> None:
        """Add the run's row, or update its cells."""
        if key not in self.rows:
            self.add_row(*(values[c] for c, _, _ in COLUMNS), key=key)
            return
        for column, value in values.items():
            self.update_cell(key, column, value, update_width=column in GROWING)

    def drop(self, key: str) -> None:
        """Remove a run's row."""
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
            return
        if key in self.selected:
            self.selected.remove(key)
        else:
            self.selected.append(key)
        self.post_message(self.SelectionChanged())

    def action_select_all(self) -> None:
        keys = [str(k.value) for k in self.rows]
        self.selected = [] if set(self.selected) >= set(keys) else keys
        self.post_message(self.SelectionChanged())
