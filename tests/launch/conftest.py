"""Launcher test helpers: the real CLI in a subprocess, tiny digits runs, and teardown that kills every worker."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from simsiam_tui.launch.scheduler import RUNNER_LOCK, root_lock_path
from tests.helpers import wait_until  # noqa: F401  (the launch tests import it from here)

# A digits run small enough for a shared 2-core machine: ~21 steps per epoch, a few seconds each epoch.
TINY = [
    "--scale", "digits",
    "--set", "model.width=8",
    "--set", "model.dim=64",
    "--set", "model.pred_dim=16",
    "--set", "monitor.log_every=2",
    "--set", "monitor.collapse_every=4",
    "--set", "monitor.system_every_s=1",
]  # fmt: skip

CLI = [sys.executable, "-c", "import sys; from simsiam_tui.cli.main import main; sys.argv[0] = 'simsiam-tui'; main()"]


def run_cli(*args: str, env: dict[str, str] | None = None, timeout: float = 120) -> subprocess.CompletedProcess:
    """Run `simsiam-tui ARGS` in a subprocess and capture its output."""
    full_env = dict(os.environ)
    full_env.pop("SIMSIAM_TUI_FAULT", None)
    full_env.setdefault("OMP_NUM_THREADS", "1")
    full_env.update(env or {})
    return subprocess.run([*CLI, *args], capture_output=True, text=True, env=full_env, timeout=timeout)


def status_of(run_dir: Path) -> dict[str, Any]:
    try:
        return json.loads((run_dir / "status.json").read_text())
    except (OSError, ValueError):
        return {}


def events_of(run_dir: Path) -> list[dict[str, Any]]:
    try:
        lines = (run_dir / "events.jsonl").read_text().splitlines()
    except OSError:
        return []
    out = []
    for line in lines:
        try:
            out.append(json.loads(line))
        except ValueError:
            pass
    return out


def kill_everything(root: Path) -> None:
    """SIGKILL every worker process group and the queue runner recorded under root."""
    runner = root_lock_path(root, RUNNER_LOCK)  # this user's runner lock, with the runner's pid in it
    if runner.exists():
        text = runner.read_text().strip()
        if text.isdigit() and int(text) != os.getpid():
            try:
                os.kill(int(text), signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
    if not root.is_dir():
        return
    for status_file in root.glob("*/status.json"):
        status = status_of(status_file.parent)
        for key in ("pgid", "pid"):
            pid = status.get(key)
            if isinstance(pid, int) and pid > 1 and pid != os.getpid() and pid != os.getpgrp():
                try:
                    (os.killpg if key == "pgid" else os.kill)(pid, signal.SIGKILL)
                except (ProcessLookupError, PermissionError):
                    pass


@pytest.fixture
def root(tmp_path: Path) -> Iterator[Path]:
    """A fresh runs root; every worker and runner it started is killed at teardown."""
    path = tmp_path / "runs"
    yield path
    kill_everything(path)
