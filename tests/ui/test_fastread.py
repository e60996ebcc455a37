"""Long runs are read whole in a worker process; off the charts they keep a thin history, on them every row."""

from __future__ import annotations

import time

from simsiam_tui.store import RunPaths, encode_event
from simsiam_tui.ui import fastread
from simsiam_tui.ui import model as model_module
from simsiam_tui.ui.model import THIN_ROWS, Catalog


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
