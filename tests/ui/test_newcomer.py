"""What a newcomer meets in the app: the generated collapse rule in help, resume feedback at once, the launch dialog."""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from pathlib import Path

import pytest
from rich.console import Console
from textual.widgets import Button, Checkbox, Input, Static
from textual.widgets._toast import Toast

from simsiam_tui.store import RunPaths, read_status, update_status
from simsiam_tui.store.verdict_rule import rule_lines
from simsiam_tui.ui import actions as ui_actions
from simsiam_tui.ui.model import RunModel
from simsiam_tui.ui.screens.confirm import ConfirmScreen
from simsiam_tui.ui.screens.help import HelpScreen
from simsiam_tui.ui.screens.launch import LaunchScreen
from tests.ui.conftest import FakeBackend, loaded, make_app, wait_until
from tests.ui.fixtures import STEPS_PER_EPOCH, write_run

STOPPED = "20260101-000003-simsiam-dd11"


def _text(widgets) -> str:
    console = Console(width=300, record=True)
    for widget in widgets:
        console.print(widget.content, markup=False)
    return " ".join(console.export_text().split())


@pytest.mark.slow
async def test_help_screen_states_the_generated_rule(suite_root, backend):
    """`?` states every line of the rule generated from store/verdict.py, the effective-rank rule included."""
    app = make_app([suite_root], backend)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("question_mark")
        await wait_until(pilot, lambda: isinstance(app.screen, HelpScreen))
        flat = _text(app.screen.query(Static))
        for _label, when in rule_lines():
            assert " ".join(when.split()) in flat, when
        assert "effective rank of z under 2" in flat


async def test_table_uses_the_verdicts_own_words(suite_root, backend):
    app = make_app([suite_root], backend)
    async with app.run_test(size=(140, 44)) as pilot:
        await wait_until(pilot, loaded(app, 3))
        badges = {str(app.table.get_cell(key, "verdict")) for key in app.table.rows}
        assert "healthy" in badges and "COLLAPSED" in badges and "ok" not in badges


class SlowResume(FakeBackend):
    """The launcher's resume as the real one does it (status -> queued -> starting), but slow to answer."""

    def __init__(self) -> None:
        super().__init__()
        self.release = threading.Event()

    def resume(self, runs: Sequence[RunPaths]) -> str:
        self.calls.append(("resume", [r.run_id for r in runs]))
        self.release.wait(20)
        for paths in runs:
            update_status(paths.status, state="starting", resumed=time.time(), launched=time.time())
        return "resumed from checkpoint"


@pytest.mark.slow
async def test_resume_shows_starting_and_the_step_at_once(tmp_path):
    """After r + y the row reads `starting` before the launcher answers, and a toast names the resume step."""
    root = tmp_path / "runs"
    paths = write_run(root, STOPPED, "simsiam", 4.5, state="stopped")
    backend = SlowResume()
    app = make_app([root], backend)
    async with app.run_test(size=(140, 40), notifications=True) as pilot:
        await wait_until(pilot, loaded(app, 1))
        assert str(app.table.get_cell(str(paths.dir), "state")) == "stopped"
        await pilot.press("r")
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("y")
        await pilot.pause()
        assert str(app.table.get_cell(str(paths.dir), "state")) == "starting"  # the launcher has not answered yet
        step = 4 * STEPS_PER_EPOCH  # the last checkpoint: the end of epoch 4
        toast = f"resuming simsiam from step {step} (epoch 4.0)"
        # on the main screen, drawn: a toast raised while the confirm dialog closes would be lost with it
        await wait_until(pilot, lambda: any(toast in str(t.render()) for t in app.screen.query(Toast)), timeout=5)
        assert app.screen is app.main_screen
        assert read_status(paths.status)["state"] == "stopped"
        backend.release.set()
        await wait_until(pilot, lambda: read_status(paths.status)["state"] == "starting")
        await pilot.pause(0.5)
        assert str(app.table.get_cell(str(paths.dir), "state")) == "starting"


