"""Live behaviour: events appended while the app runs reach the table and charts; new runs appear on their own."""

from __future__ import annotations

import time

from simsiam_tui.store import RunPaths
from tests.ui.conftest import loaded, make_app, wait_until
from tests.ui.fixtures import SIMSIAM_ID as SIMSIAM
from tests.ui.fixtures import append_train, write_run


async def test_appended_events_update_table_and_charts(suite_root, backend):
    app = make_app([suite_root], backend)
    paths = RunPaths(suite_root / SIMSIAM)
    key = str(paths.dir)
    async with app.run_test(size=(140, 44)) as pilot:
        await wait_until(pilot, loaded(app, 3))
        before = app.query_one("#chart-loss").lines[key]
        assert max(before.x) == 290
        t = time.monotonic()
        for step in range(295, 345, 5):
            append_train(paths, step, loss=-0.95)
        with paths.events.open("a") as fh:  # a line still being written: waits for its newline
            fh.write('{"v":1,"kind":"train","step":350,"epo')
        await wait_until(pilot, lambda: "-0.9500" in str(app.table.get_row(key)[5]), timeout=5)
        assert time.monotonic() - t < 4  # seen within about a second (poller runs every 50 ms here)
        await wait_until(pilot, lambda: max(app.query_one("#chart-loss").lines[key].x) == 340, timeout=5)
        with paths.events.open("a") as fh:
            fh.write('och":8.75,"time":1767000400,"loss":-0.97,"z_std":0.04,"z_std_ref":0.0442}\n')
        await wait_until(pilot, lambda: max(app.query_one("#chart-loss").lines[key].x) == 350, timeout=5)
        assert "-0.9700" in str(app.table.get_row(key)[5])
        assert app.catalog.get(key).tail.bad_lines == 0


async def test_new_run_appears_on_its_own(suite_root, backend):
    app = make_app([suite_root], backend)
    app.poller.scan_every = 0.1
    async with app.run_test(size=(140, 44)) as pilot:
        await wait_until(pilot, loaded(app, 3))
        write_run(suite_root, "20260101-000003-no-stop-grad-0f0f", "no-stop-grad", 2.0, seed=9)
        await wait_until(pilot, lambda: app.table.row_count == 4, timeout=5)
        await wait_until(pilot, loaded(app, 4))
        assert "20260101-000003-no-stop-grad-0f0f" in {m.paths.run_id for m in app.catalog.models()}


async def test_watch_several_roots(tmp_path, backend):
    a, b = tmp_path / "a", tmp_path / "b"
    write_run(a, "20260101-000000-simsiam-aaaa", "simsiam", 3.0)
    write_run(b, "20260101-000000-no-stop-grad-bbbb", "no-stop-grad", 3.0)
    app = make_app([a, b], backend)
    async with app.run_test(size=(140, 44)) as pilot:
        await wait_until(pilot, loaded(app, 2))
        assert {m.summary.root for m in app.catalog.models()} == {str(a), str(b)}
