"""The runs folder as a trust boundary, case by case: process start, ownership, one actor, tears, corrupt files.

The property test (test_hostile_folders.py) throws random hostile folders at the readers; these are the
named cases of issue 20, each as a user or an attacker would meet it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

from simsiam_tui.launch import scheduler
from simsiam_tui.launch.api import resume_runs
from simsiam_tui.launch.errors import LaunchError
from simsiam_tui.launch.spawn import SAFE_CWD, safe_env, spawn_detached
from simsiam_tui.launch.state import diagnose
from simsiam_tui.store import EventWriter, RunPaths, create_run, read_events, read_status, update_status
from simsiam_tui.store.reader import EventTail
from simsiam_tui.store.status import run_lock
from simsiam_tui.train.checkpoint import load_checkpoint, load_resumable, prev_path
from simsiam_tui.train.errors import CheckpointError

from .conftest import cli_env, one_line_error, run_cli, stopped_run, tiny_config


def test_children_import_nothing_from_the_runs_root(root: Path) -> None:
    """A planted package in the root is not importable by a child: -P, PYTHONSAFEPATH, cwd /, PYTHONPATH cut."""
    (root / "json").mkdir()
    (root / "json" / "__init__.py").write_text("raise SystemExit('planted module imported')\n")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(["", ".", "relative/dir", str(root), "/opt/ok"])}
    cleaned = safe_env(env, [root])
    assert cleaned["PYTHONSAFEPATH"] == "1" and cleaned["PYTHONPATH"] == "/opt/ok"
    log = root / "child.log"
    probe = "import json, os, sys; print(os.getcwd()); print(json.__file__); print(sys.path)"
    proc = spawn_detached([sys.executable, "-P", "-c", probe], log, {**env, "PWD": str(root)}, roots=[root])
    assert proc.wait(20) == 0, log.read_text()
    cwd, json_file, path = log.read_text().splitlines()[-3:]
    assert cwd == str(SAFE_CWD) and not json_file.startswith(str(root))
    assert str(root) not in path and "''" not in path


def test_planted_links_are_never_written_through_nor_lock_the_owner_out(root: Path, tmp_path: Path) -> None:
    precious = tmp_path / "precious"
    precious.write_text("mine\n")
    (root / "worker.log").symlink_to(precious)
    with pytest.raises(OSError, match="symbolic link"):
        spawn_detached([sys.executable, "-c", "pass"], root / "worker.log", dict(os.environ))
    for name in (".queue.lock", ".queue-runner.lock", scheduler.SCHED_LOCK, scheduler.RUNNER_LOCK):
        (root / name).symlink_to(precious)  # where the locks once lived, and their names now: never opened
    assert scheduler.schedule(root) == [] and not scheduler.runner_alive(root)
    assert precious.read_text() == "mine\n"
    assert tmp_path not in scheduler.root_lock_path(root, scheduler.SCHED_LOCK).parents  # the locks live elsewhere


def _queued(root: Path, name: str, **request: object) -> Path:
    paths = create_run(root, tiny_config(), name)
    update_status(paths.status, request={"gpus": [], "per_gpu": 2, "threads": 1, **request}, queued_at=time.time())
    return paths.dir


def test_the_launcher_starts_only_its_own_user_s_queued_runs(root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    theirs = _queued(root, "theirs")
    locks = scheduler.private_dir()
    monkeypatch.setattr(scheduler, "private_dir", lambda: locks)  # (its ownership check would see the fake uid)
    monkeypatch.setattr(os, "geteuid", lambda: os.getuid() + 4242)  # now every run in the root is another user's
    assert scheduler.queued_runs(root) == [] and scheduler.schedule(root) == []
    assert read_status(theirs / "status.json")["state"] == "queued"  # untouched: it waits for its owner


def test_a_queued_request_is_checked_again_before_it_starts(root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    greedy = _queued(root, "greedy", threads=1000)
    monkeypatch.setattr(os, "cpu_count", lambda: 2)
    assert scheduler.schedule(root) == []
    status = read_status(greedy / "status.json")
    assert status["state"] == "failed" and "1000 threads" in status["message"]
    # past the protocol's own range the request does not even decode: the run is corrupt, never started
    wild = _queued(root, "wild")
    raw = json.loads((wild / "status.json").read_text())
    raw["request"]["per_gpu"] = 10**6
    (wild / "status.json").write_text(json.dumps(raw))
    assert scheduler.schedule(root) == [] and read_status(wild / "status.json") is None
    assert diagnose(RunPaths(wild))[0] == "corrupt"


def test_one_actor_per_run(root: Path) -> None:
    """While one command acts on a run (its lock held), a second resume or rm says so and does nothing."""
    paths = stopped_run(root)
    with run_lock(paths.dir) as held:
        assert held
        with pytest.raises(LaunchError, match="busy"):
            resume_runs([paths])
        resume = run_cli("runs", "resume", paths.run_id, "--runs", str(root), env=cli_env())
        one_line_error(resume, "busy")
        rm = run_cli("runs", "rm", paths.run_id, "--runs", str(root), env=cli_env())
        one_line_error(rm, "busy")
    assert read_status(paths.status)["state"] == "stopped" and paths.dir.is_dir()


@pytest.mark.parametrize("ref", ["", " ", "\t"])
def test_an_empty_run_reference_names_no_run(root: Path, ref: str) -> None:
    paths = stopped_run(root)
    for command in (["runs", "rm", ref], ["runs", "show", ref], ["runs", "resume", ref]):
        one_line_error(run_cli(*command, "--runs", str(root), env=cli_env()), "empty run reference")
    assert paths.dir.is_dir()


def test_a_worker_hung_while_starting_is_lost_and_resumable(root: Path) -> None:
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        paths = stopped_run(root, state="starting", pid=sleeper.pid, heartbeat=time.time() - 3600)
        state, why = diagnose(paths)
        assert state == "lost" and "while starting" in (why or "")
    finally:
        sleeper.kill()
        sleeper.wait()


@pytest.mark.parametrize(
    ("field", "value", "needle"),
    [
        ("pid", "abc", "$.pid"),
        ("heartbeat", "yesterday", "$.heartbeat"),
        ("state", ["running"], "$.state"),
        ("created", 1e300, "$.created"),
        ("exit_code", 10**400, "$.exit_code"),
    ],
)
def test_a_wrong_typed_status_is_a_corrupt_run_in_one_line(root: Path, field: str, value: object, needle: str) -> None:
    paths = stopped_run(root)
    raw = json.loads(paths.status.read_text())
    raw[field] = value
    paths.status.write_text(json.dumps(raw))
    listed = run_cli("runs", "ls", "--json", "--runs", str(root), env=cli_env())
    assert listed.returncode == 0 and "Traceback" not in listed.stderr, listed.stderr
    (row,) = json.loads(listed.stdout)
    assert row["state"] == "corrupt" and needle in row["message"] and "status.json" in row["message"]
    shown = run_cli("runs", "show", paths.run_id, "--runs", str(root), env=cli_env())
    assert shown.returncode == 0 and "corrupt" in shown.stdout, shown.stderr


def test_a_torn_line_costs_only_itself(tmp_path: Path) -> None:
    """A worker killed mid-append leaves half a line; the next writer ends it, so the resume's start survives."""
    events = tmp_path / "events.jsonl"
    events.write_text('{"v":1,"kind":"train","time":1,"step":1,"epoch":0.1,"loss":0.5}\n{"v":1,"kind":"train","ti')
    with EventWriter(events) as writer:
        writer.emit("start", step=1, epoch=0.1, resumed_from_step=1)
        writer.emit("train", step=2, epoch=0.2, loss=0.4)
    tail = EventTail(events)
    kinds = [e["kind"] for e in tail.poll(max_bytes=None)]
    assert kinds == ["train", "start", "train"] and tail.bad_lines == 1
    assert [e["step"] for e in read_events(events)] == [1, 1, 2]


