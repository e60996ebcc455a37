"""`runs plot --by KEY`: final accuracy against a swept value, mean ± std over seeds, grouped as compare groups."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from simsiam_tui.cli.main import app
from simsiam_tui.report.sweep_figure import sweep_lines
from simsiam_tui.store import list_runs
from tests.cli.test_compare_by_variant import record_run

runner = CliRunner()


def _sweep(root: Path) -> None:
    """simsiam at lr 0.01 (kNN 0.5, 0.7) and 0.05 (0.8, 0.9), two seeds each; no-stop-grad at 0.05 once."""
    for variant, lr, seed, knn in (
        ("simsiam", 0.01, 0, 0.5), ("simsiam", 0.01, 1, 0.7), ("simsiam", 0.05, 0, 0.8), ("simsiam", 0.05, 1, 0.9),
        ("no-stop-grad", 0.05, 0, 0.1),
    ):  # fmt: skip
        run_id = record_run(root, variant, seed, knn, 0.5, 0.9, 20.0, -0.9)
        config_path = root / run_id / "config.json"
        config = json.loads(config_path.read_text())
        config["optim"]["lr"] = lr
        config_path.write_text(json.dumps(config))


def test_points_are_means_over_seeds_one_line_per_variant(tmp_path: Path) -> None:
    _sweep(tmp_path)
    lines = {line.label: line for line in sweep_lines(list_runs(tmp_path), "optim.lr")}
    assert set(lines) == {"simsiam", "no-stop-grad"}
    simsiam = lines["simsiam"]
    assert [p.x for p in simsiam.points] == [0.01, 0.05]
    mean, std, n = simsiam.points[0].mean_std("knn_top1") or (0, 0, 0)
    assert n == 2 and mean == pytest.approx(60.0) and std == pytest.approx(14.1421356, rel=1e-6)
    assert lines["no-stop-grad"].points[0].mean_std("knn_top1") == pytest.approx((10.0, 0.0, 1))


def test_runs_plot_by_writes_the_figure_and_a_bad_key_is_one_line(tmp_path: Path) -> None:
    _sweep(tmp_path)
    out = tmp_path / "sweep.png"
    result = runner.invoke(app, ["runs", "plot", "--by", "optim.lr", "--out", str(out), "--runs", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and "2 lines, 3 points of optim.lr" in result.output
    bad = runner.invoke(app, ["runs", "plot", "--by", "optim.nothing", "--out", str(out), "--runs", str(tmp_path)])
    assert bad.exit_code == 2 and "optim.nothing" in bad.output
