"""The layout file is run-folder input: a hostile one is ignored with a one-line notice, never a crash or a hang."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from simsiam_tui.ui.layout import LAYOUT_FILE, MAX_LAYOUT_BYTES, ChartSlot, Layout, load_layout, save_layout
from tests.ui.conftest import loaded, make_app, wait_until

GOOD = {"charts": [{"metric": "train/lr", "log_y": True}], "x_axis": "wall", "smooth": False}


def _ignored(root: Path, *words: str) -> str:
    layout, notice = load_layout(root)
    assert layout == Layout()
    assert notice is not None and len(notice.splitlines()) == 1 and len(notice) < 400, notice
    assert "ignored" in notice and LAYOUT_FILE in notice
    for word in words:
        assert word in notice, notice
    return notice


def test_a_good_file_loads(tmp_path: Path) -> None:
    (tmp_path / LAYOUT_FILE).write_text(json.dumps({**GOOD, "from_a_newer_version": 1}))  # unknown keys: skipped
    assert load_layout(tmp_path) == (Layout([ChartSlot("train/lr", True)], "wall", False), None)


@pytest.mark.parametrize(
    ("data", "why"),
    [
        ({"charts": 3}, "Expected `array`"),
        ({"charts": [{"metric": 3}]}, "$.charts[0].metric"),
        ({"charts": [{"metric": "loss", "log_y": "yes"}]}, "$.charts[0].log_y"),
        ({"charts": [{"metric": "loss"}], "smooth": 1}, "$.smooth"),
        ({"charts": [{"metric": "loss"}], "x_axis": ["step"]}, "$.x_axis"),
        ({"charts": []}, "length >= 1"),
        ({"charts": [{"metric": "loss"}] * 7}, "length <= 6"),
        ({"charts": [{"metric": "loss"}], "x_axis": "time"}, "x_axis"),
        ({"charts": [{"metric": "nope/zz"}]}, "is no metric"),
        ([GOOD], "Expected `object`"),
        ("charts", "Expected `object`"),
        (None, "Expected `object`"),
    ],
)
def test_wrong_types_and_values_are_ignored(tmp_path: Path, data: object, why: str) -> None:
    (tmp_path / LAYOUT_FILE).write_text(json.dumps(data))
    _ignored(tmp_path, why)


@pytest.mark.parametrize(
    "data",
    [
        b"[" * 100_000,  # the top level is no object: refused before any depth
        b'{"charts": ' + b"[" * 100_000,
        b'{"skipped": ' + b"[" * 100_000 + b"]" * 100_000 + b"}",  # an unknown key's value is still walked
        b'{"charts": [{"metric": "loss", "x": ' + b'{"a": ' * 50_000 + b"1" + b"}" * 50_000 + b"}]}",
        b"{not json",
        b"\xff\xfe\x00",
        b"",
    ],
)
def test_deeply_nested_or_malformed_json_is_ignored(tmp_path: Path, data: bytes) -> None:
    (tmp_path / LAYOUT_FILE).write_bytes(data)
    _ignored(tmp_path)


def test_a_huge_file_is_not_read(tmp_path: Path) -> None:
    (tmp_path / LAYOUT_FILE).write_bytes(json.dumps(GOOD).encode() + b" " * MAX_LAYOUT_BYTES)
    _ignored(tmp_path, "larger than")


def test_a_fifo_is_ignored_without_blocking(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / LAYOUT_FILE)  # no writer: a plain open() would wait forever
    _ignored(tmp_path, "FIFO")


def test_a_symlink_to_a_file_outside_is_not_followed(tmp_path: Path) -> None:
    root, outside = tmp_path / "runs", tmp_path / "elsewhere.json"
    root.mkdir()
    outside.write_text(json.dumps(GOOD))
    (root / LAYOUT_FILE).symlink_to(outside)
    _ignored(root, "symbolic link")
    assert save_layout(root, Layout()) is None  # saving replaces the link, never writes through it
    assert not (root / LAYOUT_FILE).is_symlink() and json.loads(outside.read_text()) == GOOD
    assert load_layout(root) == (Layout(), None)


def test_a_folder_is_ignored(tmp_path: Path) -> None:
    (tmp_path / LAYOUT_FILE).mkdir()
    _ignored(tmp_path, "folder")
    assert save_layout(tmp_path, Layout()) is not None  # cannot replace a folder: a notice, no exception


def test_a_notice_quoting_the_file_is_one_short_escaped_line(tmp_path: Path) -> None:
    name = "\x1b[2J\n" + "x" * 5000
    (tmp_path / LAYOUT_FILE).write_text(json.dumps({"charts": [{"metric": f"{name}/y"}]}))
    notice = _ignored(tmp_path, "\\x1b[2J\\n")
    assert "\x1b" not in notice


async def test_the_app_starts_past_a_fifo_layout_with_a_notice(tmp_path, backend):
    root = tmp_path / "runs"
    from tests.ui.fixtures import write_run

    write_run(root, "20260101-000000-simsiam-a1b2", "simsiam", 1.0)
    os.mkfifo(root / LAYOUT_FILE)
    app = make_app([root], backend)
    async with app.run_test(size=(140, 44)) as pilot:
        await wait_until(pilot, loaded(app, 1), timeout=20)
        assert [c.metric.key for c in app.charts_panel.charts()] == ["loss", "z_ratio", "knn", "rank"]
        assert any("FIFO" in n.message for n in app._notifications)
