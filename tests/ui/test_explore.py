"""Exploring the charts with keys and the mouse: zoom, pan, cursor, log-y, chart picker, layout memory, std view."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from textual import events
from textual.widgets import Checkbox, Select

from simsiam_tui.store import read_events
from simsiam_tui.ui.layout import LAYOUT_FILE, ChartSlot, Layout, load_layout, save_layout
from simsiam_tui.ui.screens.chart_picker import ChartPicker
from simsiam_tui.ui.screens.export import ExportScreen
from simsiam_tui.ui.widgets.charts import MetricChart
from tests.report.conftest import add_group
from tests.ui.conftest import loaded, make_app, wait_until
from tests.ui.fixtures import SIMSIAM_ID as SIMSIAM
from tests.ui.fixtures import write_run


def x_limits(chart: MetricChart) -> tuple[float, float]:
    """The x range a chart shows: its own lines, clipped to the zoom (plus the one point kept each side)."""
    xs = [x for ln in chart.lines.values() for x in ln.x]
    return min(xs), max(xs)


def within(chart: MetricChart, lo: float, hi: float) -> bool:
    """Every line of the chart lies in [lo, hi] but for the one point kept on each side (lines reach the edges)."""
    return all(
        len({x for x in ln.x if x < lo}) <= 1 and len({x for x in ln.x if x > hi}) <= 1 for ln in chart.lines.values()
    )


async def test_zoom_pan_reset_keep_every_chart_aligned(suite_root, backend):
    app = make_app([suite_root], backend)
    async with app.run_test(size=(140, 44)) as pilot:
        await wait_until(pilot, loaded(app, 3))
        lo, hi = app.charts_panel.data_x_range()
        assert (lo, hi) == (5.0, 400.0)  # steps of the finished run
        await pilot.press("plus")
        await wait_until(pilot, lambda: app.x_range is not None and app.charts_current)
        zlo, zhi = app.x_range
        assert zhi - zlo == pytest.approx(0.6 * (hi - lo)) and (zlo + zhi) / 2 == pytest.approx((lo + hi) / 2)
        for chart in app.charts_panel.charts():  # every chart drew only the zoomed window
            assert within(chart, zlo, zhi), chart.metric.key
            assert x_limits(chart)[1] - x_limits(chart)[0] < 0.8 * (hi - lo)
        await pilot.press("greater_than_sign")
        assert app.x_range == pytest.approx((zlo + 0.25 * (zhi - zlo), zhi + 0.25 * (zhi - zlo)))
        await pilot.press("minus", "minus")
        assert app.x_range[1] - app.x_range[0] == pytest.approx(0.6 * 1.6 * 1.6 * (hi - lo))
        assert "zoom:" in str(app.charts_panel.legend.render())
        await pilot.press("0")
        assert app.x_range is None
        await wait_until(pilot, lambda: app.charts_current)
        assert x_limits(app.charts_panel.charts()[0]) == (5.0, 400.0)


@pytest.mark.slow
async def test_mouse_wheel_zoom_on_one_chart_moves_them_all(suite_root, backend):
    app = make_app([suite_root], backend)
    async with app.run_test(size=(140, 44)) as pilot:
        await wait_until(pilot, loaded(app, 3))
        loss = app.query_one("#chart-loss", MetricChart)
        region = loss.region
        sx, sy = region.x + region.width // 2, region.y + region.height // 2
        for _ in range(3):
            loss.post_message(
                events.MouseScrollDown(loss, sx - region.x, sy - region.y, 0, 1, 0, False, False, False, sx, sy)
            )
            await pilot.pause(0.05)
        await wait_until(pilot, lambda: app.x_range is not None and app.charts_current)
        lo, hi = app.x_range
        assert 5.0 < lo < hi < 400.0
        assert all(within(chart, lo, hi) for chart in app.charts_panel.charts())
        await pilot.click(loss)  # focus the chart, then its own `r` resets every chart
        await pilot.press("r")
        await wait_until(pilot, lambda: app.x_range is None)


@pytest.mark.slow
async def test_cursor_reads_every_runs_value_at_x(suite_root, backend):
    app = make_app([suite_root], backend)
    async with app.run_test(size=(140, 44)) as pilot:
        await wait_until(pilot, loaded(app, 3))
        await pilot.press("c")
        await wait_until(pilot, lambda: app.cursor_x is not None and app.charts_current)
        assert app.cursor_x == pytest.approx(202.5)
        await pilot.press("right_square_bracket", "right_square_bracket")
        x = 202.5 + 2 * 395 / 60
        assert app.cursor_x == pytest.approx(x)
        await wait_until(pilot, lambda: app.charts_current)
        text = str(app.charts_panel.readout.render())
        train = [e for e in read_events(suite_root / SIMSIAM / "events.jsonl") if e["kind"] == "train"]
        expected = [e["loss"] for e in train if e["step"] <= x][-1]  # the logged value, not a bucket mean
        assert f"{expected:.4g}" in text.split("\n")[1] and "cursor step" in text
        assert app.charts_panel.has_class("cursor")
        loss = app.query_one("#chart-loss", MetricChart)
        await pilot.click(loss, offset=(loss.margin_left + 2, 5))  # a click near the left edge moves it there
        await wait_until(pilot, lambda: app.cursor_x is not None and app.cursor_x < 40)
        await pilot.press("c")
        assert app.cursor_x is None and not app.charts_panel.has_class("cursor")


async def test_log_y_on_a_focused_chart_is_remembered(suite_root, backend):
    app = make_app([suite_root], backend)
    async with app.run_test(size=(140, 44)) as pilot:
        await wait_until(pilot, loaded(app, 3))
        rank = app.query_one("#chart-rank", MetricChart)
        await pilot.click(rank)
        await pilot.press("y")
        await wait_until(pilot, lambda: "(log)" in str(rank.border_title))
    saved = json.loads((suite_root / LAYOUT_FILE).read_text())
    assert {"metric": "rank", "log_y": True} in saved["charts"]


@pytest.mark.slow
async def test_chart_picker_puts_any_numeric_field_on_a_chart(suite_root, backend):
    app = make_app([suite_root], backend)
    async with app.run_test(size=(140, 44)) as pilot:
        await wait_until(pilot, loaded(app, 3))
        await pilot.press("v")
        picker = app.screen
        assert isinstance(picker, ChartPicker)
        values = [v for _, v in picker.options]
        for field in (
            "train/lr",
            "train/data_wait",
            "train/img_per_s",
            "system/gpu_util_pct",
            "system/gpu_mem_used_mb",
        ):
            assert field in values
        picker.query_one("#metric-1", Select).value = "train/lr"
        picker.query_one("#metric-4", Select).value = "system/gpu_util_pct"
        picker.query_one("#log-4", Checkbox).value = True
        await pilot.click("#apply")
        await wait_until(pilot, lambda: not isinstance(app.screen, ChartPicker))
        await wait_until(pilot, lambda: [c.metric.key for c in app.charts_panel.charts()][1] == "train/lr")
        await wait_until(
            pilot, lambda: app.charts_current and str(suite_root / SIMSIAM) in app.charts_panel.charts()[1].lines
        )
        keys = [c.metric.key for c in app.charts_panel.charts()]
        assert keys == ["loss", "train/lr", "knn", "rank", "system/gpu_util_pct"]
        lr = app.query_one("#chart-train-lr", MetricChart)
        train = [e for e in read_events(suite_root / SIMSIAM / "events.jsonl") if e["kind"] == "train"]
        ln = lr.lines[str(suite_root / SIMSIAM)]
        assert ln.x[-1] == train[-1]["step"] and ln.y[-1] == pytest.approx(train[-1]["lr"])  # newest point exact
        assert min(ln.y) == pytest.approx(min(e["lr"] for e in train))  # the envelope keeps the extremes
        assert app.query_one("#chart-system-gpu_util_pct", MetricChart).log_y
    layout, notice = load_layout(suite_root)  # remembered for the next start of the app
    assert notice is None and [s.metric for s in layout.charts] == keys and layout.charts[4].log_y


@pytest.mark.slow
async def test_layout_is_restored_at_the_next_start(suite_root, backend):
    save_layout(suite_root, Layout([ChartSlot("loss"), ChartSlot("eval/knn_top1", True)], "epoch", False))
    app = make_app([suite_root], backend)
    async with app.run_test(size=(140, 44)) as pilot:
        await wait_until(pilot, loaded(app, 3))
        assert [c.metric.key for c in app.charts_panel.charts()] == ["loss", "eval/knn_top1"]
        assert app.x_axis == "epoch" and app.smooth is False
        assert app.charts_panel.charts()[1].log_y
        await pilot.press("x")  # the x axis goes on to wall time, and that is saved too
    assert json.loads((suite_root / LAYOUT_FILE).read_text())["x_axis"] == "wall"


@pytest.mark.parametrize("text", ["{not json", '{"charts": [{"metric": "nope/zz"}]}', '{"charts": 3}'])
async def test_a_corrupt_layout_file_is_ignored_with_a_notice(suite_root, backend, text):
    (suite_root / LAYOUT_FILE).write_text(text)
    app = make_app([suite_root], backend)
    async with app.run_test(size=(140, 44)) as pilot:
        await wait_until(pilot, loaded(app, 3))
        assert [c.metric.key for c in app.charts_panel.charts()] == ["loss", "z_ratio", "knn", "rank"]
        assert "ignored" in app.layout_notice and LAYOUT_FILE in app.layout_notice  # shown as a notification


async def test_std_quantile_view_follows_the_cursor_run(suite_root, backend):
    app = make_app([suite_root], backend)
    async with app.run_test(size=(140, 44)) as pilot:
        await wait_until(pilot, loaded(app, 3))
        view = app.charts_panel.quantiles
        await wait_until(pilot, lambda: view.points > 0)
        first = view.run_label
        assert first == "simsiam" or first.startswith("simsiam")
        collapse = [e for e in read_events(suite_root / SIMSIAM / "events.jsonl") if e["kind"] == "collapse"]
        assert view.points == len(collapse)
        await pilot.press("down")  # no-stop-grad: its band falls toward zero
        await wait_until(pilot, lambda: view.run_label == "no-stop-grad" and view.points > 0)
        track = app.charts_panel.quantile_tracks[str(suite_root / "20260101-000001-no-stop-grad-c3d4")]
        _, q = track.bands("step")
        assert q[-1, 2] < 0.5 * q[0, 2]  # the median std dies
        assert "std quantiles of no-stop-grad" in str(view.border_title)


async def test_replicas_of_a_group_draw_as_mean_and_band(tmp_path, backend):
    root = tmp_path / "runs"
    seeds = [write_run(root, f"20260101-00000{i}-simsiam-s{i}", "simsiam", 3.0, seed=i) for i in range(3)]
    for paths in seeds:
        add_group(paths.dir, "simsiam-x3")
    app = make_app([root], backend)
    async with app.run_test(size=(140, 44)) as pilot:
        await wait_until(pilot, loaded(app, 3))
        loss = app.query_one("#chart-loss", MetricChart)
        assert len(loss.lines) == 1
        (ln,) = loss.lines.values()
        assert ln.members == 3 and ln.band_lo is not None and ln.band_hi is not None
        per_run = [[e["loss"] for e in read_events(p.events) if e["kind"] == "train"] for p in seeds]
        import numpy as np

        assert ln.at_y == pytest.approx(np.mean(per_run, axis=0).tolist())
        assert [h - m for h, m in zip(ln.band_hi, ln.at_y, strict=True)] == pytest.approx(
            np.std(per_run, axis=0).tolist()
        )
        assert "mean ± std of 3" in str(app.charts_panel.legend.render())


@pytest.mark.slow
async def test_export_menu_writes_a_figure(suite_root, backend, tmp_path):
    from PIL import Image

    app = make_app([suite_root], backend, export_dir=tmp_path / "out")
    (tmp_path / "out").mkdir()
    async with app.run_test(size=(140, 44)) as pilot:
        await wait_until(pilot, loaded(app, 3))
        await pilot.press("e")
        assert isinstance(app.screen, ExportScreen)
        await pilot.press("g")
        await wait_until(pilot, lambda: list((tmp_path / "out").glob("simsiam-figure-*.png")), timeout=60)
    (path,) = (tmp_path / "out").glob("*.png")
    with Image.open(path) as img:
        assert img.size[0] >= 800 and img.size[1] >= 300


def test_layout_file_round_trip_and_rejects(tmp_path: Path) -> None:
    layout = Layout([ChartSlot("train/lr", True)], "wall", False)
    assert save_layout(tmp_path, layout) is None
    assert load_layout(tmp_path) == (layout, None)
    assert not list(tmp_path.glob(".*.tmp"))  # written whole: no temp file left behind
    assert save_layout(tmp_path / "missing", layout) is None and not (tmp_path / "missing").exists()


@pytest.mark.slow
async def test_hostile_field_names_are_shown_as_text(tmp_path, backend):
    """A field named like markup, with spaces or odd characters, charts without crashing the app."""
    from simsiam_tui.store import encode_event

    root = tmp_path / "runs"
    paths = write_run(root, "20260101-000000-simsiam-a1b2", "simsiam", 1.0)
    with paths.events.open("a") as fh:
        for step in (41, 42):
            fh.write(encode_event("train", step, step / 40, {"[bold red]x[/]": 1.0 * step, "a b.c": 2.0}))
    app = make_app([root], backend)
    async with app.run_test(size=(140, 44)) as pilot:
        await wait_until(pilot, loaded(app, 1))
        await pilot.press("v")
        assert "train/[bold red]x[/]" in [v for _, v in app.screen.options]
        await pilot.press("escape")
        app.set_chart_slots([ChartSlot("train/[bold red]x[/]"), ChartSlot("train/a b.c", True)])
        await wait_until(pilot, lambda: len(app.charts_panel.charts()) == 2 and app.charts_current)
        await wait_until(pilot, lambda: bool(app.charts_panel.charts()[0].lines))
        assert "\\[bold red]x" in str(app.charts_panel.charts()[0].border_title)  # escaped: shown as typed
        assert app.is_running
