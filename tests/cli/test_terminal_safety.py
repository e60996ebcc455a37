"""Text planted in a run folder (status message, run name, log lines) never reaches the terminal as raw control bytes."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from simsiam_tui.store import RunPaths
from tests.launch.conftest import run_cli
from tests.ui.fixtures import write_run

HOSTILE = "\x1b[2J\x1b]0;pwned\x07"  # clear the screen, retitle the window, ring the bell
SHOWN = "\\x1b[2J\\x1b]0;pwned\\x07"  # what a user sees instead
RAW = ("\x1b", "\x07", "\x9b", "\u202e")
ID = "20260101-000000-simsiam-a1b2"
ODD_ID = "20260101-000009-x\x1b]0;pwned\x07-beef"  # a folder name is run-folder text too


def _assert_clean(result: subprocess.CompletedProcess[str]) -> str:
    """The command's whole output: no raw control byte in stdout or stderr, no traceback."""
    for stream in (result.stdout, result.stderr):
        assert not any(c in stream for c in RAW), repr(stream[:2000])
    assert "Traceback" not in result.stderr
    return result.stdout + result.stderr


def _plant(paths: RunPaths, message: str) -> None:
    status = json.loads(paths.status.read_text())
    status["message"] = message
    paths.status.write_text(json.dumps(status))
    with paths.log.open("a") as fh:
        fh.write(f"epoch 3 {HOSTILE} done\r\nbidi \u202eevil\x9b2J\npartial {HOSTILE}")  # no final newline


@pytest.fixture(scope="module")
def root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("hostile") / "runs"
    _plant(write_run(root, ID, "simsiam", 2.0, state="stopped"), f"stopped: {HOSTILE} [bold]not markup[/]")
    odd = write_run(root, "20260101-000009-x-beef", "simsiam", 1.0, state="stopped")
    odd.dir.rename(root / ODD_ID)
    return root


def test_runs_ls_escapes_messages_and_ids(root: Path) -> None:
    out = _assert_clean(run_cli("runs", "ls", "--runs", str(root)))
    assert SHOWN[:12] in out and "[bold]not markup[/]" in out  # shown as text, neither run nor parsed
    assert "pwned" in out.split(ID)[-1]
    listed = json.loads(run_cli("runs", "ls", "--runs", str(root), "--json").stdout)  # JSON keeps the true text
    assert {r["id"] for r in listed} == {ID, ODD_ID}
    assert any(HOSTILE in (r["message"] or "") for r in listed)


def test_runs_show_escapes_the_message(root: Path) -> None:
    out = _assert_clean(run_cli("runs", "show", ID, "--runs", str(root)))
    assert f"message: stopped: {SHOWN} [bold]not markup[/]" in out


def test_runs_logs_escapes_each_line(root: Path) -> None:
    out = _assert_clean(run_cli("runs", "logs", ID, "--runs", str(root)))
    lines = out.splitlines()
    assert f"epoch 3 {SHOWN} done" in lines  # CR LF ends the line, it does not show
    assert "bidi \\u202eevil\\x9b2J" in lines
    assert lines[-1] == f"partial {SHOWN}"  # the unfinished last line is shown too
    last = _assert_clean(run_cli("runs", "logs", ID, "-n", "2", "--runs", str(root))).splitlines()
    assert last == ["bidi \\u202eevil\\x9b2J", f"partial {SHOWN}"]
    followed = _assert_clean(run_cli("runs", "logs", ID, "-f", "--runs", str(root)))  # a stopped run: to the end
    assert followed.splitlines() == lines


def test_runs_compare_and_markdown_escape_the_variant(root: Path, tmp_path: Path) -> None:
    copy = tmp_path / "runs"
    shutil.copytree(root, copy)
    cfg = json.loads((copy / ID / "config.json").read_text())
    cfg["variant"] = f"simsiam{HOSTILE}"
    (copy / ID / "config.json").write_text(json.dumps(cfg))
    _assert_clean(run_cli("runs", "compare", "--runs", str(copy)))
    _assert_clean(run_cli("runs", "compare", "--by", "variant", "--runs", str(copy)))
    _assert_clean(run_cli("runs", "compare", "--by", "variant", "--markdown", "--runs", str(copy)))


def test_action_lines_escape_the_run_id(root: Path, tmp_path: Path) -> None:
    copy = tmp_path / "runs"
    shutil.copytree(root, copy)
    out = _assert_clean(run_cli("runs", "rm", "20260101-000009", "--runs", str(copy)))
    assert "x\\x1b]0;pwned\\x07-beef" in out
    assert not (copy / ODD_ID).exists()


def test_a_fifo_as_worker_log_is_one_error_line_not_a_hang(tmp_path: Path) -> None:
    root = tmp_path / "runs"
    paths = write_run(root, ID, "simsiam", 1.0, state="stopped")
    paths.log.unlink()
    os.mkfifo(paths.log)
    result = run_cli("runs", "logs", ID, "--runs", str(root), timeout=60)
    assert result.returncode == 2 and "FIFO" in result.stderr and len(result.stderr.strip().splitlines()) == 1


def test_runs_logs_follow_escapes_lines_split_across_reads(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """-f: a line written in two pieces is shown once, whole and escaped; following ends with the run."""
    from typer.testing import CliRunner

    from simsiam_tui.cli import runs_cmd
    from simsiam_tui.cli.main import app

    root = tmp_path / "runs"
    paths = write_run(root, ID, "simsiam", 1.0, state="running")
    paths.log.write_bytes(b"first\n")
    pieces = [b"half \x1b[2J", "and \u202ethe rest\n".encode(), b"last \x07"]
    states = iter(["running"] * 2 * len(pieces) + ["finished"] * 3)  # each piece: one wait, one read
    monkeypatch.setattr(runs_cmd, "refresh_state", lambda *_a, **_k: next(states))

    def sleep(_seconds: float) -> None:  # the worker writes while the reader waits
        with paths.log.open("ab") as fh:
            fh.write(pieces.pop(0) if pieces else b"")

    monkeypatch.setattr(runs_cmd.time, "sleep", sleep)
    result = CliRunner().invoke(app, ["runs", "logs", ID, "-f", "--runs", str(root)])
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == ["first", "half \\x1b[2Jand \\u202ethe rest", "last \\x07"]
