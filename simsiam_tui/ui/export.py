"""Export runs' metric events to one CSV: a row per event, a column per field (stdlib only)."""

from __future__ import annotations

import csv
import time
from collections.abc import Sequence
from pathlib import Path

from simsiam_tui.store import RunPaths, read_config_dict, read_events

KINDS = ("train", "collapse", "eval", "system")
LEADING = ("run_id", "variant", "kind", "step", "epoch", "time")


def export_csv(runs: Sequence[RunPaths], out_dir: Path, stamp: str | None = None) -> tuple[Path, int]:
    """Write every metric event of `runs` (no step twice after a resume) to a new CSV; returns its path and rows."""
    rows: list[dict[str, object]] = []
    fields: dict[str, None] = dict.fromkeys(LEADING)
    for paths in runs:
        variant = read_config_dict(paths).get("variant", "")
        for event in read_events(paths.events):
            if event.get("kind") not in KINDS:
                continue
            row: dict[str, object] = {"run_id": paths.run_id, "variant": variant}
            for key, value in event.items():
                if key == "v":
                    continue
                if isinstance(value, list):
                    value = " ".join(f"{v:.6g}" if isinstance(v, float) else str(v) for v in value)
                row[key] = value
                fields.setdefault(key)
            rows.append(row)
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / f"simsiam-export-{stamp or time.strftime('%Y%m%d-%H%M%S')}.csv"
    with path.open("w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(fields), extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)
    return path, len(rows)
