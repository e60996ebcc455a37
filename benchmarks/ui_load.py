"""UI load benchmark: N runs x 100k train events; first frame, full read, peak RSS, keys and loop lag under live appends.

    .venv/bin/python benchmarks/ui_load.py [--runs 16] [--events 100000] [--rate 100] [--seconds 10] [--gap 2000] [--dir DIR]
                                           [--picks 10] [--load N]

The app opens the runs twice in one run of this script: cold (no events.cache yet: `cold_*` figures), then,
after every run appended `--gap` more events, again (each run's cache plus its new tail); the live phase
runs in the second. With --dir, delete the runs' events.cache files first to measure a cold open.

Targets (issue 16, at --runs 64): first frame under 2 s, every run read (charted runs at full resolution,
the others thin) under 10 s, peak RSS under 500 MB (the app's process; its reader processes are printed
beside it), key latency p50 under 50 ms and event-loop lag p95 under 50 ms while every run appends 100
events/s. Also the decoders' MB/s on one of the generated files, measured in the same run (the machine
is shared: compare ratios). Not a timed test: it prints its figures.

The chart picker (issue 22: feedback within 100 ms at load 8 on 2 cores): `--picks` times, the picker is opened,
chart 2 set to another metric and Apply pressed (enter on the button); printed are p50 and p95 of the time from
that key to the first paint of the new chart's place (its title, "drawing…") with the dialog gone, and to the frame
with the new chart's data. --load N runs N busy-loop processes for the whole measurement (killed at the
end); the first open of the runs, in its own process, is then slower too.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import multiprocessing
import os
import resource
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from simsiam_tui.store import write_status  # noqa: E402
from tests.ui.cpu_load import cpu_load, percentile  # noqa: E402

LINE = (
    '{{"v":1,"kind":"train","time":{t:.3f},"step":{s},"epoch":{e:.5f},"loss":{loss:.6f},"lr":0.05,'
    '"z_std":{z:.6f},"z_std_ref":0.0220970869,"img_per_s":{ips:.1f},"data_wait":0.0123}}\n'
)


def make_runs(root: Path, runs: int, events: int) -> None:
    """Write `runs` run directories of `events` train events each (plus a start and periodic collapse/eval)."""
    for r in range(runs):
        d = root / f"20260101-{r:06d}-bench-{r:04x}"
        d.mkdir(parents=True)
        variant = "simsiam" if r % 2 == 0 else "no-stop-grad"
        (d / "config.json").write_text(
            json.dumps({"variant": variant, "scale": "cifar10", "data": {"name": "cifar10"}, "train": {"epochs": 800}})
        )
        write_status(
            d / "status.json", {"state": "running", "name": f"{variant}-{r}", "host": "elsewhere", "gpus": str(r % 8)}
        )
        t0 = 1_767_000_000.0
        start = {"v": 1, "kind": "start", "time": t0, "step": 0, "epoch": 0.0, "total_steps": events * 80}
        parts = [json.dumps(start) + "\n"]
        for i in range(events):
            s = (i + 1) * 10
            f = i / events
            loss = (-0.9 + 0.7 * math.exp(-5 * f)) if r % 2 == 0 else (-1.0 + 0.5 * math.exp(-50 * f))
            parts.append(
                LINE.format(
                    t=t0 + s * 0.1,
                    s=s,
                    e=s / 98,
                    loss=loss + 0.01 * math.sin(i),
                    z=0.02 * (1 - 0.5 * f * (r % 2)),
                    ips=2400 + (i % 50),
                )
            )
            if i % 50 == 49:
                rank = 400 - 300 * f * (r % 2)
                parts.append(
                    json.dumps(
                        {
                            "v": 1,
                            "kind": "collapse",
                            "time": t0 + s * 0.1,
                            "step": s,
                            "epoch": s / 98,
                            "effective_rank": rank,
                        }
                    )
                    + "\n"
                )
            if i % 1000 == 999:
                knn = 0.1 + 0.8 * f * (1 - r % 2)
                parts.append(
                    json.dumps(
                        {"v": 1, "kind": "eval", "time": t0 + s * 0.1, "step": s, "epoch": s / 98, "knn_top1": knn}
                    )
                    + "\n"
                )
        (d / "events.jsonl").write_text("".join(parts))


def appender(root: Path, rate: int, go: Any, stop: Any, counter: Any) -> None:
    """Append `rate` train events per second to every run, in 10 batches a second (its own process, as workers are)."""
    go.wait()
    dirs = sorted(p for p in root.iterdir() if p.is_dir())
    step = {d: 10_000_000 for d in dirs}
    per_tick = max(1, rate // 10)
    while not stop.is_set():
        tick = time.monotonic()
        for d in dirs:
            lines = []
            for _ in range(per_tick):
                step[d] += 10
                s = step[d]
                lines.append(LINE.format(t=time.time(), s=s, e=s / 98, loss=-0.9, z=0.02, ips=2400.0))
            with (d / "events.jsonl").open("a") as fh:
                fh.write("".join(lines))
            with counter.get_lock():
                counter.value += per_tick
        stop.wait(max(0.0, 0.1 - (time.monotonic() - tick)))


async def key_to_frame(app, key: str) -> tuple[float, float]:  # type: ignore[no-untyped-def]
    """Seconds from a key press (as the terminal sends it) to the first frame painted with its effect (the table's
    cursor moved), through public APIs: App.simulate_key, then call_after_refresh once the cursor moved.
    Also the UI thread's CPU seconds in that time: on a shared, overloaded machine wall time is mostly waiting."""
    table = app.table
    before = table.cursor_row
    painted = asyncio.Event()
    cpu = time.thread_time()
    t = time.perf_counter()
    app.simulate_key(key)
    while table.cursor_row == before and time.perf_counter() - t < 5:
        await asyncio.sleep(0.001)
    app.call_after_refresh(painted.set)
    await painted.wait()
    return time.perf_counter() - t, time.thread_time() - cpu


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def readers_rss_mb() -> float:
    """Peak RSS (VmHWM) of the largest of the app's reader processes still alive (0 where /proc is missing)."""
    from simsiam_tui.ui import fastread

    peak = 0.0
    for pid in getattr(fastread, "worker_pids", list)():  # (the app before issue 16's cache had no such list)
        try:
            status = Path(f"/proc/{pid}/status").read_text()
        except OSError:
            continue
        for line in status.splitlines():
            if line.startswith("VmHWM:"):
                peak = max(peak, int(line.split()[1]) / 1024)
    return peak


