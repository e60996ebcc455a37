"""`runs stop` signals only the run's own worker; status.json is written whole, under a lock, and revived by a heartbeat."""

from __future__ import annotations

import json
import multiprocessing
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from simsiam_tui.launch.scheduler import occupancy
from simsiam_tui.launch.state import diagnose, refresh_state
from simsiam_tui.probe import process_create_time
from simsiam_tui.store import create_run, read_status, update_status, write_status
from simsiam_tui.train.runtime import StatusFile

from .conftest import cli_env, run_cli, start_worker_for, tiny_config, wait_until


@pytest.fixture
def bystander():  # type: ignore[no-untyped-def]
    """An unrelated process, in a session of its own, that status.json will name."""
    proc = subprocess.Popen(["sleep", "300"], start_new_session=True)
    yield proc
    proc.kill()
    proc.wait()


def _live_run(root: Path, pid: int, **extra: object) -> Path:
    paths = create_run(root, tiny_config(), "target")
    update_status(
        paths.status, state="running", pid=pid, pgid=pid, host=socket.gethostname(), heartbeat=time.time(), **extra
    )
    return paths.dir


@pytest.mark.parametrize("force", [True, False])
def test_stop_never_signals_a_process_that_is_not_the_worker(
    root: Path, bystander: subprocess.Popen, force: bool
) -> None:
    run_dir = _live_run(root, bystander.pid)  # no `proc` record: status.json alone names the pid
    proc = run_cli("runs", "stop", "target", *(["--force"] if force else []), "--runs", str(root), env=cli_env())
    assert proc.returncode == 0, proc.stderr
    time.sleep(0.2)
    assert bystander.poll() is None, "runs stop killed a process that is not the run's worker"
    assert "not signalled" in proc.stdout
    assert read_status(run_dir / "status.json")["state"] == "lost"


def test_stop_force_refuses_a_reused_pid(root: Path, bystander: subprocess.Popen) -> None:
    # the pid's command line names the run, but it started at another time: a reused pid
    _live_run(root, bystander.pid, create_time=(process_create_time(bystander.pid) or 0) - 3600)
    run_cli("runs", "stop", "target", "--force", "--runs", str(root), env=cli_env())
    assert bystander.poll() is None


def test_stop_force_kills_the_real_worker(root: Path) -> None:
    """Control: a process whose command line names the run and whose create time matches is killed."""
    paths = create_run(root, tiny_config(), "target")
    worker = subprocess.Popen(
        [sys.executable, "-c", "import time; time.sleep(300)", str(paths.dir)], start_new_session=True
    )
    try:
        wait_until(lambda: process_create_time(worker.pid), 10, "the stand-in worker")
        update_status(paths.status, state="running", pid=worker.pid, pgid=worker.pid, host=socket.gethostname(),
                      heartbeat=time.time(), create_time=process_create_time(worker.pid))  # fmt: skip
        proc = run_cli("runs", "stop", "target", "--force", "--runs", str(root), env=cli_env())
        assert "killed" in proc.stdout, proc.stdout + proc.stderr
        assert worker.wait(timeout=10) == -signal.SIGKILL
    finally:
        worker.kill()


def test_an_unreadable_status_is_rewritten_whole_by_the_worker(tmp_path: Path) -> None:
    paths = create_run(tmp_path, tiny_config(), "whole")
    status = StatusFile(paths.status)
    status.update(state="running", pid=4242, heartbeat=1.0)
    paths.status.write_text("{not json")  # a torn write, a hand edit
    status.update(heartbeat=2.0)
    after = read_status(paths.status)
    assert after is not None
    assert (
        after["name"] == "whole" and after["state"] == "running" and after["pid"] == 4242 and after["heartbeat"] == 2.0
    )


