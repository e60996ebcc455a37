"""The sbatch script and the Slurm CLI's errors, without a cluster: --dry-run, options, one-line errors."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from simsiam_tui.launch.errors import LaunchError
from simsiam_tui.launch.slurm import SlurmOptions, render_script, requeue_wanted, time_seconds


def cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """`simsiam-tui ARGS` in a subprocess, no TTY."""
    full = {k: v for k, v in os.environ.items() if k != "SIMSIAM_TUI_RUNS"}
    full.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "simsiam_tui.cli", *args], capture_output=True, text=True, timeout=120, env=full
    )


def sbatch_lines(script: str) -> list[str]:
    return [line.removeprefix("#SBATCH ") for line in script.splitlines() if line.startswith("#SBATCH ")]


def test_cpu_script_runs_one_worker_without_torchrun(tmp_path: Path) -> None:
    script = render_script(tmp_path / "run-1", SlurmOptions(), python="/venv/bin/python")
    lines = sbatch_lines(script)
    assert "--nodes=1" in lines and "--ntasks-per-node=1" in lines and "--cpus-per-task=1" in lines
    assert f"--output={tmp_path}/run-1/worker.log" in lines and "--open-mode=append" in lines
    assert "--signal=USR1@90" in lines and "--requeue" in lines
    assert not any(line.startswith(("--gpus-per-node", "--account", "--partition", "--time")) for line in lines)
    assert '/venv/bin/python -m simsiam_tui.train "$RUN_DIR"' in script
    assert "torch.distributed.run" not in script
    assert '/venv/bin/python -m simsiam_tui.launch.slurm requeue "$RUN_DIR"' in script
    assert subprocess.run(["bash", "-n"], input=script, text=True).returncode == 0


def test_multi_node_script_uses_torchrun_with_rendezvous_on_first_node(tmp_path: Path) -> None:
    opts = SlurmOptions(nodes=2, gpus_per_node=4, partition="gpu", time="1-00:00:00", account="proj")
    script = render_script(tmp_path / "run-2", opts, python="/venv/bin/python")
    lines = sbatch_lines(script)
    for expected in (
        "--nodes=2",
        "--gpus-per-node=4",
        "--cpus-per-task=16",
        "--partition=gpu",
        "--time=1-00:00:00",
        "--account=proj",
    ):
        assert expected in lines
    assert 'head_node=$(scontrol show hostnames "$SLURM_JOB_NODELIST" | head -n 1)' in script
    assert "--rdzv-backend=c10d" in script and '--rdzv-endpoint="$head_node:$rdzv_port"' in script
    assert '--nnodes="$SLURM_NNODES" --nproc-per-node=4' in script
    assert 'trap "" USR1; exec' in script  # the torchrun agent must survive SIGUSR1
    assert '-m simsiam_tui.train "$RUN_DIR"' in script
    assert subprocess.run(["bash", "-n"], input=script, text=True).returncode == 0


@pytest.mark.parametrize(
    "opts",
    [
        SlurmOptions(nodes=0),
        SlurmOptions(gpus_per_node=-1),
        SlurmOptions(time="4h"),
        SlurmOptions(time="2"),  # SIGUSR1 comes 90 s before the limit: too short to train
        SlurmOptions(account="a b"),
    ],
)
def test_bad_options_are_launch_errors(opts: SlurmOptions, tmp_path: Path) -> None:
    with pytest.raises(LaunchError):
        render_script(tmp_path, opts)


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("30", 1800),
        ("5:00", 300),
        ("1:00:00", 3600),
        ("2-0", 172800),
        ("1-2:3", 93780),
        ("1-2:3:4", 93784),
        ("UNLIMITED", None),
    ],
)
def test_slurm_time_formats(text: str, seconds: int | None) -> None:
    assert time_seconds(text) == seconds


def test_run_folder_sbatch_cannot_take_is_refused(tmp_path: Path) -> None:
    with pytest.raises(LaunchError, match="spaces"):
        render_script(tmp_path / "my runs" / "r", SlurmOptions())


def test_requeue_only_after_sigusr1() -> None:
    assert requeue_wanted({"state": "stopped", "stop_signal": "SIGUSR1", "message": "SIGUSR1 at step 8"}, restarts=0)
    assert not requeue_wanted({"state": "stopped", "stop_signal": "SIGTERM", "message": "SIGTERM at step 8"}, restarts=0)
    assert not requeue_wanted({"state": "finished", "stop_signal": None, "message": "2 epochs"}, restarts=0)
    assert not requeue_wanted({"state": "stopped", "stop_signal": "SIGUSR1"}, restarts=10_000)
    # the field decides, not the wording of the message
    assert not requeue_wanted({"state": "stopped", "stop_signal": None, "message": "SIGUSR1 typed by hand"}, restarts=0)


def test_dry_run_prints_one_script_per_run_and_creates_nothing(tmp_path: Path) -> None:
    runs = tmp_path / "runs"
    out = cli(
        "slurm",
        "submit",
        "--suite",
        "stop-grad",
        "--scale",
        "digits",
        "--gpus-per-node",
        "1",
        "--runs",
        str(runs),
        "--dry-run",
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.count("#!/bin/bash") == 2 and "--gpus-per-node=1" in out.stdout
    assert not runs.exists()
    data = json.loads(cli("slurm", "submit", "--preset", "simsiam", "--runs", str(runs), "--dry-run", "--json").stdout)
    assert [d["variant"] for d in data] == ["simsiam"] and data[0]["script"].startswith("#!/bin/bash")


def test_missing_sbatch_is_one_line_and_creates_no_run(tmp_path: Path) -> None:
    runs = tmp_path / "runs"
    out = cli("slurm", "submit", "--preset", "simsiam", "--runs", str(runs), env={"PATH": str(tmp_path)})
    assert out.returncode == 2
    assert out.stderr.count("\n") == 1 and "'sbatch' not found" in out.stderr, out.stderr
    assert not runs.exists() or not any(runs.iterdir())


def test_bad_time_and_unknown_run_are_one_line(tmp_path: Path) -> None:
    out = cli("slurm", "submit", "--preset", "simsiam", "--time", "soon", "--dry-run")
    assert out.returncode == 2 and "is not a Slurm time" in out.stderr and out.stderr.count("\n") == 1
    out = cli("slurm", "cancel", "nope", "--runs", str(tmp_path))
    assert out.returncode == 2 and "no run 'nope'" in out.stderr and out.stderr.count("\n") == 1


def test_ls_without_slurm_runs_is_empty(tmp_path: Path) -> None:
    out = cli("slurm", "ls", "--runs", str(tmp_path), "--json")
    assert out.returncode == 0 and json.loads(out.stdout) == []
