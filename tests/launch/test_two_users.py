"""Two users, one shared runs root (issue 20): nothing user B plants runs as user A, and B cannot touch A's runs.

A fresh user B (useradd, removed at teardown) plants in a sticky, world-writable root (mode 1777, like /tmp): a
run folder whose status.json says `queued` with its own request (1000 threads, 1000 runs per slot) and a
`simsiam_tui/__init__.py` that writes a marker when imported; in the second test, `.queue-runner.lock` and
`.queue.lock` as symlinks to a file of A's outside the root. A (root here, as in CI) then launches two runs with a
stand-in worker on one CPU slot, lets the queue runner start the second, resumes and removes its runs. B's run
must stay queued and untouched with no process on it, the marker must never appear, A's file must not change,
and B's attempts to write, move or remove A's run folder must fail.

Skipped only where it cannot run: not root (useradd and runuser need it) or no `useradd`.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.faults.hostile import (
    changes,
    cli_env,
    kill_processes_naming,
    planted_source,
    processes_naming,
    run_cli,
    snapshot,
    stand_in_worker,
    status_of,
    valid_config,
)
from tests.launch.conftest import kill_everything, wait_until

pytestmark = pytest.mark.skipif(
    os.geteuid() != 0 or shutil.which("useradd") is None or shutil.which("runuser") is None,
    reason="needs root and useradd/runuser to make a second user (CI runs as root)",
)

B_RUN = "20200101-000000-simsiam-b0b0"  # sorts first, and its status says it was queued long ago


@pytest.fixture
def user_b() -> Iterator[str]:
    """A fresh user with its own group, removed (with anything it left) at teardown."""
    name = f"ssb{secrets.token_hex(4)}"
    subprocess.run(["useradd", "-M", "-U", "-s", "/bin/sh", name], check=True, capture_output=True)
    try:
        yield name
    finally:
        subprocess.run(["userdel", "-r", name], capture_output=True)
        subprocess.run(["groupdel", name], capture_output=True)


@pytest.fixture
def shared() -> Iterator[Path]:
    """/tmp/<x> (0755) holding the shared runs root (1777), A's private folder (0700) and a markers folder (0777)."""
    base = Path(tempfile.mkdtemp(prefix="simsiam-two-users-", dir="/tmp"))
    base.chmod(0o755)
    for name, mode in (("runs", 0o1777), ("a-private", 0o700), ("markers", 0o777)):
        (base / name).mkdir()
        (base / name).chmod(mode)
    try:
        yield base
    finally:
        kill_processes_naming(base)
        kill_everything(base / "runs")
        shutil.rmtree(base, ignore_errors=True)


def as_user(user: str, script: str, *args: str) -> subprocess.CompletedProcess[str]:
    """`sh -c SCRIPT sh ARGS...` as `user` (umask 022)."""
    return subprocess.run(["runuser", "-u", user, "--", "sh", "-c", "umask 022; " + script, "sh", *args],
                          capture_output=True, text=True, timeout=30)  # fmt: skip


def plant_as_b(user: str, root: Path, marker: Path) -> Path:
    """As B: a run folder queued long ago with its own request, and a simsiam_tui package in the root."""
    now = time.time()
    status = {"state": "queued", "name": "simsiam", "variant": "simsiam", "created": now - 3600, "host": os.uname()[1],
              "queued_at": now - 3600, "request": {"gpus": [], "per_gpu": 1000, "threads": 1000}}  # fmt: skip
    script = """set -e
mkdir "$1/$2" "$1/$2/checkpoints"
printf '%s' "$3" > "$1/$2/config.json"
printf '%s' "$4" > "$1/$2/status.json"
mkdir "$1/simsiam_tui"
printf '%s' "$5" > "$1/simsiam_tui/__init__.py"
"""
    config, pkg = json.dumps(valid_config()), planted_source(marker)
    done = as_user(user, script, str(root), B_RUN, config, json.dumps(status, indent=1), pkg)
    assert done.returncode == 0, done.stderr
    assert (root / B_RUN / "status.json").stat().st_uid != os.geteuid()
    return root / B_RUN


def plant_lock_links_as_b(user: str, root: Path, runner_target: Path, queue_target: Path) -> None:
    """As B: the queue runner's and the queue's lock files as symlinks to files of A's outside the root."""
    script = 'ln -s "$2" "$1/.queue-runner.lock" && ln -s "$3" "$1/.queue.lock"'
    done = as_user(user, script, str(root), str(runner_target), str(queue_target))
    assert done.returncode == 0, done.stderr


def cli_as_a(root: Path) -> Callable[..., subprocess.CompletedProcess[str]]:
    """`simsiam-tui ARGS --runs ROOT` as A, from the shared root itself, with the stand-in worker."""
    env = cli_env(SIMSIAM_TUI_WORKER=stand_in_worker(importing=True))
    return lambda *args: run_cli(*args, "--runs", str(root), cwd=root, env=env)


