"""Malformed events: a known field of the wrong type is a bad line, counted and skipped; whole-root commands survive."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from simsiam_tui.store import EventTail, create_run, read_history
from simsiam_tui.store.reader import valid_event
from simsiam_tui.ui.fastread import parse_lines

from .conftest import cli_env, run_cli, tiny_config

GOOD = [
    {"v": 1, "kind": "start", "time": 1.0, "step": 0, "epoch": 0.0, "resumed_from_step": None},
    {"v": 1, "kind": "train", "time": 2.0, "step": 10, "epoch": 1.0, "loss": -0.5, "z_std": 0.1, "z_std_ref": 0.2},
    {"v": 1, "kind": "start", "time": 3.0, "step": 5, "epoch": 0.5, "resumed_from_step": 5},
    {"v": 1, "kind": "train", "time": 4.0, "step": 6, "epoch": 0.6, "loss": None, "z_std": 0.1, "z_std_ref": 0.2},
    {"v": 1, "kind": "future-kind", "time": 5.0, "step": 7, "epoch": 0.7, "anything": {"goes": [1]}},
]
BAD = [
    {"v": 1, "kind": "train", "time": 2.0, "step": "abc", "epoch": 1.0, "loss": 0.1},
    {"v": 1, "kind": "train", "time": 2.0, "step": None, "epoch": 1.0},
    {"v": 1, "kind": "train", "time": 2.0, "step": True, "epoch": 1.0},
    {"v": 1, "kind": "train", "time": 2.0, "step": 3, "epoch": "1"},
    {"v": 1, "kind": "train", "time": "now", "step": 3, "epoch": 1.0},
    {"v": 1, "kind": "train", "time": 2.0, "step": 3, "epoch": 1.0, "loss": "low"},
    {"v": 1, "kind": "collapse", "time": 2.0, "step": 3, "epoch": 1.0, "std_quantiles": "flat"},
    {"v": 1, "kind": "start", "time": 2.0, "step": 3, "epoch": 1.0, "resumed_from_step": "5"},
    {"v": 1, "kind": "end", "time": 2.0, "step": 3, "epoch": 1.0, "state": 7},
    {"v": 1, "kind": 5, "step": 3},
]


def _write(path: Path, events: list) -> None:
    path.write_text("".join(json.dumps(e) + "\n" for e in events))


def test_wrong_types_are_bad_lines(tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl"
    _write(path, GOOD[:2] + BAD + GOOD[2:])
    tail = EventTail(path)
    assert tail.poll() == GOOD
    assert tail.bad_lines == len(BAD) and "unreadable" in (tail.last_error or "")
    assert [valid_event(e) for e in BAD] == [False] * len(BAD)
    fast = EventTail(path)  # the app's chunk parser applies the same rule
    assert parse_lines(path.read_bytes(), fast) == GOOD and fast.bad_lines == len(BAD)
    history = read_history(path)
    assert list(history.series["train"].column("step")) == [6.0]  # step 10 was redone after the resume from 5


def test_garbage_lines_cannot_merge_into_valid_json(tmp_path: Path) -> None:
    lines = [b'{"kind":"train","step":1,"x":[1', b"2]}", b'{"kind":"train","step":2}']
    tail = EventTail(tmp_path / "none")
    assert parse_lines(b"\n".join(lines) + b"\n", tail) == [{"kind": "train", "step": 2}]
    assert tail.bad_lines == 2


@pytest.mark.parametrize(
    "command", [["ls"], ["compare"], ["show", "mixed"], ["export", "--csv", "OUT"], ["export", "--json", "OUT"]]
)
def test_whole_root_commands_survive_malformed_events_after_a_resume(
    root: Path, tmp_path: Path, command: list[str]
) -> None:
    paths = create_run(root, tiny_config(), "mixed")
    last = {"v": 1, "kind": "train", "time": 9.0, "step": "9", "epoch": "2"}  # the run's last event is malformed
    _write(paths.events, GOOD[:2] + BAD + GOOD[2:] + [last])
    create_run(root, tiny_config(), "fine")
    args = [str(tmp_path / "out") if a == "OUT" else a for a in command]
    proc = run_cli("runs", *args, "--runs", str(root), env=cli_env())
    assert proc.returncode == 0 and "Traceback" not in proc.stderr, proc.stderr