def test_a_resumed_run_is_not_shown_by_its_old_end_event(tmp_path):
    """status.json says starting after a resume; the previous `end` (stopped) event no longer decides the state."""
    paths = write_run(tmp_path, STOPPED, "simsiam", 10.0)  # ends with a `finished` end event
    update_status(paths.status, state="starting", resumed=time.time() + 10)
    model = RunModel(paths, tmp_path)
    while model.poll():
        if model.caught_up:
            break
    assert model.summary is not None and model.summary.state == "starting"
    update_status(paths.status, state="running", resumed=0.0, launched=0.0, queued_at=0.0)
    model.poll()
    assert model.summary.state == "finished"  # a live status older than the end event: the worker ended


async def _open_dialog(pilot, app) -> LaunchScreen:
    await pilot.press("l")
    await wait_until(pilot, lambda: isinstance(app.screen, LaunchScreen))
    screen = app.screen
    await wait_until(pilot, lambda: screen.validations > 0)
    return screen


@pytest.mark.slow
async def test_launch_dialog_shows_every_field_error_at_once(suite_root, backend):
    app = make_app([suite_root], backend)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await _open_dialog(pilot, app)
        screen.query_one("#gpus", Input).value = "x"
        screen.query_one("#per_gpu", Input).value = "0"
        screen.query_one("#name", Input).value = "../bad"
        screen.query_one("#overrides", Input).value = "optm.lr=1 train.epochs=-2"
        await wait_until(pilot, lambda: len(screen.errors) >= 4)
        assert set(screen.errors) == {"gpus", "per_gpu", "name", "overrides"}
        shown = _text([screen.query_one("#error", Static)])
        for part in ("is not a list of GPU indices", "--per-gpu 0 must be at least 1", "would leave the runs folder", "did you mean 'optim.lr'",
                     "invalid value -2 for 'train.epochs'"):  # fmt: skip
            assert part in shown, part
        assert all(screen.query_one(f"#{k}", Input).has_class("-invalid") for k in ("gpus", "per_gpu", "name"))
        assert screen.query_one("#launch", Button).disabled


@pytest.mark.slow
async def test_launch_dialog_validates_off_the_ui_thread_and_debounced(suite_root, backend, monkeypatch):
    """Typing never waits for a config check: it runs on another thread, once typing pauses."""
    threads: list[str] = []
    real = ui_actions.check_launch

    def spy(*args, **kwargs):
        threads.append(threading.current_thread().name)
        return real(*args, **kwargs)

    monkeypatch.setattr("simsiam_tui.ui.screens.launch.check_launch", spy)
    monkeypatch.setattr("simsiam_tui.ui.screens.launch.DEBOUNCE_S", 3.0)  # longer than any gap between keys here
    app = make_app([suite_root], backend)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await _open_dialog(pilot, app)
        before = len(threads)
        screen.query_one("#overrides", Input).focus()
        await pilot.press(*"train.epochs=3")
        await wait_until(pilot, lambda: screen.checked is not None and screen.checked.overrides == "train.epochs=3")
        assert screen.plan is not None and screen.plan.configs[0].train.epochs == 3
        assert len(threads) - before == 1, threads  # 14 keys, one check once typing paused
        assert threading.main_thread().name not in threads


