"""Drawing helpers and fast reading: min/max downsampling, EMA, x-axes, sampled previews of long files."""

from __future__ import annotations

import numpy as np

from simsiam_tui.store import EventTail, RunHistory, RunPaths, encode_event, read_history
from simsiam_tui.ui.fastread import parse_lines, preview_events
from simsiam_tui.ui.model import RunModel
from simsiam_tui.ui.series import METRICS, downsample, ema, extract, line
from tests.ui.fixtures import write_run


def test_downsample_keeps_extremes_per_bucket():
    x = np.arange(10_000, dtype=float)
    y = np.sin(x / 50)
    y[5_000] = 9.0  # one spike survives downsampling
    first, last, lo, hi, mean = downsample(x, y, 100)
    assert len(last) == 100 and hi.max() == 9.0 and lo.min() >= -1.0
    assert first[0] == 0 and last[-1] == 9_999
    small = downsample(x[:50], y[:50], 100)
    assert len(small[0]) == 50


def test_ema_debiased_and_flat_on_constant():
    assert np.allclose(ema(np.full(20, 3.0), 0.3), 3.0)
    out = ema(np.array([0.0, 10.0]), 0.5)
    assert out[0] == 0.0 and 0 < out[1] < 10


def test_extract_ratio_and_axes(tmp_path):
    paths = write_run(tmp_path, "r", "no-stop-grad", 5.0)
    history = read_history(paths.events)
    z = next(m for m in METRICS if m.key == "z_ratio")
    x, y = extract(history, z, "epoch")
    assert x.max() <= 5 and 0.2 < y[-1] < 0.4
    wx, _ = extract(history, z, "wall")
    assert wx[0] > 0 and wx[-1] < 5  # minutes since start
    drawn = line(history, z, "step", 20, smooth=True)
    assert len(drawn.x) == 41 and drawn.smooth_y is not None  # min and max per bucket, then the newest point


def test_parse_lines_counts_garbage():
    tail = EventTail("events.jsonl")
    good = encode_event("train", 1, 0.1, {"loss": -0.5}).encode()
    events = parse_lines(good + b"junk\n" + good + b'{"no": "kind"}\n', tail)
    assert len(events) == 2 and tail.bad_lines == 2


def test_preview_of_a_long_file_then_full_read(tmp_path, monkeypatch):
    import simsiam_tui.ui.fastread as fastread
    import simsiam_tui.ui.model as model

    monkeypatch.setattr(model, "PREVIEW_MIN_BYTES", 10_000)
    paths = RunPaths(tmp_path / "run")
    paths.dir.mkdir()
    lines = [
        encode_event("train", s, s / 100, {"loss": -s / 20000, "z_std": 0.04, "z_std_ref": 0.044}, now=1e9 + s)
        for s in range(20_000)
    ]
    paths.events.write_text("".join(lines))
    paths.config.write_text('{"variant": "simsiam", "train": {"epochs": 200}}')
    events, end = preview_events(paths.events, paths.events.stat().st_size)
    assert 300 < len(events) < 20_000 and end == paths.events.stat().st_size
    run = RunModel(paths, tmp_path)
    run.wanted_full = True  # on the charts: every row kept (tests/ui/test_fastread.py: off them)
    run.poll(budget=64 << 10)
    assert run.preview is not None and not run.caught_up
    assert run.summary.loss == -19_999 / 20000  # the last value is exact from the first pass
    assert run.summary.loading
    while not run.caught_up:
        run.poll(budget=256 << 10)
    assert run.preview is None and len(run.history.series["train"]) == 20_000
    assert not run.summary.loading
    assert fastread.PREVIEW_BLOCKS > 0


def test_resume_shows_no_step_twice(tmp_path):
    paths = RunPaths(tmp_path / "run")
    paths.dir.mkdir()
    text = "".join(encode_event("train", s, s / 10, {"loss": 1.0}) for s in range(0, 50, 5))
    text += encode_event("start", 20, 2.0, {"resumed_from_step": 20})
    text += "".join(encode_event("train", s, s / 10, {"loss": 2.0}) for s in range(25, 40, 5))
    paths.events.write_text(text)
    paths.config.write_text('{"variant": "simsiam"}')
    run = RunModel(paths, tmp_path)
    run.poll()
    steps = list(run.history.series["train"].column("step"))
    assert steps == sorted(set(steps)) and steps[-1] == 35
    assert isinstance(run.history, RunHistory)


def test_clip_keeps_one_point_beyond_each_edge() -> None:
    import numpy as np

    from simsiam_tui.ui.series import clip

    x = np.arange(0.0, 100.0, 10.0)
    cx, cy = clip(x, x * 2, (25.0, 55.0))
    assert cx.tolist() == [20.0, 30.0, 40.0, 50.0, 60.0] and cy.tolist() == [40.0, 60.0, 80.0, 100.0, 120.0]
    assert clip(x, x, None)[0].tolist() == x.tolist()


def test_metric_for_builtin_and_any_field() -> None:
    import pytest

    from simsiam_tui.ui.series import metric_for

    assert metric_for("z_ratio").divide_by == "z_std_ref"
    lr = metric_for("train/lr")
    assert (lr.kind, lr.column, lr.slug) == ("train", "lr", "train-lr")
    for bad in ("lr", "train/step", "nope/x", "train/"):
        with pytest.raises(ValueError):
            metric_for(bad)


def test_slug_of_a_hostile_field_name_is_a_valid_widget_id() -> None:
    from textual.widget import Widget

    from simsiam_tui.ui.series import metric_for

    for name in ("train/a b", "eval/ünï", "system/x.y;rm -rf", "train/1st"):
        Widget(id=f"chart-{metric_for(name).slug}")  # raises BadIdentifier for an invalid id
