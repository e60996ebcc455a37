"""Typing in the launch dialog: per-key latency, beside what one config check costs (which used to run per key).

    python benchmarks/launch_typing.py [--keys 40]

Opens the app headless on recorded stop-grad runs, opens the launch dialog, and types into the --set field
through Textual's Pilot: each key's time is from the press until the app is idle again with the character in
the field, beside the same typing into a lone Input of an empty app (Pilot's own cost per key). The config
check (check_launch: two presets resolved from TOML), which used to run on the UI thread at every key, now
runs on a thread once typing pauses; it is timed on its own. On a machine shared with other work every
figure is longer; the ratio dialog / empty app is what to compare.
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

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from simsiam_tui.ui.actions import LaunchRequest, check_launch  # noqa: E402
from tests.ui.conftest import FakeBackend, loaded, make_app, wait_until  # noqa: E402
from tests.ui.fixtures import stop_grad_suite  # noqa: E402


async def measure(keys: int) -> list[float]:
    """Per-key seconds of typing `keys` characters into the dialog's --set field."""
    from textual.widgets import Input

    from simsiam_tui.ui.screens.launch import LaunchScreen

    with tempfile.TemporaryDirectory() as tmp:
        stop_grad_suite(Path(tmp) / "runs")
        app = make_app([Path(tmp) / "runs"], FakeBackend())
        async with app.run_test(size=(120, 40)) as pilot:
            await wait_until(pilot, loaded(app, 2))
            await pilot.press("l")
            await wait_until(pilot, lambda: isinstance(app.screen, LaunchScreen))
            field = app.screen.query_one("#overrides", Input)
            field.focus()
            text = ("train.epochs=5 optim.lr=0.05 " * 4)[:keys]
            times = []
            for ch in text:
                t0 = time.perf_counter()
                await pilot.press(ch if ch != " " else "space")
                times.append(time.perf_counter() - t0)
            assert field.value == text, field.value
    return times


async def measure_bare(keys: int) -> list[float]:
    """The same typing into a lone Input in an empty app: Pilot's own cost per key on this machine."""
    from textual.app import App, ComposeResult
    from textual.widgets import Input

    class Bare(App[None]):
        def compose(self) -> ComposeResult:
            yield Input()

    app = Bare()
    async with app.run_test(size=(120, 40)) as pilot:
        app.query_one(Input).focus()
        times = []
        for ch in ("train.epochs=5 optim.lr=0.05 " * 4)[:keys]:
            t0 = time.perf_counter()
            await pilot.press(ch if ch != " " else "space")
            times.append(time.perf_counter() - t0)
    return times


def main() -> int:
    """Print per-key latency and the config check's cost."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keys", type=int, default=40)
    args = parser.parse_args()
    times = asyncio.run(measure(args.keys))
    bare = asyncio.run(measure_bare(args.keys))
    req = LaunchRequest(suite="stop-grad", scale="digits", overrides="train.epochs=5 optim.lr=0.05")
    checks = []
    for _ in range(5):
        t0 = time.perf_counter()
        check_launch(req)
        checks.append(time.perf_counter() - t0)
    key_ms, worst_ms = statistics.median(times) * 1e3, max(times) * 1e3
    check_ms = statistics.median(checks) * 1e3
    print(f"{os.cpu_count()} CPU cores, load average {os.getloadavg()[0]:.1f}")
    print(f"per key: median {key_ms:.1f} ms, worst {worst_ms:.1f} ms over {len(times)} keys")
    print(f"one config check (ran on the UI thread per key before): median {check_ms:.1f} ms")
    bare_ms = statistics.median(bare) * 1e3
    print(f"per key in a lone Input of an empty app (Pilot's own cost): median {bare_ms:.1f} ms")
    print(f"ratio dialog / empty app per key: {key_ms / bare_ms:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
