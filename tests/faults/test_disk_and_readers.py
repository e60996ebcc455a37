"""A full or read-only disk: reading commands never write status.json, `runs rm` still works, writers say one line."""

from __future__ import annotations

import socket
import time
from pathlib import Path

import pytest

from simsiam_tui.store import create_run, update_status
from tests.fakes import faultfs_env

from .conftest import cli_env, dead_pid, one_line_error, run_cli, tiny_config


def _orphan(root: Path, name: str = "orphan") -> Path:
    """A run whose status says running while its worker is long gone (a crash the watcher has not seen)."""
    paths = create_run(root, tiny_config(), name)
    update_status(paths.status, state="running", pid=dead_pid(), host=socket.gethostname(), heartbeat=time.time() - 5)
    for lock in (root / ".queue.lock", paths.dir / ".status.lock"):
        lock.touch()  # a root that has been used holds its lock files already
    return paths.dir


@pytest.mark.parametrize(
    "command", [["ls"], ["show", "orphan"], ["compare"], ["export", "--json", "OUT"], ["logs", "orphan"]]
)
def test_reading_commands_never_write_status(root: Path, tmp_path: Path, command: list[str]) -> None:
    run_dir = _orphan(root)
    before = (run_dir / "status.json").read_bytes(), (run_dir / "status.json").stat().st_mtime_ns
    args = [str(tmp_path / "out.json") if a == "OUT" else a for a in command]
    proc = run_cli("runs", *args, "--runs", str(root), env=cli_env())
    assert proc.returncode == 0, proc.stderr
    after = (run_dir / "status.json").read_bytes(), (run_dir / "status.json").stat().st_mtime_ns
    assert after == before, f"`runs {command[0]}` wrote status.json"
    if command[0] in ("ls", "show", "compare"):
        assert "lost" in proc.stdout  # the state shown is still the true one


@pytest.mark.parametrize("command", [["ls"], ["show", "orphan"], ["compare"], ["resume", "orphan", "--wait", "0"]])
def test_commands_on_a_full_disk_never_trace_back(root: Path, command: list[str]) -> None:
    _orphan(root)
    proc = run_cli("runs", *command, "--runs", str(root), env=cli_env(**faultfs_env(root, "ENOSPC")))
    assert "Traceback" not in proc.stderr, proc.stderr
    if command[0] == "resume":
        one_line_error(proc, "No space left on device")
    else:
        assert proc.returncode == 0, proc.stderr


def test_rm_works_on_a_full_disk(root: Path) -> None:
    run_dir = _orphan(root)
    proc = run_cli("runs", "rm", "orphan", "--runs", str(root), env=cli_env(**faultfs_env(root, "ENOSPC")))
    assert proc.returncode == 0, proc.stderr
    assert not run_dir.exists()


def test_read_only_root_is_one_line_for_launch_and_rm(root: Path) -> None:
    _orphan(root)
    env = cli_env(**faultfs_env(root, "EROFS"))
    one_line_error(
        run_cli("launch", "--preset", "simsiam", "--scale", "digits", "--runs", str(root), env=env),
        "Read-only file system",
    )
    one_line_error(run_cli("runs", "rm", "orphan", "--runs", str(root), env=env), "Read-only file system")
    assert len([p for p in root.iterdir() if not p.name.startswith(".")]) == 1  # nothing created, nothing removed


def test_json_exports_are_valid_json_with_nan_as_null(root: Path, tmp_path: Path) -> None:
    import json

    run_dir = _orphan(root)
    (run_dir / "events.jsonl").write_text(
        '{"v":1,"kind":"train","time":1,"step":1,"epoch":0.1,"loss":NaN,"lr":Infinity,"z_std":0.1,"z_std_ref":0.2}\n'
    )
    out = tmp_path / "rows.json"
    assert run_cli("runs", "export", "--json", str(out), "--runs", str(root), env=cli_env()).returncode == 0
    rows = json.loads(out.read_text(), parse_constant=lambda c: pytest.fail(f"{c} in a JSON export"))
    assert rows[0]["loss"] is None and rows[0]["lr"] is None

    def strict(constant: str) -> None:
        pytest.fail(f"{constant} in a --json output")

    for command in (["ls"], ["compare"], ["show", "orphan"]):
        proc = run_cli("runs", *command, "--json", "--runs", str(root), env=cli_env())
        json.loads(proc.stdout, parse_constant=strict)
