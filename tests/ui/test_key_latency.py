"""A key's frame comes first: live table cells and side panels wait while keys are pressed, then catch up."""

from __future__ import annotations

import pytest

from simsiam_tui.store import RunPaths
from tests.ui.conftest import loaded, make_app, wait_until
from tests.ui.fixtures import SIMSIAM_ID as SIMSIAM
from tests.ui.fixtures import append_train

pytestmark = pytest.mark.real_timing  # these tests measure the app's own throttles



@pytest.mark.slow
async def test_live_rows_wait_for_typing_to_pause_and_then_show(suite_root, backend):
    app = make_app([suite_root], backend)
    paths = RunPaths(suite_root / SIMSIAM)
    key = str(paths.dir)
    async with app.run_test(size=(140, 44)) as pilot:
        await wait_until(pilot, loaded(app, 3))
        held: list[bool] = []
        app.table.hold_live(5.0)  # as if keys kept coming (HOLD_MAX_S still bounds the wait)
        for step in range(295, 320, 5):
            append_train(paths, step, loss=-0.95)
        while "-0.9500" not in str(app.table.get_row(key)[5]):
            held.append(bool(app.table.pending))
            await pilot.pause(0.02)
        assert any(held), "the poller's new cells were shown while keys were held"
        await wait_until(pilot, lambda: app.charts_current, timeout=10)


async def test_side_panel_updates_wait_for_the_keys(suite_root, backend):
    app = make_app([suite_root], backend)
    async with app.run_test(size=(140, 44)) as pilot:
        await wait_until(pilot, loaded(app, 3))
        calls: list[int] = []
        await pilot.press("down")  # a key: live panel updates wait INPUT_QUIET_S
        app._after_keys(lambda: calls.append(1))
        assert calls == [] and not app.charts_current
        await wait_until(pilot, lambda: calls == [1], timeout=5)
        await wait_until(pilot, lambda: app.charts_current, timeout=10)
