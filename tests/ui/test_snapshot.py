"""Snapshot of the main screen on the stop-grad suite (fixed clock, fixed run ids, no GPUs, relative root)."""

from __future__ import annotations

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
