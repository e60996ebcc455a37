"""The runs table's rows: each run's short label, its colour on the charts, and its cells, kept up to date."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from simsiam_tui.store.text import printable
from simsiam_tui.ui.model import Catalog
from simsiam_tui.ui.widgets.charts import PALETTE
from simsiam_tui.ui.widgets.runs_table import RunsTable, cells


class RunRows:
    """Owns the run colours and writes each run's row into the table (the table owns the selection and cursor)."""

    def __init__(self, catalog: Catalog, table: RunsTable, clock: Callable[[], float]) -> None:
        self.catalog, self.table, self.clock = catalog, table, clock
        self.colors: dict[str, tuple[int, int, int]] = {}  # a run keeps its colour while the app runs

    def color(self, key: str) -> tuple[int, int, int]:
        """The run's colour on the charts and in its row's mark (the next of the palette for a new run)."""
        return self.colors.setdefault(key, PALETTE[len(self.colors) % len(PALETTE)])

    def labels(self) -> dict[str, str]:
        """A short label per run: its name, with the id's suffix when two runs share a name."""
        names: dict[str, str] = {}
        for model in self.catalog.models():
            summary = model.summary
            names[model.key] = summary.name if summary else printable(model.paths.run_id)
        counts: dict[str, int] = {}
        for name in names.values():
            counts[name] = counts.get(name, 0) + 1
        return {
            key: name if counts[name] == 1 else f"{name}-{Path(key).name.rsplit('-', 1)[-1]}"
            for key, name in names.items()
        }

    def update(self, key: str, labels: dict[str, str], live: bool = False) -> None:
        """Write one run's row (`live`: a poller update, which waits while keys are pressed)."""
        model = self.catalog.get(key)
        if model is None or model.summary is None:
            return
        selected = key in self.table.selected
        rgb = self.colors.get(key)
        color = "#{:02x}{:02x}{:02x}".format(*rgb) if rgb else None
        self.table.upsert(key, cells(model.summary, labels.get(key, key), selected, color, self.clock()), live=live)

    def update_all(self, labels: dict[str, str] | None = None, live: bool = False) -> None:
        """Write every run's row (the selection marks changed, or a new run changed the labels)."""
        labels = labels or self.labels()
        for model in self.catalog.models():
            self.update(model.key, labels, live=live)

    def tick(self) -> None:
        """Elapsed and ETA of live runs move on (once a second)."""
        labels = None
        for model in self.catalog.models():
            if model.summary is not None and model.summary.live:
                labels = labels or self.labels()
                self.update(model.key, labels, live=True)