@pytest.mark.slow
async def test_launch_dialog_fits_80x24_without_gpus(suite_root, backend):
    """At 80x24 the buttons and the message are on screen; placeholders fit; no GPU means no 'all visible GPUs'."""
    app = make_app([suite_root], backend)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_until(pilot, lambda: app.poller.gpus_probed)
        screen = await _open_dialog(pilot, app)
        await pilot.pause()
        assert screen.focused is not None and screen.focused.id == "suite"  # the form first, not a button
        for button_id in ("launch", "cancel"):
            button = screen.query_one(f"#{button_id}", Button)
            region = button.region
            assert region.height > 0 and region.right <= 80 and region.bottom <= 24, region
            widget, _ = screen.get_widget_at(region.x + region.width // 2, region.y + region.height // 2)
            assert widget is button, widget
        plan = screen.query_one("#plan", Static)
        assert plan.region.height > 0 and plan.region.bottom <= 24
        summary = _text([plan])
        assert "on the CPU (no GPU seen)" in summary and "all visible GPUs" not in summary
        for field in screen.query(Input):
            assert len(field.placeholder) <= field.content_region.width, (field.id, field.placeholder)
        await pilot.click("#launch")
        await wait_until(pilot, lambda: backend.calls)
        assert backend.calls[0][0] == "launch"


async def test_launch_dialog_stops_what_collapses_when_asked(suite_root, backend):
    """The dialog's --on-collapse stop: the plan says so and every config it launches carries monitor.on_collapse."""
    app = make_app([suite_root], backend)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await _open_dialog(pilot, app)
        box = screen.query_one("#on_collapse", Checkbox)
        box.scroll_visible(animate=False)
        await pilot.pause()
        box.value = True
        await wait_until(pilot, lambda: "stopping what collapses" in _text([screen.query_one("#plan", Static)]))
        await pilot.click("#launch")
        await wait_until(pilot, lambda: backend.calls)
        plan = backend.calls[0][1]
        assert plan.configs and all(c.monitor.on_collapse == "stop" for c in plan.configs)


async def test_launch_dialog_launches_a_sweep_with_seeds(suite_root, backend):
    """The dialog's seeds and --sweep fields: the plan names the points and seeds, and launches the whole grid."""
    app = make_app([suite_root], backend)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await _open_dialog(pilot, app)
        for field, value in (("#seeds", "2"), ("#sweeps", "optim.lr=0.01,0.05")):
            box = screen.query_one(field, Input)
            box.scroll_visible(animate=False)
            await pilot.pause()
            box.value = value
        await wait_until(pilot, lambda: "at 2 sweep points, 2 seeds each" in screen.summary())
        await pilot.click("#launch")
        await wait_until(pilot, lambda: backend.calls)
        plan = backend.calls[0][1]
        assert len(plan.configs) == 8 and {c.sweep for c in plan.configs} == {"optim.lr=0.01", "optim.lr=0.05"}


async def test_launch_dialog_names_the_gpus_it_sees(suite_root):
    backend = FakeBackend(gpus=[{"index": 0, "name": "A100"}, {"index": 1, "name": "A100"}])
    app = make_app([suite_root], backend)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_until(pilot, lambda: app.poller.gpus_probed)
        screen = await _open_dialog(pilot, app)
        assert "on all visible GPUs (0,1)" in screen.summary()


def test_app_roots_are_absolute(tmp_path, monkeypatch):
    from simsiam_tui.ui import SimsiamApp

    monkeypatch.chdir(tmp_path)
    app = SimsiamApp(["rel"], backend=FakeBackend())
    assert app.roots == [tmp_path.resolve() / "rel"]
    assert isinstance(app.roots[0], Path)


@pytest.mark.slow
async def test_launch_dialog_closed_while_checking(suite_root, backend, monkeypatch):
    """A check still running when the dialog is cancelled is dropped, not drawn into a screen that is gone."""
    release = threading.Event()
    real = ui_actions.check_launch

    def slow(*args, **kwargs):
        release.wait(10)
        return real(*args, **kwargs)

    monkeypatch.setattr("simsiam_tui.ui.screens.launch.check_launch", slow)
    app = make_app([suite_root], backend)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("l")
        await wait_until(pilot, lambda: isinstance(app.screen, LaunchScreen))
        screen = app.screen
        await pilot.pause(0.3)  # the first check is running, held
        await pilot.press("escape")
        await wait_until(pilot, lambda: app.screen is app.main_screen)
        release.set()
        await pilot.pause(0.5)
        assert screen.validations == 0 and backend.calls == []
        assert app.screen is app.main_screen and app.is_running
