"""How the app's parts talk: the poller's messages coalesce while the UI thread is busy (Message.can_replace)."""

from __future__ import annotations

from pathlib import Path

from simsiam_tui.ui.app import PollerChanged, SimsiamApp
from simsiam_tui.ui.poller import Changes
from simsiam_tui.ui.widgets.runs_table import RunsTable
from tests.ui.conftest import CLOCK, loaded, wait_until


def test_a_newer_pass_takes_in_an_older_one() -> None:
    older = PollerChanged(Changes(runs={"a"}, new=["a"], log=True, error="reading runs failed"))
    newer = PollerChanged(Changes(runs={"b"}, new=["b"], gpus=True))
    assert older.can_replace(newer)
    assert newer.changes == Changes(runs={"a", "b"}, new=["a", "b"], gpus=True, log=True, error="reading runs failed")
    assert not newer.can_replace(RunsTable.SelectionChanged())  # only poller passes coalesce


class CountingApp(SimsiamApp):
    handled: list[Changes]

    def on_poller_changed(self, message: PollerChanged) -> None:
        self.handled.append(message.changes)
        super().on_poller_changed(message)


async def test_passes_queued_behind_a_busy_ui_thread_are_handled_once(suite_root: Path, backend) -> None:
    app = CountingApp([suite_root], backend=backend, poll_interval=0.05, clock=lambda: CLOCK)
    app.handled = []
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_until(pilot, loaded(app, 3))
        app.poller.stop()  # only the passes posted below
        app.handled.clear()
        keys = [m.key for m in app.catalog.models()]
        for key in keys:  # three passes arrive while the UI thread is busy (here: in this coroutine)
            app.post_message(PollerChanged(Changes(runs={key})))
        await pilot.pause()
        assert len(app.handled) == 1 and app.handled[0].runs == set(keys)


def test_the_chart_view_zooms_pans_and_moves_its_cursor_without_widgets() -> None:
    from simsiam_tui.ui.chart_view import CURSOR_STEPS, ChartView

    view = ChartView()
    assert view.zoom(0.5, None) is None and view.toggle_cursor(None) is None  # nothing drawn: the key says so
    assert view.zoom(0.5, (0.0, 100.0)) and view.x_range == (25.0, 75.0)
    assert view.pan(0.5, (0.0, 100.0)) and view.x_range == (50.0, 100.0)
    assert view.toggle_cursor((0.0, 100.0)) and view.cursor_x == 75.0
    assert view.move_cursor(-6, (0.0, 100.0)) and view.cursor_x == 75.0 - 6 * 50.0 / CURSOR_STEPS
    assert view.show((3.0, 3.0)) is False and view.x_range == (50.0, 100.0)  # an empty range changes nothing
    view.set_x_axis("epoch")
    assert (view.layout.x_axis, view.x_range, view.cursor_x) == ("epoch", None, None)
    view.set_log_y("loss", True)
    assert [s.log_y for s in view.layout.charts if s.metric == "loss"] == [True]


PARTS = ("app.py", "live_charts.py", "run_actions.py", "run_rows.py", "chart_view.py", "input_pace.py")


def test_the_parts_talk_through_public_methods_and_messages() -> None:
    """The app is components, not mixins: SimsiamApp derives from App alone, and no part reaches into another's
    private state (an attribute `x._name` where x is not `self`); they call public methods and post messages."""
    import ast
    import inspect

    from textual.app import App

    import simsiam_tui.ui as ui

    assert SimsiamApp.__bases__ == (App,)
    folder = Path(inspect.getfile(ui)).parent
    reaches = []
    for name in PARTS:
        tree = ast.parse((folder / name).read_text())
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Attribute)
                and node.attr.startswith("_")
                and not node.attr.startswith("__")
                and not (isinstance(node.value, ast.Name) and node.value.id == "self")
            ):
                reaches.append(f"{name}:{node.lineno} .{node.attr}")
    assert reaches == []
    for gone in ("app_base.py", "explore.py", "commands.py"):
        assert not (folder / gone).exists()
