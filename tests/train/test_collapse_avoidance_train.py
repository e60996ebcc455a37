"""VICReg and Barlow Twins through the real worker at the digits scale: the loss falls and nothing collapses."""

from __future__ import annotations

import pytest

from simsiam_tui.config import resolve_config
from simsiam_tui.store import RunPaths, create_run, judge, read_events, read_history

from .conftest import start_worker

PRESETS = ["vicreg", "barlow-twins"]
EPOCHS = 3
OVERRIDES = [f"train.epochs={EPOCHS}", "train.device=cpu", "model.dim=128", "monitor.log_every=3", f"monitor.knn_every={EPOCHS}"]


@pytest.fixture(scope="module")
def digits_runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, RunPaths]:
    """Both presets for a few epochs at the digits scale, as worker subprocesses side by side."""
    root = tmp_path_factory.mktemp("runs")
    runs = {p: create_run(root, resolve_config(p, "digits", OVERRIDES), p) for p in PRESETS}
    procs = {p: start_worker(paths.dir) for p, paths in runs.items()}
    for preset, proc in procs.items():
        _, err = proc.communicate(timeout=900)
        assert proc.returncode == 0, (preset, err)
    return runs


@pytest.mark.slow
@pytest.mark.parametrize("preset", PRESETS)
def test_learns_without_collapse_at_the_digits_scale(preset: str, digits_runs: dict[str, RunPaths]) -> None:
    paths = digits_runs[preset]
    events = read_events(paths.events)
    losses = [e["loss"] for e in events if e["kind"] == "train"]
    per_epoch = len(losses) // EPOCHS
    assert per_epoch >= 3 and sum(losses[-per_epoch:]) < sum(losses[:per_epoch]), losses  # last epoch under first
    knn = [e["knn_top1"] for e in events if e["kind"] == "eval"]
    assert knn and knn[-1] > 0.5, knn  # chance: 0.1
    verdict = judge(read_history(paths.events), num_classes=10)
    assert verdict.label == "healthy", verdict
