"""Runs' metric events as flat rows, and the one CSV writer the CLI (`runs export`) and the app (`e`) share."""

from __future__ import annotations

import csv
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from simsiam_tui.store.paths import RunPaths
from simsiam_tui.store.reader import read_events
from simsiam_tui.store.runs import read_config_dict
from simsiam_tui.store.schema import COLLAPSE, EVAL, SYSTEM, TRAIN

METRIC_KINDS = (TRAIN, COLLAPSE, EVAL, SYSTEM)
LEADING = ("run_id", "variant", "kind", "step", "epoch", "time")


def export_rows(runs: Sequence[RunPaths]) -> list[dict[str, Any]]:
    """Every metric event (train, collapse, eval, system) of each run as one flat row, no step twice after a resume."""
    rows: list[dict[str, Any]] = []
    for paths in runs:
        variant = read_config_dict(paths).get("variant")
        for event in read_events(paths.events):
            if event.get("kind") not in METRIC_KINDS:
                continue
            row: dict[str, Any] = {"run_id": paths.run_id, "variant": variant}
            row.update({k: v for k, v in event.items() if k != "v"})
            rows.append(row)
    return rows


def export_columns(rows: Sequence[dict[str, Any]]) -> list[str]:
    """CSV columns: run_id, variant, kind, step, epoch, time, then every other field in first-seen order."""
    columns = dict.fromkeys(LEADING)
    for row in rows:
        columns.update(dict.fromkeys(row))
    return list(columns)


def _cell(value: Any) -> Any:
    # lists (std_quantiles) and dicts as compact JSON, so one cell holds one value a reader can parse back
    if isinstance(value, (list, dict)):
        return json.dumps(value, separators=(",", ":"))
    return "" if value is None else value


def write_csv(rows: Sequence[dict[str, Any]], path: Path) -> None:
    """Write rows to `path` as CSV with export_columns' header."""
    columns = export_columns(rows)
    with Path(path).open("w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=columns)
        writer.writeheader()
        for row in rows:
            writer.writerow({k: _cell(row.get(k)) for k in columns})