def decoder_speeds(path: Path) -> dict[str, float]:
    """MB/s of each candidate decoder into the app's columns on one events file (same machine load for all)."""
    try:
        import orjson
    except ImportError:  # not a dependency of the app: that row is left out
        orjson = None

    from simsiam_tui.store import RunHistory
    from simsiam_tui.store.decode import bulk_apply, decode_chunk

    data = path.read_bytes()
    lines = [line for line in data.split(b"\n") if line.strip()]

    def old_json() -> None:  # the app's previous reader: one json.loads of the joined chunk, dict columns
        bulk_apply(RunHistory(), json.loads(b"[" + b",".join(lines) + b"]"))

    def with_orjson() -> None:
        bulk_apply(RunHistory(), [orjson.loads(line) for line in lines])

    def with_msgspec() -> None:
        bulk_apply(RunHistory(), decode_chunk(data))

    out = {}
    candidates = [("json (previous)", old_json), ("orjson", with_orjson), ("msgspec typed", with_msgspec)]
    for name, fn in candidates if orjson is not None else [candidates[0], candidates[2]]:
        best = math.inf
        for _ in range(2):
            t = time.perf_counter()
            fn()
            best = min(best, time.perf_counter() - t)
        out[name] = len(data) / 2**20 / best
    return out


def append_gap(root: Path, events: int) -> None:
    """Append `events` train events to every run: what runs wrote while the app was closed (the cache's tail)."""
    for d in sorted(p for p in root.iterdir() if p.is_dir()):
        t = time.time()
        lines = [
            LINE.format(t=t, s=20_000_000 + 10 * i, e=i / 98, loss=-0.95, z=0.02, ips=2400.0) for i in range(events)
        ]
        with (d / "events.jsonl").open("a") as fh:
            fh.write("".join(lines))


def make_app(root: Path):  # type: ignore[no-untyped-def]
    from simsiam_tui.ui import SimsiamApp
    from simsiam_tui.ui.actions import Backend

    class NoProbe(Backend):
        def gpus(self):  # the benchmark measures the reader and the drawing, not NVML
            return [], None

    return SimsiamApp([root], backend=NoProbe())


