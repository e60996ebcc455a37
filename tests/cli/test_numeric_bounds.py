"""Every numeric CLI input has a bound: out of range, too deep or of the wrong type is one line and exit 2, fast."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from simsiam_tui.cli.main import app
from simsiam_tui.launch.slots import MAX_THREADS, Request, default_cpu_slots

runner = CliRunner()
PRESET = ["--preset", "simsiam", "--scale", "digits"]


def one_line_exit_2(args: list[str], message: str) -> None:
    """Run the CLI in-process; assert exit 2, `message` in one line of stderr and no traceback."""
    result = runner.invoke(app, args)
    assert result.exit_code == 2, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and message in lines[0], result.stderr
    assert "Traceback" not in result.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["launch", *PRESET, "--seeds", "1000000000"], "--seeds 1000000000 is out of range: expected 1 to 1000"),
        (["launch", *PRESET, "--seeds", "0"], "--seeds 0 is out of range"),
        (["launch", *PRESET, "--per-gpu", "65"], "--per-gpu 65 must be at most 64"),
        (["launch", *PRESET, "--per-gpu", "0"], "--per-gpu 0 must be at least 1"),
        (["launch", *PRESET, "--gpus-per-run", "100000"], "--gpus-per-run 100000 must be at most 64"),
        (["launch", *PRESET, "--gpus", "0,99999999999"], "--gpus index 99999999999 must be at most 1023"),
        (["launch", *PRESET, "--gpus", "9" * 5000], "--gpus index 999999999999 must be at most 1023"),
        (["launch", *PRESET, "--set", "train.epochs=1000000000"], "'train.epochs' (from --set train.epochs=1000000000): expected at most 100000"),
        (["launch", *PRESET, "--set", "data.batch_size=10000000"], "expected at most 65536"),
        (["launch", *PRESET, "--set", "model.dim=100000"], "expected at most 65536"),
        (["launch", *PRESET, "--set", "monitor.log_every=10000000"], "expected at most 1000000"),
        (["launch", *PRESET, "--set", "monitor.knn_k=1000000"], "expected at most 65536"),
        (["launch", *PRESET, "--set", "linear_eval.epochs=1000000"], "expected at most 100000"),
        (["launch", *PRESET, "--set", "method.moco.queue_size=100000000"], "expected at most 1048576"),
        (["launch", *PRESET, "--set", "train.seed=99999999999999999999"], "expected at most 9223372036854775807"),
        (["launch", *PRESET, "--set", 'train.epochs="ten"'], "invalid value 'ten' for 'train.epochs'"),
        (["launch", *PRESET, "--set", "train.epochs=[1, 2]"], "expected a positive integer"),
        (["launch", *PRESET, "--set", "train.epochs=1e400"], "expected a positive integer"),
        (["launch", *PRESET, "--set", "train.epochs=" + "[" * 100_000], "nested too deeply"),
        (["launch", *PRESET, "--set", "train.epochs=" + "[" * 50 + "]" * 50], "characters)"),
        (["launch", *PRESET, "--set", "train.epochs=" + "9" * 5000], "characters)"),
        (["launch", *PRESET, "--set", "train.epochs=3\nid"], r"invalid value '3\nid'"),
        (["launch", *PRESET, "--set", "optm.lr\nx=1"], r"unknown config key 'optm.lr\nx'"),
        (["slurm", "submit", *PRESET, "--nodes", "100000"], "--nodes 100000 must be at most 4096"),
        (["slurm", "submit", *PRESET, "--gpus-per-node", "1000"], "--gpus-per-node 1000 must be at most 64"),
        (["slurm", "submit", *PRESET, "--cpus-per-task", "0"], "--cpus-per-task 0 must be at least 1"),
        (["slurm", "submit", *PRESET, "--time", "60\nid"], r"--time '60\nid' is not a Slurm time"),
        (["slurm", "submit", *PRESET, "--partition", "gpu;id"], "--partition 'gpu;id' has characters"),
        (["slurm", "submit", *PRESET, "--time", "9" * 5000], "is not a Slurm time"),
    ],
    ids=lambda v: v[:60] if isinstance(v, str) else None,
)
def test_out_of_range_is_one_line_exit_2(args: list[str], message: str, tmp_path: Path) -> None:
    one_line_exit_2([*args, "--dry-run", "--runs", str(tmp_path / "runs")], message)
    assert not (tmp_path / "runs").exists()


def test_huge_seeds_ends_at_once_in_a_subprocess() -> None:
    """The console script itself: `launch --seeds 1000000000 --dry-run` used to copy configs forever."""
    env = {k: v for k, v in os.environ.items() if k != "SIMSIAM_TUI_RUNS"}
    out = subprocess.run(
        [sys.executable, "-m", "simsiam_tui.cli", "launch", *PRESET, "--seeds", "1000000000", "--dry-run"],
        capture_output=True, text=True, timeout=60, env=env,
    )  # fmt: skip
    assert out.returncode == 2 and out.stderr.startswith("error: --seeds 1000000000 is out of range")
    assert out.stderr.count("\n") == 1 and "Traceback" not in out.stderr


def test_deeply_nested_preset_file_is_one_line(tmp_path: Path) -> None:
    (tmp_path / "deep.toml").write_text("[train]\nepochs = " + "[" * 100_000 + "\n")
    one_line_exit_2(["launch", "--preset", str(tmp_path / "deep.toml"), "--scale", "digits", "--dry-run"], "nested too deeply")


def test_a_long_text_value_is_kept_for_text_keys() -> None:
    """Only number keys refuse deep brackets: a description is text, whatever it looks like."""
    result = runner.invoke(app, ["launch", *PRESET, "--set", "description=" + "[" * 100_000, "--dry-run", "--json"])
    assert result.exit_code == 0, result.output
    assert '"description": "' + "[" * 100 in result.stdout


def test_status_json_request_out_of_range_falls_back_to_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    """A queued run's request comes from a shared folder: values past the launch limits are not trusted."""
    monkeypatch.setenv("SIMSIAM_TUI_CPU_SLOTS", "1000000")
    assert default_cpu_slots() <= 64
    request = Request.from_dict({"gpus": [], "per_gpu": 10**9, "threads": 10**9, "gpus_per_run": 10**6})
    assert request.per_gpu <= 64 and request.threads is None and request.gpus_per_run == 1
    request = Request.from_dict({"gpus": [0, 10**9, True], "per_gpu": 2, "threads": MAX_THREADS})
    assert request.gpus == [0] and request.per_gpu == 2
