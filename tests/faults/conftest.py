"""Helpers for the fault tests: tiny runs on disk, the CLI in a subprocess, one-line error checks."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from simsiam_tui.store import RunPaths, create_run, update_status
from tests.launch.conftest import kill_everything, run_cli, wait_until  # noqa: F401 - shared with the tests here
from tests.train.conftest import tiny_config, worker_env  # noqa: F401

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def root(tmp_path: Path):  # type: ignore[no-untyped-def]
    """A fresh runs root; every worker and runner it started is killed at teardown."""
    path = tmp_path / "runs"
    path.mkdir()
    yield path
    kill_everything(path)


def one_line_error(proc: subprocess.CompletedProcess, *needles: str) -> str:
    """Assert exit code 2 and exactly one `error: ...` line on stderr, no traceback; return the line."""
    lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
    assert proc.returncode == 2, (proc.returncode, proc.stdout, proc.stderr)
    assert "Traceback" not in proc.stderr, proc.stderr
    assert len(lines) == 1 and lines[0].startswith("error: "), proc.stderr
    for needle in needles:
        assert needle in lines[0], (needle, lines[0])
    return lines[0]


def dead_pid() -> int:
    """A pid that existed a moment ago and is gone now."""
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def stopped_run(root: Path, name: str = "victim", **status: Any) -> RunPaths:
    """A tiny CPU run that looks stopped (resumable), with a CPU request, ready for `runs resume`."""
    paths = create_run(root, tiny_config(), name)
    fields: dict[str, Any] = {
        "state": "stopped", "request": {"gpus": [], "per_gpu": 2, "threads": 1}, "pid": dead_pid(),
        "host": socket.gethostname(), "heartbeat": time.time() - 10,
    }  # fmt: skip
    fields.update(status)
    update_status(paths.status, **fields)
    return paths


def cli_env(**extra: str) -> dict[str, str]:
    """Environment for the CLI subprocess: this tree first on the path, one thread."""
    env = {"PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")]), "OMP_NUM_THREADS": "1"}
    env.update(extra)
    return env


def read_json(path: Path) -> Any:
    return json.loads(path.read_text())


def start_worker_for(run_dir: Path, **env: str) -> subprocess.Popen:
    """`python -m simsiam_tui.train RUN_DIR` in the background, output captured."""
    return subprocess.Popen(
        [sys.executable, "-m", "simsiam_tui.train", str(run_dir)], env=worker_env(**env),
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
