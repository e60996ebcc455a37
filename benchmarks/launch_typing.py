"""Typing in the launch dialog: key press to the field marked as being checked, painted; and to the check's answer.

    python benchmarks/launch_typing.py [--keys 40] [--load N]

Opens the app headless on recorded stop-grad runs, opens the launch dialog, and types into the --set field.
Each key is sent as the terminal sends it (a Key event posted to the app) and timed to the first frame painted
after the field shows the character and is marked as being checked (`-checking`, the summary line saying
"checking --set…"), which is the feedback issue 22 asks for within 100 ms; then, before the next key, to the
check's answer on screen (debounced by DEBOUNCE_S, run on a thread). The config check itself (check_launch:
two presets resolved from TOML) is timed on its own, and the same typing into a lone Input of an empty app is
the floor (Textual's own cost per key on this machine). --load N runs N busy-loop processes meanwhile (issue 22
measures at load 8 on 2 cores); they are killed at the end. It prints figures; it asserts nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from simsiam_tui.ui import SimsiamApp  # noqa: E402
from simsiam_tui.ui.actions import LaunchForm, check_launch  # noqa: E402
from simsiam_tui.ui.screens.launch import DEBOUNCE_S  # noqa: E402
from tests.ui.conftest import FakeBackend, loaded, wait_until  # noqa: E402
from tests.ui.cpu_load import cpu_load, percentile  # noqa: E402
from tests.ui.fixtures import stop_grad_suite  # noqa: E402

TEXT = "train.epochs=5 optim.lr=0.05 "


def key_event(ch: str) -> Any:
    """The Key event a terminal sends for this character."""
    from textual import events

    return events.Key("space" if ch == " " else ch, ch)


async def painted(app: Any) -> None:
    """Return once the screen has been refreshed (the frame with what changed so far is out)."""
    done = asyncio.Event()
    app.call_after_refresh(done.set)
    await done.wait()


async def measure(keys: int) -> tuple[list[float], list[float]]:
    """Per key: seconds from the press to the field marked as being checked (painted), and to the check's answer."""
    from textual.widgets import Input

    from simsiam_tui.ui.screens.launch import LaunchScreen

    with tempfile.TemporaryDirectory() as tmp:
        stop_grad_suite(Path(tmp) / "runs")
        app = SimsiamApp([Path(tmp) / "runs"], backend=FakeBackend())  # the app's own poll interval, not the tests'
        async with app.run_test(size=(120, 40)) as pilot:
            await wait_until(pilot, loaded(app, 2))
            await pilot.press("l")
            await wait_until(pilot, lambda: isinstance(app.screen, LaunchScreen))
            screen = app.screen
            await wait_until(pilot, lambda: screen.validations > 0 and screen.checked == screen.request())
            field = screen.query_one("#overrides", Input)
            field.focus()
            await pilot.pause()
            text = (TEXT * (1 + keys // len(TEXT)))[:keys]
            marked, answered = [], []
            for i, ch in enumerate(text):
                t0 = time.perf_counter()
                app.post_message(key_event(ch))
                while not (field.value == text[: i + 1] and field.has_class("-checking")):
                    await asyncio.sleep(0.0005)
                await painted(app)
                marked.append(time.perf_counter() - t0)
                while field.has_class("-checking"):  # the check's answer, before the next key
                    await asyncio.sleep(0.002)
                await painted(app)
                answered.append(time.perf_counter() - t0)
            assert field.value == text, field.value
    return marked, answered


async def measure_bare(keys: int) -> list[float]:
    """The same keys into a lone Input of an empty app, to the frame with the character: the floor."""
    from textual.app import App, ComposeResult
    from textual.widgets import Input

    class Bare(App[None]):
        def compose(self) -> ComposeResult:
            yield Input()

    app = Bare()
    async with app.run_test(size=(120, 40)) as pilot:
        field = app.query_one(Input)
        field.focus()
        await pilot.pause()
        text = (TEXT * (1 + keys // len(TEXT)))[:keys]
        times = []
        for i, ch in enumerate(text):
            t0 = time.perf_counter()
            app.post_message(key_event(ch))
            while field.value != text[: i + 1]:
                await asyncio.sleep(0.0005)
            await painted(app)
            times.append(time.perf_counter() - t0)
    return times


def ms(values: list[float], q: float) -> float:
    return percentile(values, q) * 1e3


def main() -> int:
    """Print the key-to-feedback latency (p50, p95) and the config check's cost."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keys", type=int, default=40)
    parser.add_argument("--load", type=int, default=0, help="busy-loop processes running meanwhile")
    args = parser.parse_args()
    with cpu_load(args.load):
        time.sleep(0.5 if args.load else 0.0)  # the spinners are up
        load_avg = os.getloadavg()[0]
        marked, answered = asyncio.run(measure(args.keys))
        bare = asyncio.run(measure_bare(args.keys))
        req = LaunchForm(suite="stop-grad", scale="digits", overrides="train.epochs=5 optim.lr=0.05")
        checks = []
        for _ in range(5):
            t0 = time.perf_counter()
            check_launch(req)
            checks.append(time.perf_counter() - t0)
    print(f"{os.cpu_count()} CPU cores, {args.load} busy-loop processes, load average {load_avg:.1f} at the start")
    print(
        f"key -> field marked as being checked, painted: p50 {ms(marked, 50):.1f} ms, p95 {ms(marked, 95):.1f} ms,"
        f" max {max(marked) * 1e3:.1f} ms over {len(marked)} keys"
    )
    print(
        f"key -> the check's answer painted (debounce {DEBOUNCE_S * 1e3:.0f} ms included):"
        f" p50 {ms(answered, 50):.1f} ms, p95 {ms(answered, 95):.1f} ms"
    )
    print(f"one config check (on a thread): median {statistics.median(checks) * 1e3:.1f} ms")
    print(
        f"key -> character painted in a lone Input of an empty app: p50 {ms(bare, 50):.1f} ms, p95 {ms(bare, 95):.1f} ms"
    )
    print(f"ratio dialog / empty app, p50: {ms(marked, 50) / ms(bare, 50):.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
