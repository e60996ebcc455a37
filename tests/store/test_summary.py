"""One run summary: its numbers against the history, and the CLI's rows and the app's table agreeing on them."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from simsiam_tui.store import RunHistory, RunPaths, encode_event, judge, read_history
from simsiam_tui.store.summary import VERDICT_TAIL, best_metrics, progress, run_metrics
from tests.helpers import wait_until
from tests.ui.fixtures import REF, STEPS_PER_EPOCH, T0, append_train, stop_grad_suite, write_run

REPO = Path(__file__).resolve().parents[2]
CLI = [sys.executable, "-c", "import sys; from simsiam_tui.cli.main import main; sys.argv[0] = 'simsiam-tui'; main()"]


def _append(paths: RunPaths, kind: str, step: int, fields: dict[str, Any]) -> None:
    with paths.events.open("a") as fh:
        fh.write(encode_event(kind, step, step / STEPS_PER_EPOCH, fields, now=T0 + 5000 + step))


def _runs(root: Path) -> dict[str, RunPaths]:
    """The stop-grad pair mid-way, a finished run, a resumed run, one whose last loss is NaN, one just started."""
    simsiam, no_sg = stop_grad_suite(root)
    done = write_run(root, "20260101-000002-simsiam-e5f6", "simsiam", 10.0, seed=3)
    # stopped at epoch 6, resumed from the epoch-5 checkpoint, 10 steps on: the old end is no progress of this attempt
    resumed = write_run(root, "20260101-000003-simsiam-r1", "simsiam", 6.0, seed=4)
    _append(resumed, "end", 240, {"state": "stopped", "reason": "SIGTERM", "exit_code": 0})
    _append(resumed, "start", 200, {"resumed_from_step": 200, "num_classes": 10, "total_steps": 400})
    for step in (205, 210):
        append_train(resumed, step, loss=-0.5, now=T0 + 6000 + step)
    nan_loss = write_run(root, "20260101-000004-no-stop-grad-n1", "no-stop-grad", 3.0, seed=5)
    _append(nan_loss, "train", 125, {"loss": None, "z_std": 0.2 * REF, "z_std_ref": REF, "img_per_s": 1234.0})
    fresh = write_run(root, "20260101-000005-simsiam-f1", "simsiam", 0.0, seed=6)
    return {"simsiam": simsiam, "no_sg": no_sg, "done": done, "resumed": resumed, "nan_loss": nan_loss, "fresh": fresh}


def test_metrics_are_the_last_finite_values_and_the_verdict_of_the_whole_history(tmp_path: Path) -> None:
    runs = _runs(tmp_path / "runs")
    for name, paths in runs.items():
        history = read_history(paths.events)
        m = run_metrics(history)
        train = history.series["train"]
        losses = [v for v in train.column("loss") if not math.isnan(v)]
        assert m.loss == (losses[-1] if losses else None), name
        if m.z_std is not None:
            assert m.z_std_ratio == pytest.approx(m.z_std / REF), name
        # judged on the first and last rows, the verdict is the one the whole history gets
        assert m.verdict == judge(history), name
    resumed = read_history(runs["resumed"].events)
    assert progress(resumed) == (210 / STEPS_PER_EPOCH, 210)  # not the stopped attempt's epoch 6
    assert progress(read_history(runs["fresh"].events)) == (0.0, 0)
    assert run_metrics(read_history(runs["nan_loss"].events)).img_per_s == 1234.0
    done = read_history(runs["done"].events)
    assert progress(done) == (10.0, 400)
    loss_best, knn_best = best_metrics(done)
    assert loss_best == min(done.series["train"].column("loss"))
    assert knn_best == max(done.series["eval"].column("knn_top1"))


def test_the_verdict_of_a_long_run_reads_its_last_rows() -> None:
    """Collapse after many healthy rows: the view handed to the verdict still ends on the collapsed rows."""
    history = RunHistory()
    rows = [(s, 0.95 if s < 5 * VERDICT_TAIL else 0.05) for s in range(6 * VERDICT_TAIL)]
    history.apply([{"kind": "train", "step": s, "epoch": s / 10, "z_std": r * REF, "z_std_ref": REF} for s, r in rows])
    assert run_metrics(history).verdict.label == "collapsed" == judge(history).label


def _cli_json(*args: str) -> Any:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")])}
    proc = subprocess.run([*CLI, *args], capture_output=True, text=True, env=env, timeout=120)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def _app_summaries(root: Path) -> dict[str, Any]:
    """What the app's runs table shows: its catalog's models, polled until each has read its whole file."""
    from simsiam_tui.ui.model import Catalog

    catalog = Catalog([root])
    catalog.scan()

    def caught_up() -> bool:
        for model in catalog.models():
            model.poll()
        return all(m.caught_up and m.summary is not None for m in catalog.models())

    wait_until(caught_up, 30, "the app's models to read every run")
    return {m.paths.run_id: m.summary for m in catalog.models()}


def test_cli_rows_and_the_apps_table_agree_on_every_run(tmp_path: Path) -> None:
    root = tmp_path / "runs"
    runs = _runs(root)
    app = _app_summaries(root)
    rows = {row["id"]: row for row in _cli_json("runs", "ls", "--json", "--runs", str(root))}
    assert set(rows) == set(app) == {p.run_id for p in runs.values()}
    for run_id, row in rows.items():
        shown = app[run_id]
        assert (row["state"], row["verdict"], row["verdict_reason"]) == (
            shown.state,
            shown.verdict.label,
            shown.verdict.reason,
        ), run_id
        assert row["epoch"] == pytest.approx(shown.epoch), run_id
        assert row["step"] == shown.step and row["loss_last"] == shown.loss, run_id
    assert app[runs["simsiam"].run_id].verdict.label == "healthy"
    assert app[runs["no_sg"].run_id].verdict.label == "collapsed"
    assert app[runs["resumed"].run_id].epoch == pytest.approx(210 / STEPS_PER_EPOCH)
    for name in ("simsiam", "nan_loss", "done"):
        summary = _cli_json("runs", "show", runs[name].run_id, "--json", "--runs", str(root))["summary"]
        shown = app[runs[name].run_id]
        assert summary["z_std_ratio"] == pytest.approx(shown.z_ratio), name
        assert summary["knn_top1_last"] == shown.knn and summary["img_per_s"] == shown.img_per_s, name
        assert summary["loss_last"] == shown.loss and summary["verdict"] == shown.verdict.label, name
        # one summary, two formats: the app's record of the run is the CLI's, but for what reads every row
        record = {k: v for k, v in shown.to_dict().items() if k not in ("loss_best", "knn_top1_best")}
        assert {k: summary[k] for k in record} == record, name