def _checkpoint(path: Path, step: object) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save({"model": {}, "optimizer": {}, "step": step, "steps_per_epoch": 10, "rng": {}}, path)


@pytest.mark.parametrize("step", [-1, 10**12])
def test_a_checkpoint_off_the_schedule_is_refused_and_prev_pt_used(tmp_path: Path, step: int) -> None:
    last = tmp_path / "checkpoints" / "last.pt"
    _checkpoint(last, step)
    with pytest.raises(CheckpointError, match="off this run's schedule"):
        load_resumable(last, total_steps=100)
    _checkpoint(prev_path(last), 30)
    ckpt, note = load_resumable(last, total_steps=100)
    assert ckpt is not None and ckpt["step"] == 30 and "off this run's schedule" in (note or "")


def test_a_fifo_checkpoint_never_hangs_the_worker(tmp_path: Path) -> None:
    last = tmp_path / "last.pt"
    os.mkfifo(last)
    started = time.monotonic()
    with pytest.raises(CheckpointError, match="FIFO"):
        load_checkpoint(last)
    assert time.monotonic() - started < 5


def test_a_checkpoints_link_is_never_written_through(root: Path, tmp_path: Path) -> None:
    from simsiam_tui.train.errors import UserFacingError
    from simsiam_tui.train.worker import run_worker

    paths = create_run(root, tiny_config(), "linked")
    outside = tmp_path / "outside"
    outside.mkdir()
    paths.checkpoints.rmdir()
    paths.checkpoints.symlink_to(outside)
    with pytest.raises(UserFacingError, match="symbolic link"):
        run_worker(paths.dir)
    assert list(outside.iterdir()) == [] and read_status(paths.status)["state"] == "failed"


@pytest.mark.parametrize("plant", ["fifo", "deep", "list"])
def test_a_hostile_config_fails_the_worker_in_one_line(root: Path, plant: str) -> None:
    from simsiam_tui.train.errors import UserFacingError
    from simsiam_tui.train.worker import run_worker

    paths = create_run(root, tiny_config(), "planted")
    paths.config.unlink()
    if plant == "fifo":
        os.mkfifo(paths.config)  # an open() for reading would wait for a writer forever
    else:
        paths.config.write_text("[" * 100_000 if plant == "deep" else "[1, 2]")
    started = time.monotonic()
    with pytest.raises(UserFacingError) as failure:
        run_worker(paths.dir)
    assert time.monotonic() - started < 5
    assert "\n" not in str(failure.value) and "config" in str(failure.value), failure.value
