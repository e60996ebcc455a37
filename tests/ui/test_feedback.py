"""Feedback before the work: the launch dialog marks a field as being checked at once, and the chart picker's
new layout is painted before the charts' data are drawn (issue 22, item 4). Ordering, not timing: the check is
held back and the first data draw records what had been painted by then."""

from __future__ import annotations

import threading
from typing import Any

from rich.console import Console
from textual.widgets import Button, Input, Select, Static

from simsiam_tui.ui import actions as ui_actions
from simsiam_tui.ui.screens.chart_picker import ChartPicker
from simsiam_tui.ui.screens.launch import LaunchScreen
from simsiam_tui.ui.widgets.charts import ChartPlaceholder, MetricChart
from tests.ui.conftest import loaded, make_app, wait_until


def _text(widget: Static) -> str:
    console = Console(width=300, record=True)
    console.print(widget.content, markup=False)
    return " ".join(console.export_text().split())


async def test_a_field_is_marked_as_being_checked_before_its_check_runs(suite_root, backend, monkeypatch):
    """Typing marks the field and replaces the old summary at once; the check, held back, clears both."""
    release = threading.Event()
    started: list[str] = []
    real = ui_actions.check_launch

    def held(req: Any, *args: Any, **kwargs: Any) -> Any:
        started.append(req.overrides)
        if req.overrides:
            release.wait(10)
        return real(req, *args, **kwargs)

    monkeypatch.setattr("simsiam_tui.ui.screens.launch.check_launch", held)
    app = make_app([suite_root], backend)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("l")
        await wait_until(pilot, lambda: isinstance(app.screen, LaunchScreen))
        screen = app.screen
        await wait_until(pilot, lambda: screen.validations > 0)
        plan = screen.query_one("#plan", Static)
        assert "run(s)" in _text(plan) and not plan.has_class("-checking")
        field = screen.query_one("#overrides", Input)
        field.focus()
        await pilot.press("t")
        # the key's own frame: the field is marked, the summary says what is being checked, Launch waits
        assert field.has_class("-checking") and plan.has_class("-checking")
        assert _text(plan) == "checking --set…"
        assert screen.query_one("#launch", Button).disabled
        await wait_until(pilot, lambda: "t" in started)  # the check started, and is held: nothing shown yet
        assert field.has_class("-checking") and (screen.checked is None or screen.checked.overrides != "t")
        release.set()
        await wait_until(pilot, lambda: screen.checked is not None and screen.checked.overrides == "t")
        assert not field.has_class("-checking") and not plan.has_class("-checking")
        assert "overrides" in screen.errors and "checking" not in _text(plan)


async def test_the_picked_layout_is_painted_before_its_data_are_drawn(suite_root, backend, monkeypatch):
    """Apply in the chart picker: the new chart's place is painted first (a placeholder with its title), then the
    chart, empty, then its data; the charts whose metric stayed are the same widgets, their data never left."""
    events: list[str] = []
    real_render, real_mount = ChartPlaceholder.render, MetricChart.on_mount

    def placeholder_render(self: ChartPlaceholder) -> Any:
        events.append(f"placeholder painted {self.chart.metric.key}")
        return real_render(self)

    def chart_mount(self: MetricChart) -> None:
        events.append(f"chart mounted {self.metric.key}")
        real_mount(self)

    monkeypatch.setattr(ChartPlaceholder, "render", placeholder_render)
    monkeypatch.setattr(MetricChart, "on_mount", chart_mount)
    app = make_app([suite_root], backend)
    async with app.run_test(size=(140, 44)) as pilot:
        await wait_until(pilot, loaded(app, 3))
        app.poller.stop()  # the runs are recorded: no later poll may redraw the charts between the steps timed here
        await pilot.pause()
        await wait_until(pilot, lambda: app.charts_current)
        before = app.charts_panel.charts()
        seen: list[list[tuple[str, int, int]]] = []
        real = app.charts_panel.redraw

        def recording() -> None:
            seen.append([(c.metric.key, c.paints, len(c.lines)) for c in app.charts_panel.charts()])
            events.append("data drawn")
            real()

        app.charts_panel.redraw = recording  # type: ignore[method-assign]
        await pilot.press("v")
        picker = app.screen
        assert isinstance(picker, ChartPicker)
        picker.query_one("#metric-1", Select).value = "train/lr"
        await pilot.pause()
        events.append("apply")
        await pilot.click("#apply")
        await wait_until(pilot, lambda: not isinstance(app.screen, ChartPicker))
        await wait_until(pilot, lambda: app.charts_current and app.charts_panel.charts()[1].lines)
        first = next(s for s in seen if s[1][0] == "train/lr")  # the first draw of the new layout
        assert first[1][2] == 0, first  # the new chart had no data before it
        # the new metric's place was on screen (its placeholder painted) before any data were drawn into it;
        # whether the empty chart itself painted before the first draw depends on the machine's load
        clicked = events.index("apply")
        placeholder = events.index("placeholder painted train/lr", clicked)
        assert "data drawn" not in events[clicked:placeholder], events
        assert events.index("chart mounted train/lr", clicked) > placeholder, events
        after = app.charts_panel.charts()
        assert [c.metric.key for c in after] == ["loss", "train/lr", "knn", "rank"]
        assert all(after[i] is before[i] for i in (0, 2, 3))  # kept, not mounted again
        assert str(after[1].border_title) == "lr (train)"  # drawn: "drawing…" is gone
        mine = [e for e in events if e.endswith("train/lr")]
        assert mine[0] == "placeholder painted train/lr" and "chart mounted train/lr" in mine, events


async def test_a_new_layout_keeps_the_grid_in_its_order(suite_root, backend):
    """Charts kept, moved, dropped and added: the grid shows the layout's order, std view beside effective rank."""
    from simsiam_tui.ui.layout import ChartSlot

    app = make_app([suite_root], backend)
    async with app.run_test(size=(140, 44)) as pilot:
        await wait_until(pilot, loaded(app, 3))
        panel = app.charts_panel
        for metrics in (
            ["rank", "train/lr", "loss"],
            ["knn", "loss"],
            ["loss", "rank", "knn", "train/lr", "system/gpu_util_pct"],
            ["loss", "knn", "rank"],
        ):
            app.set_chart_slots([ChartSlot(m) for m in metrics])
            await wait_until(
                pilot, lambda m=metrics: [c.metric.key for c in panel.charts()] == m and app.charts_current
            )
            grid = panel.query_one("#chart-grid")
            shown = [
                [w.metric.key if hasattr(w, "metric") else w.id for w in cell.children] if cell.has_class("pair")
                else getattr(cell, "metric", None) and cell.metric.key or cell.id
                for cell in grid.children
            ]  # fmt: skip
            expected = [["rank", "quantiles"] if m == "rank" else m for m in metrics]
            assert shown == (expected if "rank" in metrics else [*expected, "quantiles"]), shown
            assert all(c.lines for c in panel.charts() if c.metric.key in ("loss", "train/lr")), metrics
