"""`runs export --tensorboard DIR`: each run's scalars as TensorBoard event files, with the `tensorboard` package's own
writer (tensorboardX would import torch when it is installed; the CLI never does)."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from simsiam_tui.report.errors import ReportError
from simsiam_tui.store import RunHistory, RunPaths, read_history
from simsiam_tui.store.reader import SERIES_KINDS

SUFFIX = ".simsiam-tui"  # marks our files: a new export replaces them and nothing else in the folder
SKIP = {"step", "epoch", "time", "gpu_index", "dim"}


def scalar_rows(history: RunHistory) -> list[tuple[str, int, float, float]]:
    """(tag, step, wall time, value) of every numeric field: `train/loss`, `train/z_std_ratio`, `eval/knn_top1`..."""
    rows: list[tuple[str, int, float, float]] = []
    for kind in SERIES_KINDS:
        series = history.series[kind]
        steps, times = series.column("step"), series.column("time")
        fields = [f for f in series.columns if f not in SKIP]
        z, ref = series.column("z_std"), series.column("z_std_ref")
        for i in range(len(series)):
            step, wall = steps[i], times[i]
            if not math.isfinite(step):
                continue
            wall = wall if math.isfinite(wall) else 0.0
            for name in fields:
                value = series.columns[name][i]
                if math.isfinite(value):
                    rows.append((f"{kind}/{name}", int(step), wall, value))
            if kind == "train" and len(ref) > i and math.isfinite(z[i]) and ref[i] > 0:
                rows.append(("train/z_std_ratio", int(step), wall, z[i] / ref[i]))
    return rows


def _writer_parts() -> tuple[Any, Any, Any]:  # the tensorboard package ships no type information
    try:
        from tensorboard.compat.proto import event_pb2, summary_pb2
        from tensorboard.summary.writer.event_file_writer import EventFileWriter
    except ImportError:
        raise ReportError("--tensorboard needs the tensorboard package: pip install 'simsiam-tui[report]'") from None
    return EventFileWriter, event_pb2, summary_pb2


def write_run(history: RunHistory, folder: Path) -> int:
    """Write one run's scalars into `folder` (replacing an earlier export of ours); returns how many."""
    EventFileWriter, event_pb2, summary_pb2 = _writer_parts()
    try:
        folder.mkdir(parents=True, exist_ok=True)
        for old in folder.glob(f"events.out.tfevents.*{SUFFIX}"):
            old.unlink()
    except OSError as exc:
        raise ReportError(f"cannot write {folder}: {exc.strerror}") from None
    rows = scalar_rows(history)
    writer = EventFileWriter(str(folder), max_queue_size=1000, filename_suffix=SUFFIX)
    try:
        for tag, step, wall, value in rows:
            summary = summary_pb2.Summary(value=[summary_pb2.Summary.Value(tag=tag, simple_value=value)])
            writer.add_event(event_pb2.Event(wall_time=wall, step=step, summary=summary))
    finally:
        writer.close()
    return len(rows)


def export_runs(targets: list[RunPaths], out: Path) -> int:
    """One subfolder per run (its id) under `out`; returns the number of scalars written."""
    if not targets:
        raise ReportError("no runs to export")
    if out.exists() and not out.is_dir():
        raise ReportError(f"'{out}' is a file; --tensorboard takes a folder")
    return sum(write_run(read_history(p.events), out / p.run_id) for p in targets)