async def load(app, pilot, runs: int, t0: float, out: dict[str, float], prefix: str) -> None:  # type: ignore[no-untyped-def]
    """Wait for the first frame, then for every run read (charted runs at full resolution); record the times."""

    drawn_at: dict[int, int] = {}  # each chart's draw count once runs were on the charts

    def first_frame() -> bool:
        """Every run has its row, and every chart on screen has painted runs (later frames bring more of them)."""
        models = app.catalog.models()
        if not (len(models) == runs and all(m.summary is not None for m in models) and app.table.row_count == runs):
            return False
        if not app.charts_panel.chart_keys or app.charts_panel.changing:
            return False
        charts = [c for c in app.charts_panel.charts() if c.region.area > 0]
        return bool(charts) and all(c.rendered >= drawn_at.setdefault(id(c), c.drawn) for c in charts)

    while not first_frame():
        await pilot.pause(0.01)
    await pilot.pause(0)  # let the compositor paint that frame
    out[prefix + "first_frame_s"] = time.perf_counter() - t0
    out[prefix + "rss_first_frame_mb"] = rss_mb()
    while not all(m.caught_up for m in app.catalog.models()):
        await pilot.pause(0.05)
    out[prefix + "all_read_s"] = time.perf_counter() - t0
    charted = set(app.charts_panel.chart_keys)
    while not all(getattr(m, "full_resolution", True) for m in app.catalog.models() if m.key in charted):
        await pilot.pause(0.05)
    out[prefix + "all_read_charted_full_s"] = time.perf_counter() - t0
    out[prefix + "charted_runs"] = len(charted)
    out[prefix + "thin_runs"] = sum(getattr(m, "thinned", False) for m in app.catalog.models())
    out[prefix + "rss_loaded_mb"] = rss_mb()


def cold_open(root: Path, runs: int, size: tuple[int, int], queue: Any) -> None:
    """Open the app once on runs without caches; put its first frame and read times on `queue`."""
    out: dict[str, float] = {}

    async def run() -> None:
        app = make_app(root)
        t0 = time.perf_counter()
        async with app.run_test(size=size) as pilot:
            await load(app, pilot, runs, t0, out, "cold_")

    asyncio.run(run())
    queue.put(out)


