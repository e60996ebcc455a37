"""`launch --sweep KEY=V1,V2 [--seeds N]`: the grid, each run's recorded point, validation before anything starts."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from simsiam_tui.cli.main import app
from simsiam_tui.config.sweep import label_of, point_label, sweep_points

runner = CliRunner()


def _dry(*args: str) -> list[dict]:
    result = runner.invoke(app, ["launch", "--preset", "simsiam", "--scale", "digits", *args, "--dry-run", "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_sweep_with_seeds_launches_the_grid_each_run_recording_its_point() -> None:
    configs = _dry("--sweep", "optim.lr=0.01,0.05", "--seeds", "2")
    assert [(c["optim"]["lr"], c["train"]["seed"]) for c in configs] == [(0.01, 0), (0.01, 1), (0.05, 0), (0.05, 1)]
    assert [c["sweep"] for c in configs] == ["optim.lr=0.01"] * 2 + ["optim.lr=0.05"] * 2
    groups = [c["group"] for c in configs]
    assert groups[0] == groups[1] != groups[2] == groups[3]  # replicas of a point pool; points never do
    assert "lr0.01" in groups[0] and "lr0.05" in groups[2]


def test_two_sweeps_are_their_product() -> None:
    configs = _dry("--sweep", "optim.lr=0.01,0.05", "--sweep", "optim.weight_decay=1e-4,5e-4,1e-3")
    points = {(c["optim"]["lr"], c["optim"]["weight_decay"]) for c in configs}
    assert len(configs) == 6 and len(points) == 6
    assert point_label({"optim.lr": 0.01, "optim.weight_decay": 0.0005}) == "lr0.01-weight_decay0.0005"
    assert label_of("optim.lr=0.01,optim.weight_decay=0.0005") == "lr0.01-weight_decay0.0005"
    assert sweep_points([]) == [{}]


def test_a_bad_sweep_fails_before_anything_starts(tmp_path: Path) -> None:
    for sweep, needle in (
        ("optim.lr=0.01,-1", "optim.lr"),
        ("optim.lr", "KEY=V1,V2"),
        ("optim.lr=0.1,0.1", "given twice"),
        ("optim.nothing=1,2", "optim.nothing"),
        ("train.epochs=" + ",".join(str(i) for i in range(1, 1200)), "more than 1000"),
    ):
        result = runner.invoke(
            app, ["launch", "--preset", "simsiam", "--scale", "digits", "--sweep", sweep, "--runs", str(tmp_path / "r")]
        )
        assert result.exit_code == 2 and needle in result.output, (sweep, result.output)
    assert not (tmp_path / "r").exists()  # nothing was made
