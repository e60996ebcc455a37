"""User mistakes in launch/runs/gpus commands end as one clear line on stderr and exit code 2."""

from __future__ import annotations

import os
import socket
import time
from pathlib import Path

import pytest

from simsiam_tui.config import resolve_config
from simsiam_tui.store import create_run, update_status
from tests.launch.conftest import run_cli


def _one_line_error(result, *needles: str) -> str:
    assert result.returncode == 2, result.stdout + result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.stderr
    for needle in needles:
        assert needle in lines[0], lines[0]
    return lines[0]


@pytest.fixture(scope="module")
def root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("errors") / "runs"
    cfg = resolve_config("simsiam", "digits", [])
    create_run(root, cfg, "alpha")
    create_run(root, cfg, "alpha")
    live = create_run(root, cfg, "live")
    # a run whose "worker" is this test process: alive, same host, fresh heartbeat
    update_status(
        live.status, state="running", pid=os.getpid(), host=socket.gethostname(), heartbeat=time.time() + 3600
    )
    done = create_run(root, cfg, "done")
    update_status(done.status, state="finished")
    return root


def test_unknown_run(root: Path) -> None:
    line = _one_line_error(run_cli("runs", "show", "nope", "--runs", str(root)), "no run 'nope'", "alpha")
    assert line.startswith("error: ")


def test_ambiguous_run_lists_candidates(root: Path) -> None:
    result = run_cli("runs", "stop", "alpha", "--runs", str(root))
    line = _one_line_error(result, "ambiguous")
    assert line.count("-alpha-") == 2


def test_bad_preset() -> None:
    _one_line_error(run_cli("launch", "--preset", "no-such-preset", "--runs", "/nonexistent-xyz"), "no-such-preset")


def test_runs_folder_is_a_file(tmp_path: Path) -> None:
    file = tmp_path / "afile"
    file.write_text("x")
    for args in (
        ("runs", "ls"),
        ("runs", "compare"),
        ("runs", "show", "x"),
        ("launch", "--preset", "simsiam", "--scale", "digits"),
    ):
        _one_line_error(run_cli(*args, "--runs", str(file)), "is a file")


def test_runs_folder_missing(tmp_path: Path) -> None:
    _one_line_error(run_cli("runs", "stop", "x", "--runs", str(tmp_path / "none")), "does not exist")


def test_bad_gpus_and_per_gpu(tmp_path: Path) -> None:
    runs = str(tmp_path / "runs")
    _one_line_error(run_cli("launch", "--preset", "simsiam", "--gpus", "a,b", "--runs", runs), "--gpus")
    _one_line_error(run_cli("launch", "--preset", "simsiam", "--per-gpu", "0", "--runs", runs), "--per-gpu")
    if not os.path.exists("/dev/nvidia0"):
        _one_line_error(run_cli("launch", "--preset", "simsiam", "--gpus", "0", "--runs", runs), "none is visible")
    assert not (tmp_path / "runs").exists() or not any((tmp_path / "runs").iterdir())


def test_rm_refuses_live_run_and_resume_refuses_finished(root: Path) -> None:
    _one_line_error(run_cli("runs", "rm", "live", "--runs", str(root)), "running", "--force")
    _one_line_error(run_cli("runs", "resume", "done", "--runs", str(root)), "finished")
    _one_line_error(run_cli("runs", "resume", "live", "--runs", str(root)), "still live")


def test_export_needs_one_target(root: Path) -> None:
    _one_line_error(run_cli("runs", "export", "done", "--runs", str(root)), "--csv")


def test_gpus_command_without_driver() -> None:
    result = run_cli("gpus", "--json")
    assert result.returncode == 0, result.stderr
    if not os.path.exists("/dev/nvidia0"):
        assert '"gpus": []' in result.stdout