async def bench(
    root: Path, runs: int, rate: int, seconds: float, size: tuple[int, int], gap: int, picks: int
) -> dict[str, float]:
    from simsiam_tui.ui.widgets.charts import MetricChart

    renders: list[float] = []
    original_render = MetricChart.render

    def timed_render(self):  # textual-plot draws a chart in render(), on the UI thread, when its data changed
        fresh = self.pending
        t = time.perf_counter()
        out = original_render(self)
        if fresh:
            renders.append(time.perf_counter() - t)
        return out

    MetricChart.render = timed_render  # type: ignore[method-assign]
    # 1. cold: the first time the app opens these runs (no events.cache yet; the app writes them), in a process
    # of its own, as the second open is: the first app's leftovers would slow the second one down
    ctx = multiprocessing.get_context("spawn")
    queue = ctx.SimpleQueue()
    cold = ctx.Process(target=cold_open, args=(root, runs, size, queue))
    cold.start()
    out: dict[str, float] = queue.get()
    cold.join()
    # the runs went on while the app was closed: the cache covers all but this tail
    append_gap(root, gap)
    out["tail_events_per_run"] = gap

    # the appender process starts before the app: inside it, Textual's stderr has no descriptor to hand on
    go, stop, counter = ctx.Event(), ctx.Event(), ctx.Value("q", 0)
    writer = ctx.Process(target=appender, args=(root, rate, go, stop, counter), daemon=True)
    writer.start()

    # 2. cached: open the app again on the same runs
    app = make_app(root)
    redraws: list[float] = []
    original_redraw = app.charts_panel.redraw

    def timed_redraw() -> None:
        t = time.perf_counter()
        original_redraw()
        redraws.append(time.perf_counter() - t)

    app.charts_panel.redraw = timed_redraw  # type: ignore[method-assign]
    t0 = time.perf_counter()
    async with app.run_test(size=size) as pilot:
        await load(app, pilot, runs, t0, out, "")

        # live: every run appends `rate` events/s; measure event-loop lag, key latency and redraw cost
        renders.clear()
        redraws.clear()
        go.set()
        lags: list[float] = []
        keys: list[float] = []
        moved: list[float] = []
        frames: list[tuple[float, float]] = []  # key -> its effect painted (issue 15: < 50 ms median with 16 live runs)
        cpu0, wall0 = time.process_time(), time.perf_counter()
        end = time.monotonic() + seconds
        next_key = time.monotonic() + 1
        while time.monotonic() < end:
            t = time.perf_counter()
            await asyncio.sleep(0.05)
            lags.append(time.perf_counter() - t - 0.05)
            if time.monotonic() >= next_key:
                next_key += 1
                # down, down, up, up, ...: the cursor stays near the top however long this runs
                key = "down" if len(keys) % 2 == 0 else "up"
                t = time.perf_counter()
                row = app.table.cursor_row
                press = asyncio.ensure_future(pilot.press(key))  # returns once every widget is idle
                while app.table.cursor_row == row and not press.done():
                    await asyncio.sleep(0.001)
                moved.append(time.perf_counter() - t)  # the key's own effect: the cursor moved
                await press
                keys.append(time.perf_counter() - t)
                frames.append(await key_to_frame(app, key))
        out["app_cpu_per_s_live"] = (time.process_time() - cpu0) / (time.perf_counter() - wall0)
        stop.set()
        writer.join()
        behind = time.perf_counter()
        target = {m.key: m.paths.events.stat().st_size for m in app.catalog.models()}
        while any(m.tail.offset < target[m.key] for m in app.catalog.models()):
            await pilot.pause(0.02)
        out["catch_up_after_appends_s"] = time.perf_counter() - behind
        out["appended_events"] = counter.value
        out["redraws"] = len(redraws)
        out["redraw_p50_ms"] = 1000 * statistics.median(redraws) if redraws else float("nan")
        out["redraw_max_ms"] = 1000 * max(redraws) if redraws else float("nan")
        out["chart_build_p50_ms"] = 1000 * statistics.median(renders) if renders else float("nan")
        out["chart_build_p95_ms"] = 1000 * sorted(renders)[int(0.95 * (len(renders) - 1))] if renders else float("nan")
        out["loop_lag_p50_ms"] = 1000 * statistics.median(lags)
        out["loop_lag_p95_ms"] = 1000 * sorted(lags)[int(0.95 * (len(lags) - 1))]
        # Pilot.press returns once the process looks idle (textual's wait_for_idle compares CPU and wall time),
        # which the 64 writers' tailing never lets it be for long: not a key latency (key_to_frame is)
        out["pilot_press_until_idle_p50_ms"] = 1000 * statistics.median(keys) if keys else float("nan")
        out["pilot_press_until_idle_max_ms"] = 1000 * max(keys) if keys else float("nan")
        out["key_to_cursor_p50_ms"] = 1000 * statistics.median(moved) if moved else float("nan")
        out["key_to_frame_p50_ms"] = 1000 * statistics.median(f[0] for f in frames) if frames else float("nan")
        out["key_to_frame_max_ms"] = 1000 * max(f[0] for f in frames) if frames else float("nan")
        out["key_to_frame_cpu_p50_ms"] = 1000 * statistics.median(f[1] for f in frames) if frames else float("nan")
        out["rss_peak_mb"] = rss_mb()
        out["reader_process_rss_peak_mb"] = readers_rss_mb()
        layout_s, data_s = await pick_charts(app, pilot, picks)
        if layout_s:
            out["picker_key_to_layout_p50_ms"] = 1000 * percentile(layout_s, 50)
            out["picker_key_to_layout_p95_ms"] = 1000 * percentile(layout_s, 95)
            out["picker_key_to_data_p50_ms"] = 1000 * percentile(data_s, 50)
            out["picker_key_to_data_p95_ms"] = 1000 * percentile(data_s, 95)
    return out


async def painted(app) -> None:  # type: ignore[no-untyped-def]
    """Return once the screen has been refreshed: the frame with what changed so far is out."""
    done = asyncio.Event()
    app.call_after_refresh(done.set)
    await done.wait()


