"""The runs table redraws only what changed, and live cells wait while the user presses keys."""

from __future__ import annotations

import time

import pytest
from rich.text import Text
from textual.app import App, ComposeResult
from textual.geometry import Region

from simsiam_tui.ui.widgets.runs_table import COLUMNS, HOLD_MAX_S, RunsTable
from tests.ui.conftest import wait_until

pytestmark = pytest.mark.real_timing  # these tests measure the app's own throttles


class CountingTable(RunsTable):
    """Counts update_cell calls: each one drops the render cache of every cell of a DataTable."""

    updates = 0

    def update_cell(self, *args: object, **kwargs: object) -> None:  # type: ignore[override]
        self.updates += 1
        super().update_cell(*args, **kwargs)  # type: ignore[arg-type]


class TableApp(App[None]):
    def compose(self) -> ComposeResult:
        yield CountingTable(id="runs")


def row(loss: str, name: str = "simsiam") -> dict[str, object]:
    values: dict[str, object] = {key: Text("-") for key, _, _ in COLUMNS}
    values.update(name=Text(name), loss=Text(loss, justify="right"))
    return values


def shown(table: RunsTable, column: str) -> str:
    return str(table.get_cell("r1", column))


async def test_only_cells_whose_text_changed_are_updated():
    app = TableApp()
    async with app.run_test() as pilot:
        table = app.query_one(CountingTable)
        table.upsert("r1", row("-0.5000"))
        table.upsert("r1", row("-0.5000"))  # the same picture: the render cache survives
        assert table.updates == 0
        table.upsert("r1", row("-0.6000"), live=True)
        assert table.updates == 1 and shown(table, "loss") == "-0.6000"
        table.upsert("r1", row("-0.6000", name="simsiam-2"))
        assert table.updates == 2 and shown(table, "name") == "simsiam-2"
        await pilot.pause()


async def test_live_cells_wait_for_the_keys_to_pause_but_user_changes_show_at_once():
    app = TableApp()
    async with app.run_test() as pilot:
        table = app.query_one(CountingTable)
        table.upsert("r1", row("-0.5000"))
        table.hold_live(0.3)  # a key was just pressed
        table.upsert("r1", row("-0.6000"), live=True)
        assert shown(table, "loss") == "-0.5000" and table.pending
        table.upsert("r1", {"sel": Text("●")})  # the user's own change: now, with what was held for that row
        assert shown(table, "sel") == "●" and shown(table, "loss") == "-0.6000" and not table.pending
        table.upsert("r1", row("-0.7000"), live=True)
        assert shown(table, "loss") == "-0.6000"
        await wait_until(pilot, lambda: shown(table, "loss") == "-0.7000", timeout=5)
        assert not table.pending


async def test_keys_held_down_delay_live_cells_at_most_hold_max():
    app = TableApp()
    async with app.run_test() as pilot:
        table = app.query_one(CountingTable)
        table.upsert("r1", row("-0.5000"))
        table.hold_live(0.3)
        start = time.monotonic()
        table.upsert("r1", row("-0.6000"), live=True)
        while shown(table, "loss") != "-0.6000":
            assert time.monotonic() - start < HOLD_MAX_S + 2.0, "live cells starved by held keys"
            table.hold_live(0.3)  # key repeat
            await pilot.pause(0.03)
        assert time.monotonic() - start >= HOLD_MAX_S * 0.9


class FixedSizeTableApp(TableApp):
    CSS = "CountingTable { width: 120; height: 6; }"  # as in the app: wider columns do not resize the widget


async def test_a_row_drawn_before_its_columns_were_measured_is_drawn_again_at_their_width():
    """DataTable measures new cells when idle; a row drawn before that (a busy app) was kept cut ("sim")."""
    app = FixedSizeTableApp()
    async with app.run_test(size=(140, 10)) as pilot:
        table = app.query_one(CountingTable)
        await pilot.pause()
        table.upsert("r1", row("-0.5000", name="simsiam-a-long-run-name"))
        area = Region(0, 0, table.size.width, 3)
        before = "".join(s.text for s in table.render_lines(area)[1])  # drawn now, before the idle measure
        assert "simsiam-a-long-run-name" not in before  # the column still has its header's width
        await pilot.pause()
        await pilot.pause()
        after = "".join(s.text for s in table.render_lines(area)[1])
        assert "simsiam-a-long-run-name" in after, after
