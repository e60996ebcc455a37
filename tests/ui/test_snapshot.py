"""Snapshot of the main screen on the stop-grad suite (fixed clock, fixed run ids, no GPUs, relative root)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.ui.conftest import FakeBackend, loaded, make_app, wait_until
from tests.ui.fixtures import stop_grad_suite


def test_main_screen_stop_grad_suite(snap_compare, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    stop_grad_suite(tmp_path / "runs")
    app = make_app(["runs"], FakeBackend())

    async def settle(pilot):
        await wait_until(pilot, loaded(app, 2))
        await wait_until(pilot, lambda: app.poller.gpus_probed and app.details.lines)
        app.refresh_gpu_panel()
        await pilot.pause(0.2)

    assert snap_compare(app, terminal_size=(140, 42), run_before=settle)


def test_small_terminal_80x24(snap_compare, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    stop_grad_suite(tmp_path / "runs")
    app = make_app(["runs"], FakeBackend())

    async def settle(pilot):
        await wait_until(pilot, loaded(app, 2))
        await wait_until(pilot, lambda: app.poller.gpus_probed)
        app.refresh_gpu_panel()
        await pilot.pause(0.2)

    assert snap_compare(app, terminal_size=(80, 24), run_before=settle)


def _suite_app(tmp_path, monkeypatch):  # type: ignore[no-untyped-def]
    monkeypatch.chdir(tmp_path)
    stop_grad_suite(tmp_path / "runs")
    return make_app(["runs"], FakeBackend(), export_dir=Path("exports"))  # relative: the picture names no tmp path


def _settled(app, *keys: str):  # type: ignore[no-untyped-def]
    async def settle(pilot):  # type: ignore[no-untyped-def]
        await wait_until(pilot, loaded(app, 2))
        await wait_until(pilot, lambda: app.poller.gpus_probed and app.charts_panel.quantiles.points > 0)
        app.refresh_gpu_panel()
        if keys:
            await pilot.press(*keys)
            await wait_until(pilot, lambda: app.charts_current)
        await pilot.pause(0.2)

    return settle


@pytest.mark.slow
def test_zoomed_with_cursor(snap_compare, tmp_path, monkeypatch):
    """Zoomed in twice, panned, the cursor moved: every chart on the same x window, the readout above."""
    app = _suite_app(tmp_path, monkeypatch)
    assert snap_compare(app, terminal_size=(140, 42), run_before=_settled(app, "plus", "plus", "less_than_sign", "c"))


@pytest.mark.slow
def test_chart_picker_dialog(snap_compare, tmp_path, monkeypatch):
    app = _suite_app(tmp_path, monkeypatch)
    assert snap_compare(app, terminal_size=(140, 42), run_before=_settled(app, "v"))


@pytest.mark.slow
def test_export_menu(snap_compare, tmp_path, monkeypatch):
    app = _suite_app(tmp_path, monkeypatch)
    assert snap_compare(app, terminal_size=(140, 42), run_before=_settled(app, "e"))


@pytest.mark.slow
def test_help_screen(snap_compare, tmp_path, monkeypatch):
    app = _suite_app(tmp_path, monkeypatch)
    assert snap_compare(app, terminal_size=(140, 42), run_before=_settled(app, "question_mark"))


@pytest.mark.slow
def test_launch_dialog(snap_compare, tmp_path, monkeypatch):
    app = _suite_app(tmp_path, monkeypatch)
    assert snap_compare(app, terminal_size=(140, 42), run_before=_settled(app, "l"))


@pytest.mark.slow
def test_confirm_dialog(snap_compare, tmp_path, monkeypatch):
    app = _suite_app(tmp_path, monkeypatch)
    assert snap_compare(app, terminal_size=(140, 42), run_before=_settled(app, "s"))


@pytest.mark.slow
@pytest.mark.parametrize(
    "key",
    [
        "l",  # launch: every field, the --set box among them, and the buttons on screen
        "v",  # chart picker: six slots and Defaults / Cancel / Apply
        "question_mark",  # help: scrolls
        "e",  # export menu
        "s",  # confirm
        "p",  # the GPU, log (its tail) and config panels in place of the charts
    ],
)
def test_80x24(snap_compare, tmp_path, monkeypatch, key):
    """80x24, the size of a fresh ssh session or a tmux split: every dialog and the side panels fit."""
    app = _suite_app(tmp_path, monkeypatch)
    assert snap_compare(app, terminal_size=(80, 24), run_before=_settled(app, key))


@pytest.mark.slow
@pytest.mark.parametrize("key", [None, "l", "v", "question_mark", "e", "s"], ids=lambda k: k or "main")
def test_200x60(snap_compare, tmp_path, monkeypatch, key):
    """200x60, a wide terminal: the main screen with the side panels beside the charts, and every dialog."""
    app = _suite_app(tmp_path, monkeypatch)
    keys = (key,) if key else ()
    assert snap_compare(app, terminal_size=(200, 60), run_before=_settled(app, *keys))
