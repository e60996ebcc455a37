"""The app's CSV export: the selected runs' metric events to a new file in the export folder."""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path

from simsiam_tui.store import RunPaths
from simsiam_tui.store.export import export_rows, write_csv


def export_csv(runs: Sequence[RunPaths], out_dir: Path, stamp: str | None = None) -> tuple[Path, int]:
    """Write every metric event of `runs` (no step twice after a resume) to a new CSV; returns its path and rows."""
    rows = export_rows(runs)
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / f"simsiam-export-{stamp or time.strftime('%Y%m%d-%H%M%S')}.csv"
    write_csv(rows, path)
    return path, len(rows)
