"""The app on a relative runs folder, with the real launcher: launch from the dialog, stop with `s`, resume with `r`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from textual.widgets import Input, Select, SelectionList

from simsiam_tui.store import read_status
from simsiam_tui.ui import SimsiamApp
from simsiam_tui.ui.actions import Backend
from simsiam_tui.ui.screens.confirm import ConfirmScreen
from simsiam_tui.ui.screens.launch import LaunchScreen
from tests.launch.conftest import kill_everything
from tests.ui.conftest import wait_until

pytestmark = pytest.mark.slow

TINY_SET = "train.epochs=2 model.width=8 model.dim=64 model.pred_dim=16 monitor.log_every=2 monitor.collapse_every=4"


def _events(run_dir: Path) -> list[dict]:
    try:
        return [json.loads(line) for line in (run_dir / "events.jsonl").read_text().splitlines() if line.strip()]
    except (OSError, ValueError):
        return []


async def test_launch_stop_resume_from_the_app_on_a_relative_root(tmp_path, monkeypatch):
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    monkeypatch.delenv("SIMSIAM_TUI_RUNS", raising=False)
    monkeypatch.setenv("SIMSIAM_TUI_FAULT", "hold_after_epoch=1")  # the worker waits after epoch 1 for `s`
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    app = SimsiamApp(["rel"], backend=Backend(), poll_interval=0.1)
    root = work.resolve() / "rel"
    try:
        async with app.run_test(size=(140, 44), notifications=True) as pilot:
            await pilot.press("l")
            await wait_until(pilot, lambda: isinstance(app.screen, LaunchScreen))
            dialog = app.screen
            dialog.query_one("#suite", Select).clear()
            dialog.query_one("#presets", SelectionList).select("simsiam")
            dialog.query_one("#gpus", Input).value = "cpu"
            dialog.query_one("#overrides", Input).value = TINY_SET
            await wait_until(pilot, lambda: dialog.plan is not None and dialog.checked == dialog.request())
            await pilot.press("ctrl+s")
            await wait_until(pilot, lambda: app.table.row_count == 1, timeout=60)
            (run_dir,) = [p for p in root.iterdir() if p.is_dir()]
            assert app.catalog.models()[0].paths.dir == run_dir  # absolute, under the folder the user named
            await wait_until(pilot, lambda: any(e["kind"] == "checkpoint" for e in _events(run_dir)), timeout=300)
            await pilot.press("s")
            assert isinstance(app.screen, ConfirmScreen)
            await pilot.press("y")
            await wait_until(pilot, lambda: read_status(run_dir / "status.json")["state"] == "stopped", timeout=120)
            await wait_until(pilot, lambda: str(app.table.get_cell(str(run_dir), "state")) == "stopped", timeout=30)
            await pilot.press("r")
            await pilot.press("y")
            await pilot.pause()
            assert str(app.table.get_cell(str(run_dir), "state")) == "starting"
            await wait_until(pilot, lambda: read_status(run_dir / "status.json")["state"] == "finished", timeout=300)
            await wait_until(pilot, lambda: str(app.table.get_cell(str(run_dir), "state")) == "finished", timeout=30)
        starts = [e for e in _events(run_dir) if e["kind"] == "start"]
        assert len(starts) == 2 and starts[1]["resumed_from_step"] > 0
        header = (run_dir / "worker.log").read_text().splitlines()[0]
        assert header.endswith(f"simsiam_tui.train {run_dir}")
    finally:
        kill_everything(root)
