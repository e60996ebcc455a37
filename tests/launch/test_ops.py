"""Queue, stop, rm and logs against a stand-in worker (a sleeping process), through the real CLI: fast."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest

from tests.launch.conftest import run_cli, status_of, wait_until

# Stands in for `python -m simsiam_tui.train RUN_DIR`: says hello in worker.log, then sleeps until killed.
SLEEPER = f"{sys.executable} -c 'import sys, time; print(\"hello from\", sys.argv[1], flush=True); time.sleep(120)' {{run_dir}}"
ENV = {"SIMSIAM_TUI_WORKER": SLEEPER}


def _launch(root: Path, n: int) -> list[dict]:
    presets = [arg for _ in range(n) for arg in ("--preset", "simsiam")]
    result = run_cli("launch", *presets, "--scale", "digits", "--per-gpu", "1", "--runs", str(root), "--json", env=ENV)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # a zombie (exited, not yet reaped by init) counts as gone
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0] != "Z"
    except OSError:
        return False


@pytest.mark.slow
def test_stop_queued_force_stop_rm_and_logs(root: Path) -> None:
    a, b, c = _launch(root, 3)
    assert [a["state"], b["state"], c["state"]] == ["starting", "queued", "queued"]
    pid_a = status_of(Path(a["dir"]))["pid"]
    assert _alive(pid_a)
    wait_until(lambda: "hello from" in (Path(a["dir"]) / "worker.log").read_text(), 20, "the worker's output")
    logs = run_cli("runs", "logs", a["id"], "--runs", str(root))
    assert "hello from " + a["dir"] in logs.stdout

    # a queued run leaves the queue at once
    stop_c = run_cli("runs", "stop", c["id"], "--runs", str(root), "--json")
    assert json.loads(stop_c.stdout)[0]["state"] == "stopped"

    # rm refuses the live run, --force kills its process group and removes it
    refused = run_cli("runs", "rm", a["id"], "--runs", str(root))
    assert refused.returncode == 2 and "--force" in refused.stderr
    removed = run_cli("runs", "rm", a["id"], "--force", "--runs", str(root))
    assert removed.returncode == 0, removed.stderr
    assert not Path(a["dir"]).exists()
    wait_until(lambda: not _alive(pid_a), 10, "the removed run's worker to die")

    # the detached queue runner gives the freed slot to b
    status_b = wait_until(lambda: (s := status_of(Path(b["dir"]))).get("pid") and s, 20, "the queue runner to start b")
    assert status_b["state"] in ("starting", "running")
    assert status_of(Path(c["dir"]))["state"] == "stopped"
    killed = run_cli("runs", "stop", b["id"], "--force", "--runs", str(root), "--json")
    assert json.loads(killed.stdout)[0]["action"] == "killed"
    wait_until(lambda: not _alive(status_b["pid"]), 10, "b's worker to die")
    assert status_of(Path(b["dir"]))["state"] == "stopped"
    from simsiam_tui.launch import runner_alive

    wait_until(lambda: not runner_alive(root), 20, "the queue runner to exit with nothing left to run")


def test_a_worker_that_dies_at_once_is_failed_with_its_last_line(root: Path) -> None:
    env = {"SIMSIAM_TUI_WORKER": f"{sys.executable} -c 'raise SystemExit(\"cannot import torch: boom\")'"}
    result = run_cli("launch", "--preset", "simsiam", "--scale", "digits", "--runs", str(root), "--json", env=env)
    (run,) = json.loads(result.stdout)
    rows = wait_until(
        lambda: (
            (r := json.loads(run_cli("runs", "ls", "--runs", str(root), "--json").stdout))[0]["state"] == "failed" and r
        ),
        20,
        "the run to show failed",
    )
    assert "boom" in rows[0]["message"]