def test_a_worker_heartbeat_revives_a_lost_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import os

    paths = create_run(tmp_path, tiny_config(), "paused")
    status = StatusFile(paths.status)
    status.update(state="running", pid=os.getpid(), host=socket.gethostname(), heartbeat=time.time() - 1000)
    monkeypatch.setenv("SIMSIAM_TUI_STALE_S", "60")
    assert refresh_state(paths) == "lost"  # paused past the stale limit
    assert occupancy(tmp_path) == {None: 1}, "a lost run whose process lives must keep its slot"
    status.update(heartbeat=time.time())  # the worker comes back
    assert read_status(paths.status)["state"] == "running"
    assert diagnose(paths)[0] == "running"
    write_status(paths.status, {**read_status(paths.status), "state": "lost"})  # a watcher wrote lost meanwhile
    assert diagnose(paths)[0] == "running"  # a fresh heartbeat from a live worker is live again


def _hammer(path: str, key: str) -> None:
    for i in range(40):
        update_status(Path(path), **{f"{key}{i}": i})


def test_status_writes_from_several_processes_lose_nothing(tmp_path: Path) -> None:
    paths = create_run(tmp_path, tiny_config(), "busy")
    ctx = multiprocessing.get_context("fork")
    procs = [ctx.Process(target=_hammer, args=(str(paths.status), k)) for k in "abcd"]
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
    status = read_status(paths.status)
    missing = [f"{k}{i}" for k in "abcd" for i in range(40) if f"{k}{i}" not in status]
    assert not missing, f"{len(missing)} updates lost"


@pytest.mark.slow
def test_worker_survives_a_garbage_status_and_stops_on_request(root: Path) -> None:
    paths = create_run(root, tiny_config(train={"epochs": 50}), "steady")
    worker = start_worker_for(paths.dir)
    try:
        wait_until(lambda: (read_status(paths.status) or {}).get("state") == "running", 120, "the worker to run")
        paths.status.write_text("\x00garbage")
        wait_until(lambda: read_status(paths.status), 30, "the next heartbeat")
        status = read_status(paths.status)
        assert status["name"] == "steady" and status["state"] == "running" and status["pid"] == worker.pid
        rows = json.loads(run_cli("runs", "ls", "--json", "--runs", str(root), env=cli_env()).stdout)
        assert rows[0]["state"] == "running"
        assert run_cli("runs", "stop", "steady", "--wait", "--runs", str(root), env=cli_env()).returncode == 0
        assert worker.wait(timeout=60) == 0
        assert read_status(paths.status)["state"] == "stopped"
    finally:
        worker.kill()


@pytest.mark.slow
def test_worker_whose_run_folder_vanished_stops_without_recreating_it(root: Path) -> None:
    paths = create_run(root, tiny_config(train={"epochs": 50}), "doomed")
    worker = start_worker_for(paths.dir)
    try:
        wait_until(lambda: (read_status(paths.status) or {}).get("state") == "running", 120, "the worker to run")
        shutil.rmtree(paths.dir)
        assert worker.wait(timeout=120) == 0
        _, err = worker.communicate()
        assert "removed" in err
        assert not paths.dir.exists(), "the worker recreated a stub of the removed run"
    finally:
        worker.kill()


@pytest.mark.slow
def test_a_paused_worker_that_comes_back_is_live_again_and_kept_its_slot(root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import os

    paths = create_run(root, tiny_config(train={"epochs": 50}), "paused")
    worker = start_worker_for(paths.dir)
    try:
        wait_until(lambda: (read_status(paths.status) or {}).get("state") == "running", 120, "the worker to run")
        os.kill(worker.pid, signal.SIGSTOP)
        monkeypatch.setenv("SIMSIAM_TUI_STALE_S", "2")
        wait_until(lambda: refresh_state(paths) == "lost", 30, "the paused worker to be marked lost")
        assert read_status(paths.status)["state"] == "lost"
        assert occupancy(root) == {None: 1}, "the slot of a lost run whose process lives was given away"
        os.kill(worker.pid, signal.SIGCONT)
        wait_until(lambda: read_status(paths.status)["state"] == "running", 30, "the worker's heartbeat to revive it")
        rows = json.loads(run_cli("runs", "ls", "--json", "--runs", str(root), env=cli_env(SIMSIAM_TUI_STALE_S="2")).stdout)
        assert rows[0]["state"] == "running"
    finally:
        worker.kill()