async def pick_charts(app, pilot, picks: int) -> tuple[list[float], list[float]]:  # type: ignore[no-untyped-def]
    """Apply a new chart layout `picks` times from the picker (enter on Apply): seconds from that key to the first
    paint of the new chart's place (its placeholder or the chart) with the dialog gone, and to its data painted."""
    from textual import events
    from textual.widgets import Button, Select

    from simsiam_tui.ui.screens.chart_picker import ChartPicker
    from simsiam_tui.ui.widgets.charts import ChartPlaceholder, MetricChart

    paints: list[tuple[float, str]] = []  # (when, metric) of each paint of a chart's place on the main screen

    def spy(cls):  # type: ignore[no-untyped-def]
        real = cls.render

        def render(self):  # type: ignore[no-untyped-def]
            if not isinstance(self.app.screen, ChartPicker):  # painted behind the dialog is not on screen
                metric = self.chart.metric if isinstance(self, ChartPlaceholder) else self.metric
                paints.append((time.perf_counter(), metric.key))
            return real(self)

        cls.render = render
        return real

    originals = {cls: spy(cls) for cls in (ChartPlaceholder, MetricChart)}
    layout_s: list[float] = []
    data_s: list[float] = []
    try:
        for i in range(picks):
            target = "train/lr" if i % 2 == 0 else "train/img_per_s"
            await pilot.press("v")
            while not isinstance(app.screen, ChartPicker):
                await pilot.pause(0.01)
            picker = app.screen
            picker.query_one("#metric-1", Select).value = target
            picker.query_one("#apply", Button).focus()
            await pilot.pause(0.2)
            paints.clear()
            t = time.perf_counter()
            app.post_message(events.Key("enter", "\r"))
            while not any(metric == target for _, metric in paints):
                await asyncio.sleep(0.0005)
            layout_s.append(next(at for at, metric in paints if metric == target) - t)
            chart = app.charts_panel.charts()[1]
            while not (chart.lines and not chart.pending):
                await asyncio.sleep(0.001)
            await painted(app)
            data_s.append(time.perf_counter() - t)
    finally:
        for cls, real in originals.items():
            cls.render = real
    return layout_s, data_s


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=16)
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--rate", type=int, default=100, help="events per second per run while live")
    parser.add_argument("--seconds", type=float, default=10.0, help="how long the live phase lasts")
    parser.add_argument("--size", default="160x50", help="terminal size WxH")
    parser.add_argument("--gap", type=int, default=2000, help="events appended to each run between the two opens")
    parser.add_argument("--dir", help="keep the generated runs here (default: a temp folder, removed after)")
    parser.add_argument("--picks", type=int, default=10, help="layouts applied from the chart picker")
    parser.add_argument("--load", type=int, default=0, help="busy-loop processes running during the measurement")
    args = parser.parse_args()
    root = Path(args.dir) if args.dir else Path(tempfile.mkdtemp(prefix="simsiam-ui-bench-"))
    try:
        if not any(root.glob("*/events.jsonl")):
            t = time.perf_counter()
            make_runs(root, args.runs, args.events)
            size = sum(p.stat().st_size for p in root.glob("*/events.jsonl")) / 2**20
            print(
                f"generated {args.runs} runs x {args.events} train events ({size:.0f} MB) in {time.perf_counter() - t:.1f}s"
            )
        w, h = (int(v) for v in args.size.split("x"))
        with cpu_load(args.load):
            result = asyncio.run(bench(root, args.runs, args.rate, args.seconds, (w, h), args.gap, args.picks))
        speeds = decoder_speeds(next(root.glob("*/events.jsonl")))
    finally:
        if not args.dir:
            shutil.rmtree(root, ignore_errors=True)
    print(f"{args.load} busy-loop processes ran beside the app on {os.cpu_count()} CPU cores")
    width = max(len(k) for k in result)
    for name, value in result.items():
        print(f"{name:<{width}}  {value:10.1f}")
    for name, speed in speeds.items():
        print(f"decoder {name:<16} {speed:6.1f} MB/s  ({speed / speeds['json (previous)']:.1f}x the previous reader)")
    for what in ("first_frame_s", "all_read_charted_full_s"):
        print(f"cold / cached {what}: {result['cold_' + what] / result[what]:.1f}x")
    checks = {
        "first frame < 2 s (cold, cached)": (result["cold_first_frame_s"] < 2.0, result["first_frame_s"] < 2.0),
        "every run read < 10 s (cold, cached)": (
            result["cold_all_read_charted_full_s"] < 10.0,
            result["all_read_charted_full_s"] < 10.0,
        ),
        "peak RSS < 500 MB": (result["rss_peak_mb"] < 500,),
        "key to frame p50 < 50 ms": (result["key_to_frame_p50_ms"] < 50,),
        "loop lag p95 < 50 ms": (result["loop_lag_p95_ms"] < 50,),
        "picker key to new layout p95 < 100 ms": (result.get("picker_key_to_layout_p95_ms", 0.0) < 100,),
    }
    verdicts = {k: "/".join("PASS" if ok else "FAIL" for ok in oks) for k, oks in checks.items()}
    print("targets: " + "; ".join(f"{k}: {v}" for k, v in verdicts.items()))


if __name__ == "__main__":
    main()
