"""Long runs are read whole in a worker process; off the charts they keep a thin history, on them every row."""

from __future__ import annotations

import time

from simsiam_tui.store import RunPaths, encode_event
from simsiam_tui.ui import fastread
from simsiam_tui.ui import model as model_module
from simsiam_tui.ui.model import THIN_ROWS, Catalog
from simsiam_tui.ui.series import METRICS, Line, line


def _poll_until(run, done, deadline_s: float = 60.0) -> None:
    deadline = time.monotonic() + deadline_s
    while not done():
        assert time.monotonic() < deadline, "the run never got there"
        run.poll(budget=256 << 10)
        time.sleep(0.01)


def test_thin_off_the_charts_full_on_them(tmp_path, monkeypatch):
    monkeypatch.setattr(model_module, "PREVIEW_MIN_BYTES", 10_000)
    paths = RunPaths(tmp_path / "runs" / "20260101-000000-simsiam-0000")
    paths.dir.mkdir(parents=True)
    n = 20_000
    lines = [encode_event("start", 0, 0.0, {"total_steps": n}, now=1e9)]
    lines += [
        encode_event("train", s, s / 100, {"loss": -s / n, "z_std": 0.04, "z_std_ref": 0.044}, now=1e9 + s)
        for s in range(1, n + 1)
    ]
    paths.events.write_text("".join(lines))
    paths.config.write_text('{"variant": "simsiam", "train": {"epochs": 200}}')
    catalog = Catalog([tmp_path / "runs"])
    (key,) = catalog.scan()
    run = catalog.get(key)
    try:
        run.poll()
        assert run.reading_elsewhere  # the whole-file read went to a worker process
        _poll_until(run, lambda: run.caught_up)
        train = run.history.series["train"]
        assert run.thinned and not run.full_resolution and len(train) <= THIN_ROWS + 1
        assert list(train.column("step")[:3]) == [1.0, 2.0, 3.0]  # the first rows and the last stay exact
        assert train.column("step")[-1] == n and run.summary.loss == -1.0

        catalog.set_charted([key])  # drawn: read whole again, every row
        _poll_until(run, lambda: run.full_resolution)
        assert list(run.history.series["train"].column("step")) == [float(s) for s in range(1, n + 1)]

        with paths.events.open("a") as fh:  # a live run goes on appending
            fh.write(encode_event("train", n + 1, (n + 1) / 100, {"loss": -1.5}, now=2e9))
        _poll_until(run, lambda: run.summary.loss == -1.5)
        assert len(run.history.series["train"]) == n + 1

        catalog.set_charted([])  # off the charts again: thin in place, the newest row kept
        run.poll()
        assert run.thinned and len(run.history.series["train"]) <= THIN_ROWS + 1
        assert run.history.series["train"].column("step")[-1] == n + 1
    finally:
        fastread.shutdown_pool()


def _long_run(tmp_path, monkeypatch, n: int = 20_000):
    monkeypatch.setattr(model_module, "PREVIEW_MIN_BYTES", 10_000)
    paths = RunPaths(tmp_path / "runs" / "20260101-000000-simsiam-0000")
    paths.dir.mkdir(parents=True)
    lines = [encode_event("start", 0, 0.0, {"total_steps": n, "num_classes": 10}, now=1e9)]
    for s in range(1, n + 1):
        lines.append(encode_event("train", s, s / 100, {"loss": -s / n, "z_std": 0.04, "z_std_ref": 0.044}, now=1e9 + s))
        if s % 100 == 0:
            lines.append(encode_event("eval", s, s / 100, {"knn_top1": s / n}, now=1e9 + s))
    paths.events.write_text("".join(lines))
    paths.config.write_text('{"variant": "simsiam", "train": {"epochs": 200}}')
    return paths


def _open(tmp_path):
    catalog = Catalog([tmp_path / "runs"])
    (key,) = catalog.scan()
    return catalog, key, catalog.get(key)


def _drawn(run) -> list:
    """What the app draws for a run: every default chart's line at 120 columns, smoothed."""
    return [vars(line(run.shown, metric, "step", 120, True) or Line([], [])) for metric in METRICS]


def test_the_app_shows_the_same_with_and_without_the_cache(tmp_path, monkeypatch):
    paths = _long_run(tmp_path, monkeypatch)
    try:
        catalog, key, cold = _open(tmp_path)  # no cache yet: the reader process writes it
        _poll_until(cold, lambda: cold.caught_up)
        assert (paths.dir / "events.cache").is_file()
        cold_thin = cold.summary
        catalog.set_charted([key])
        _poll_until(cold, lambda: cold.full_resolution)  # read whole: the cache is written whole

        catalog, key, warm = _open(tmp_path)  # the app opened again, the run on the charts
        catalog.set_charted([key])
        warm.poll()
        assert not warm.reading_elsewhere  # every row from the cache, no whole-file read
        _poll_until(warm, lambda: warm.full_resolution)
        assert _drawn(warm) == _drawn(cold)
        for kind, series in cold.history.series.items():
            assert warm.history.series[kind].columns == series.columns, kind
        assert warm.summary == cold.summary

        catalog.set_charted([])  # off the charts: thin, and the cache with it
        warm.poll()
        catalog, key, thin = _open(tmp_path)
        thin.poll()
        assert thin.thinned and not thin.reading_elsewhere
        _poll_until(thin, lambda: thin.caught_up)
        for field in ("loss", "z_ratio", "knn", "step", "epoch", "verdict", "state", "problem", "eta_s"):
            assert getattr(thin.summary, field) == getattr(cold_thin, field), field
    finally:
        fastread.shutdown_pool()


def test_a_hostile_cache_changes_nothing_the_app_shows(tmp_path, monkeypatch):
    paths = _long_run(tmp_path, monkeypatch, n=5_000)
    try:
        _, _, clean = _open(tmp_path)
        _poll_until(clean, lambda: clean.caught_up)
        want = clean.summary
        for blob in (b"\x80\x04garbage", (paths.dir / "events.cache").read_bytes()[:-100], b""):
            (paths.dir / "events.cache").write_bytes(blob)
            _, _, run = _open(tmp_path)
            _poll_until(run, lambda run=run: run.caught_up)
            assert run.summary == want and run.tail.bad_lines == 0
    finally:
        fastread.shutdown_pool()
