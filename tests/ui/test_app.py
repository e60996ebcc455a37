"""Pilot tests of the app on recorded stop-grad runs: compare, smoothing, x-axis, launch dialog, confirmations."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from textual.widgets import Button, Input, Static

from simsiam_tui.config import ConfigError, parse_override
from simsiam_tui.ui.screens.confirm import ConfirmScreen
from simsiam_tui.ui.screens.help import HelpScreen
from simsiam_tui.ui.screens.launch import LaunchScreen
from simsiam_tui.ui.widgets.charts import MetricChart
from tests.ui.conftest import loaded, make_app, wait_until

SIMSIAM, NO_SG, DONE = (
    "20260101-000000-simsiam-a1b2",
    "20260101-000001-no-stop-grad-c3d4",
    "20260101-000002-simsiam-e5f6",
)


def key(root: Path, run_id: str) -> str:
    return str(root / run_id)


def chart(app, metric: str) -> MetricChart:
    return app.query_one(f"#chart-{metric}", MetricChart)


async def test_table_shows_runs_with_verdicts(suite_root, backend):
    app = make_app([suite_root], backend)
    async with app.run_test(size=(140, 44)) as pilot:
        await wait_until(pilot, loaded(app, 3))
        summaries = {m.paths.run_id: m.summary for m in app.catalog.models()}
        assert summaries[SIMSIAM].verdict.label == "healthy"
        assert summaries[NO_SG].verdict.label == "collapsed"
        assert summaries[NO_SG].loss < -0.99
        assert summaries[DONE].state == "finished" and summaries[DONE].eta_s is None
        row = app.table.get_row(key(suite_root, NO_SG))
        assert "COLLAPSED" in str(row[3])
        assert "7.2/10" in str(row[4])


async def test_selected_runs_are_overlaid(suite_root, backend):
    app = make_app([suite_root], backend)
    async with app.run_test(size=(140, 44)) as pilot:
        await wait_until(pilot, loaded(app, 3))
        # at start every run (up to 6) is compared
        assert set(chart(app, "loss").lines) == {key(suite_root, r) for r in (SIMSIAM, NO_SG, DONE)}
        await pilot.press("a")  # all -> none: the charts follow the cursor
        assert app.table.selected == []
        assert list(chart(app, "loss").lines) == [key(suite_root, SIMSIAM)]
        await pilot.press("space", "down", "space")
        expected = {key(suite_root, SIMSIAM), key(suite_root, NO_SG)}
        assert set(app.table.selected) == expected
        for metric in ("loss", "z_ratio", "knn", "rank"):
            assert set(chart(app, metric).lines) == expected
        legend = str(app.query_one("#legend", Static).render())
        assert "simsiam" in legend and "no-stop-grad" in legend and "COLLAPSED" in legend
        await pilot.press("space")  # unselect no-stop-grad
        assert set(chart(app, "loss").lines) == {key(suite_root, SIMSIAM)}


async def test_smoothing_and_x_axis(suite_root, backend):
    app = make_app([suite_root], backend)
    async with app.run_test(size=(140, 44)) as pilot:
        await wait_until(pilot, loaded(app, 3))
        line = chart(app, "loss").lines[key(suite_root, SIMSIAM)]
        assert app.smooth and line.smooth_y is not None
        await pilot.press("m")
        assert not app.smooth
        assert chart(app, "loss").lines[key(suite_root, SIMSIAM)].smooth_y is None
        assert max(chart(app, "loss").lines[key(suite_root, SIMSIAM)].x) > 100  # steps
        await pilot.press("x")
        assert app.x_axis == "epoch"
        assert max(chart(app, "loss").lines[key(suite_root, SIMSIAM)].x) <= 10
        await pilot.press("x")
        assert app.x_axis == "wall"
        wall = chart(app, "loss").lines[key(suite_root, SIMSIAM)].x
        assert 0 < max(wall) < 10  # minutes since the run started
        await pilot.press("x")
        assert app.x_axis == "step"


@pytest.mark.slow
async def test_launch_dialog_rejects_bad_set_with_cli_message(suite_root, backend):
    app = make_app([suite_root], backend)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_until(pilot, loaded(app, 3))
        await pilot.press("l")
        await wait_until(pilot, lambda: isinstance(app.screen, LaunchScreen))
        screen = app.screen
        await wait_until(pilot, lambda: screen.plan is not None)
        assert [c.variant for c in screen.plan.configs] == ["simsiam", "no-stop-grad"]
        screen.query_one("#overrides", Input).value = "optim.lrr=0.1"
        await wait_until(pilot, lambda: screen.error is not None)
        try:
            parse_override("optim.lrr=0.1")
        except ConfigError as exc:
            expected = str(exc)
        assert screen.error == expected
        assert expected in str(screen.query_one("#error", Static).render())
        assert screen.query_one("#launch", Button).disabled
        await pilot.press("ctrl+s")
        assert isinstance(app.screen, LaunchScreen) and backend.calls == []
        screen.query_one("#overrides", Input).value = "train.epochs=-3"
        await wait_until(pilot, lambda: "invalid value -3 for 'train.epochs'" in (screen.error or ""))
        screen.query_one("#overrides", Input).value = "train.epochs=3"
        screen.query_one("#gpus", Input).value = "cpu"
        await wait_until(pilot, lambda: screen.plan is not None and screen.error is None)
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: backend.calls)
        kind, plan = backend.calls[0]
        assert kind == "launch" and [c.train.epochs for c in plan.configs] == [3, 3] and plan.gpus == []


@pytest.mark.slow
async def test_stop_asks_for_confirmation(suite_root, backend):
    app = make_app([suite_root], backend)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_until(pilot, loaded(app, 3))
        await pilot.press("a")  # none selected: the action applies to the cursor's run
        await pilot.press("s")
        assert isinstance(app.screen, ConfirmScreen)
        assert "Stop 1 run(s)?" in app.screen.question and SIMSIAM in app.screen.question
        await pilot.press("n")
        assert not isinstance(app.screen, ConfirmScreen)
        assert backend.calls == []
        await pilot.press("s")
        await pilot.press("y")
        await wait_until(pilot, lambda: backend.calls)
        assert backend.calls == [("stop", [SIMSIAM])]


@pytest.mark.slow
async def test_delete_and_resume_confirm_then_act(suite_root, backend):
    app = make_app([suite_root], backend)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_until(pilot, loaded(app, 3))
        await pilot.press("a", "down", "down", "space")  # select the finished run only
        await pilot.press("r")
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("y")
        await wait_until(pilot, lambda: backend.calls)
        assert backend.calls[-1] == ("resume", [DONE])
        await pilot.press("d")
        assert isinstance(app.screen, ConfirmScreen) and "removed for good" in app.screen.question
        await pilot.press("y")
        await wait_until(pilot, lambda: app.table.row_count == 2)
        assert backend.calls[-1] == ("remove", [DONE])
        assert not (suite_root / DONE).exists()


@pytest.mark.slow
async def test_export_selected_to_csv(suite_root, backend, tmp_path):
    app = make_app([suite_root], backend, export_dir=tmp_path / "out")
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_until(pilot, loaded(app, 3))
        await pilot.press("a", "space", "down", "space")
        await pilot.press("e", "c")  # the export menu: c = events as CSV
        await wait_until(pilot, lambda: list((tmp_path / "out").glob("*.csv")))
    (path,) = (tmp_path / "out").glob("*.csv")
    rows = list(csv.DictReader(path.open()))
    assert {r["run_id"] for r in rows} == {SIMSIAM, NO_SG}
    assert {"loss", "z_std", "knn_top1", "effective_rank"} <= set(rows[0])


@pytest.mark.slow
async def test_help_and_palette_commands(suite_root, backend):
    app = make_app([suite_root], backend)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_until(pilot, loaded(app, 3))
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        await pilot.press("escape")
        assert not isinstance(app.screen, HelpScreen)
        titles = {c.title for c in app.get_system_commands(app.screen)}
        assert {
            "Launch runs",
            "Stop runs",
            "Resume runs",
            "Delete runs",
            "Export",
            "Toggle smoothing",
            "Pick charts",
            "Cursor",
        } <= titles
        assert "Switch x-axis" in titles and "Help" in titles


async def test_details_show_log_and_config(suite_root, backend):
    app = make_app([suite_root], backend)
    async with app.run_test(size=(140, 44)) as pilot:
        await wait_until(pilot, loaded(app, 3))
        await wait_until(pilot, lambda: any("epoch 7/10" in line for line in app.details.lines))
        assert str(app.query_one("#config", Static).render()) == ""  # a hidden tab is drawn when shown
        await pilot.click("#--content-tab-tab-config")
        await wait_until(pilot, lambda: "method.stop_grad" in str(app.query_one("#config", Static).render()))
        assert "data.name" in str(app.query_one("#config", Static).render())
        app.table.focus()
        await pilot.press("down")
        await wait_until(
            pilot, lambda: "stop_grad False" in str(app.query_one("#config", Static).render()).replace("  ", " ")
        )


async def test_gpu_panel_local_gpus_and_remote_runs(suite_root):
    from tests.ui.conftest import FakeBackend

    gpu = {
        "index": 0,
        "name": "NVIDIA H100 80GB HBM3",
        "util_pct": 87.0,
        "mem_used_mb": 40960.0,
        "mem_total_mb": 81920.0,
    }
    app = make_app([suite_root], FakeBackend(gpus=[gpu]))
    app.poller.gpu_every = 0.05
    async with app.run_test(size=(140, 44)) as pilot:
        await wait_until(pilot, loaded(app, 3))
        await wait_until(pilot, lambda: len(app.poller.gpus) == 1 and len(app.poller.gpus[0].util) >= 3)

        def panel_text() -> str:
            app.refresh_gpu_panel()
            return str(app.gpu_panel.render())

        # the remote runs' `system` events arrive with their reads; wait for both (seen late once, under load)
        await wait_until(pilot, lambda: panel_text().count("@ gpu-node-07") == 2, timeout=10)
        text = panel_text()
        assert "GPU0" in text and "H100" in text and "87%" in text and "40.0/80.0 GB" in text
        assert "█" in text or "▇" in text  # util sparkline
        assert text.count("@ gpu-node-07") == 2  # the two live remote runs show their system events
        assert "no GPUs" not in text


async def test_no_gpus_said_plainly(suite_root, backend):
    app = make_app([suite_root], backend)
    async with app.run_test(size=(140, 44)) as pilot:
        await wait_until(pilot, loaded(app, 3))
        await wait_until(pilot, lambda: app.poller.gpus_probed)
        app.refresh_gpu_panel()
        assert "no GPUs on this machine" in str(app.gpu_panel.render())