def launch_and_queue(a: Callable[..., subprocess.CompletedProcess[str]], check: Callable[[str], None]) -> list[Path]:
    """A launches two runs on one CPU slot; the first starts now, then the queue runner starts the second once A
    stops the first. `check(when)` runs at each step."""
    out = a("launch", "--preset", "simsiam", "--preset", "simsiam", "--scale", "digits", "--gpus", "cpu",
            "--per-gpu", "1", "--json")  # fmt: skip
    assert out.returncode == 0, f"A cannot launch in the shared root: {out.stderr}"
    first, second = (Path(r["dir"]) for r in json.loads(out.stdout))
    check("after A's launch")
    wait_until(
        lambda: check("while A's first run starts") or (first / "stand-in.started").exists(), 20, "A's first run"
    )
    check("after A's first run started")
    stopped = a("runs", "stop", first.name, "--force")
    assert stopped.returncode == 0, stopped.stderr
    wait_until(
        lambda: check("while the queue runner runs") or (second / "stand-in.started").exists(),
        30,
        "the queue runner to start A's second run",
    )
    time.sleep(1.5)  # one more pass of the runner
    check("after the queue runner's passes")
    return [first, second]


def test_nothing_b_plants_runs_as_a_and_b_cannot_touch_a_runs(user_b: str, shared: Path) -> None:
    root, marker = shared / "runs", shared / "markers" / "planted-package-ran"
    b_dir = plant_as_b(user_b, root, marker)
    b_before = snapshot(b_dir)

    def b_untouched(when: str) -> None:
        assert not marker.exists(), f"{when}: B's planted simsiam_tui package ran: {marker.read_text()}"
        assert not processes_naming(b_dir), f"{when}: a process runs on B's queued run: {processes_naming(b_dir)}"
        assert status_of(b_dir).get("state") == "queued", f"{when}: B's run was touched: {status_of(b_dir)}"
        changed = changes(b_before, snapshot(b_dir))
        assert not changed, f"{when}: B's run folder changed: {changed}"

    a = cli_as_a(root)
    first, second = launch_and_queue(a, b_untouched)
    for folder in (first, second):  # the modes A's runs get (umask 022): nobody else may write them
        for path in [folder, *folder.rglob("*")]:
            assert not path.stat().st_mode & 0o002, f"{path} is writable by every user: {oct(path.stat().st_mode)}"

    # B cannot change, move or remove A's (stopped) first run: sticky root, A's folders 0755, files 0644
    a_before = snapshot(first)
    attempts = {
        "write status.json": 'printf \'{"state":"queued"}\' > "$1/status.json"',
        "append to events.jsonl": 'echo "{}" >> "$1/events.jsonl"',
        "create a file in the run": 'touch "$1/planted"',
        "remove config.json": 'rm -f "$1/config.json"',
        "move the run away": 'mv "$1" "$1.moved"',
        "remove the run": 'rm -rf "$1"',
    }
    for what, script in attempts.items():
        tried = as_user(user_b, script, str(first))
        assert tried.returncode != 0, f"B could {what} in A's run: {tried.stdout}{tried.stderr}"
    assert first.is_dir() and not changes(a_before, snapshot(first)), changes(a_before, snapshot(first))

    # A resumes and removes its own runs
    resumed = a("runs", "resume", first.name, "--wait", "0", "--json")
    assert resumed.returncode == 0, resumed.stderr
    assert status_of(first).get("state") in ("queued", "starting", "running"), status_of(first)
    for run in (second, first):
        assert a("runs", "stop", run.name, "--force").returncode == 0
    removed = a("runs", "rm", first.name, second.name, "--json")
    assert removed.returncode == 0, removed.stderr
    assert not first.exists() and not second.exists()
    b_untouched("at the end")


@pytest.mark.parametrize("targets", ["existing", "dangling"])
def test_b_lock_symlinks_neither_write_through_nor_stop_a(user_b: str, shared: Path, targets: str) -> None:
    """B's `.queue-runner.lock` and `.queue.lock` symlinks to two files of A's (existing, or not there yet): A's
    folder never changes (no truncation, no pid written, nothing created), and A still launches and queues in
    the shared root (A cannot remove B's links there: the root is sticky)."""
    root, private = shared / "runs", shared / "a-private"
    runner_target, queue_target = private / "precious-1", private / "precious-2"
    if targets == "existing":
        for path in (runner_target, queue_target):
            path.write_text("A's file: must never change\n")
            os.utime(path, (1_000_000_000, 1_000_000_000))
    plant_lock_links_as_b(user_b, root, runner_target, queue_target)
    before = snapshot(private)

    def a_folder_unchanged(when: str) -> None:
        changed = changes(before, snapshot(private))
        assert not changed, f"{when}: A's folder behind B's lock symlinks changed: {changed}"

    a = cli_as_a(root)
    runs = launch_and_queue(a, a_folder_unchanged)
    for run in runs:
        a("runs", "stop", run.name, "--force")
    a_folder_unchanged("at the end")
