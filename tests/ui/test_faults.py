"""Faults never crash the app: garbage or truncated events, missing status.json, a deleted directory; 80x24 works."""

from __future__ import annotations

import shutil

import pytest

from simsiam_tui.store import RunPaths
from tests.ui.conftest import loaded, make_app, wait_until
from tests.ui.fixtures import stop_grad_suite, write_run


def broken_root(tmp_path):
    root = tmp_path / "runs"
    stop_grad_suite(root)
    garbage = write_run(root, "20260101-000010-simsiam-bad1", "simsiam", 2.0)
    garbage.events.write_bytes(b'\x00\xff not json\n{"no kind": 1}\n[1,2]\n')
    nostatus = write_run(root, "20260101-000011-simsiam-bad2", "simsiam", 2.0)
    nostatus.status.unlink()
    half = write_run(root, "20260101-000012-simsiam-bad3", "simsiam", 2.0)
    with half.events.open("ab") as fh:
        fh.write(b'{"v":1,"kind":"train","step":9999,"loss":')  # truncated mid-line, forever
    mixed = write_run(root, "20260101-000013-simsiam-bad4", "simsiam", 2.0)
    with mixed.events.open("ab") as fh:
        fh.write(b"garbage line\n")
    return root


async def test_broken_runs_show_unreadable_with_reason(tmp_path, backend):
    root = broken_root(tmp_path)
    app = make_app([root], backend)
    async with app.run_test(size=(140, 44)) as pilot:
        await wait_until(pilot, loaded(app, 6))
        by_id = {m.paths.run_id: m.summary for m in app.catalog.models()}
        assert by_id["20260101-000010-simsiam-bad1"].state == "corrupt"
        assert "3 unreadable line(s)" in by_id["20260101-000010-simsiam-bad1"].problem
        assert by_id["20260101-000011-simsiam-bad2"].state == "corrupt"
        assert "status.json" in by_id["20260101-000011-simsiam-bad2"].problem
        assert by_id["20260101-000012-simsiam-bad3"].state == "running"  # a partial last line just waits
        assert by_id["20260101-000012-simsiam-bad3"].problem is None
        mixed = by_id["20260101-000013-simsiam-bad4"]
        assert mixed.state == "running" and "1 unreadable line(s)" in mixed.problem
        assert mixed.loss is not None  # good lines still count
        # the Run tab says why
        await pilot.press("down", "down", "down", "down", "down")
        await pilot.click("#--content-tab-tab-run")  # the tab is drawn when shown
        await wait_until(pilot, lambda: "unreadable line" in str(app.details.info_view.render()))
        assert "!" in str(app.table.get_row(str(root / "20260101-000013-simsiam-bad4"))[2])


async def test_deleted_directory_and_config(tmp_path, backend):
    root = tmp_path / "runs"
    runs = stop_grad_suite(root)
    app = make_app([root], backend)
    async with app.run_test(size=(140, 44)) as pilot:
        await wait_until(pilot, loaded(app, 2))
        shutil.rmtree(runs[1].dir)
        key = str(runs[1].dir)
        await wait_until(pilot, lambda: app.catalog.get(key).summary.state == "corrupt")
        assert app.catalog.get(key).summary.problem == "run directory deleted"
        await wait_until(pilot, lambda: "corrupt" in str(app.table.get_row(key)[2]))
        await pilot.press("x", "m")  # redraws with a vanished run still work
        runs[0].events.write_text("")  # truncated to nothing: read again from the start
        await wait_until(pilot, lambda: app.catalog.get(str(runs[0].dir)).summary.loss is None)
        RunPaths(runs[0].dir).config.write_text("{broken")
        passes = app.poller.passes
        await wait_until(pilot, lambda: app.poller.passes >= passes + 3)  # the broken config was read, and survived
        assert app.is_running


@pytest.mark.slow
async def test_small_terminal_keeps_panels_usable(suite_root, backend):
    app = make_app([suite_root], backend)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_until(pilot, loaded(app, 3))
        table, charts = app.table, app.charts_panel
        await wait_until(pilot, lambda: table.region.height >= 4)  # header + 3 runs, once laid out
        first, rest = charts.charts()[:2], charts.charts()[2:]
        for chart in first:  # one row of charts at a time, each with room for its data
            assert chart.region.width >= 30 and chart.region.height >= 12
        await pilot.press("n")  # the next row
        await wait_until(pilot, lambda: all(c.region.height >= 12 for c in rest))
        assert all(c.region.height == 0 for c in first)
        assert app.query_one("#side").region.width == 0  # hidden, one key away
        await pilot.press("p")
        assert app.query_one("#side").region.width == 80
        assert app.gpu_panel.region.height >= 2 and app.details.region.height >= 5
        await pilot.press("p")
        assert charts.region.width == 80
        await pilot.press("l")
        launch = app.screen
        assert launch.query_one("#overrides").region.height > 0 or launch.query_one("VerticalScroll").max_scroll_y > 0
        await pilot.press("escape")
        await pilot.resize_terminal(140, 44)
        await wait_until(pilot, lambda: app.query_one("#side").region.width > 30 and charts.region.width > 60)


async def test_a_reader_bug_is_reported_not_fatal(suite_root, backend):
    app = make_app([suite_root], backend)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_until(pilot, loaded(app, 3))

        def broken():
            raise RuntimeError("boom")

        app.poller.poll_once = broken
        await wait_until(pilot, lambda: any("boom" in n.message for n in app._notifications))
        assert app.is_running


async def test_empty_root_says_how_to_start(tmp_path, backend):
    app = make_app([tmp_path / "nothing-here"], backend)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_until(pilot, lambda: app.charts_panel.redraws > 0 and app.poller.passes > 0)
        await wait_until(pilot, lambda: "press l to launch" in str(app.charts_panel.legend.render()))
        await pilot.press("s")  # nothing to stop: a warning, no dialog
        assert app.screen is app.main_screen


async def test_brackets_in_what_the_app_quotes_are_text_not_markup(suite_root, backend):
    """An error quoting typed input, a toast quoting a path, a question naming runs: `[/x]` is shown, never parsed
    (as markup, an unmatched closing tag raised MarkupError and took the app down)."""
    from rich.console import Console
    from textual.widgets import Input, Static

    from simsiam_tui.ui.screens.confirm import ConfirmScreen
    from simsiam_tui.ui.screens.launch import LaunchScreen

    def shown(widget: Static) -> str:
        console = Console(width=300, record=True)
        console.print(widget.content, markup=False)
        return console.export_text()

    app = make_app([suite_root], backend)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("l")
        await wait_until(pilot, lambda: isinstance(app.screen, LaunchScreen) and app.screen.validations > 0)
        screen = app.screen
        screen.query_one("#overrides", Input).value = "model.backbone=[/x]"
        await wait_until(pilot, lambda: "overrides" in screen.errors or "config" in screen.errors)
        await pilot.pause()
        assert "[/x]" in shown(screen.query_one("#error", Static))
        await pilot.press("escape")
        app.notify("exported to /data/[/bold]runs")
        app.push_screen(ConfirmScreen("Delete 1 run(s)?\n  [/x]run  (20260101-000000-x-0000)"))
        await pilot.pause()
        assert "[/x]run" in shown(app.screen.query_one("#question", Static))
        await pilot.pause()
    assert app.return_code in (None, 0)
