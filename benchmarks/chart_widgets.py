"""Chart widget choice: build time per chart of 16 overlaid runs at 160x48, textual-plot vs textual-plotext.

Each widget fills a 160x48 app (`App.run_test`). One build = set the 16 runs' lines through the library's public
API (raw envelope faint behind the smoothed line: 32 braille lines, as the app draws them) and composite a full
frame (`App.export_screenshot`, which renders every changed widget). The same screenshot of an unchanged frame
is timed too and subtracted, so the figure is the chart's own cost. Times are CPU seconds of this process
(`time.process_time`): on a shared, overloaded machine wall time mostly measures the other tenants. Rounds
alternate the two libraries; ratios are medians of per-round ratios.

    PYTHONPATH=$PWD python benchmarks/chart_widgets.py [--rounds 8]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
from collections.abc import Callable
from importlib.metadata import version

import numpy as np
from textual.app import App, ComposeResult
from textual.widget import Widget

RUNS, WIDTH, HEIGHT = 16, 160, 48
POINTS = 2 * WIDTH  # the app draws a min/max envelope: two points per column, plus an EMA per column


def lines(seed: int) -> list[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]]:
    """16 runs of loss-like curves: (raw x, raw y, smooth x, smooth y)."""
    rng = np.random.default_rng(seed)
    out = []
    for i in range(RUNS):
        x = np.linspace(0, 20_000, POINTS)
        y = -0.9 + 0.7 * np.exp(-x / (3000 + 300 * i)) + rng.normal(0, 0.02, POINTS)
        sx = x[1::2]
        sy = np.convolve(y, np.ones(8) / 8, mode="same")[1::2]
        out.append((x, y, sx, sy))
    return out


COLORS = [f"#{(37 * i) % 256:02x}{(91 * i + 80) % 256:02x}{(53 * i + 160) % 256:02x}" for i in range(RUNS)]


def plotext_draw(widget: Widget, data: list) -> None:
    """textual-plotext, public API: the widget's `plt`, then refresh() (render() builds the text)."""
    plt = widget.plt  # type: ignore[attr-defined]
    plt.clear_figure()
    plt.title("loss")
    for (x, y, sx, sy), color in zip(data, COLORS, strict=True):
        plt.plot(x.tolist(), y.tolist(), color=color, marker="braille")
        plt.plot(sx.tolist(), sy.tolist(), color=color, marker="braille")
    plt.hline(0.0)
    widget.refresh()


def textual_plot_draw(widget: Widget, data: list) -> None:
    """textual-plot, public API: clear(), plot() with braille (HiResMode.BRAILLE); it re-renders itself."""
    from textual_plot import HiResMode

    widget.clear()  # type: ignore[attr-defined]
    for (x, y, sx, sy), color in zip(data, COLORS, strict=True):
        widget.plot(x, y, line_style=f"{color} dim", hires_mode=HiResMode.BRAILLE)  # type: ignore[attr-defined]
        widget.plot(sx, sy, line_style=color, hires_mode=HiResMode.BRAILLE)  # type: ignore[attr-defined]


class OneChart(App[None]):
    """An app holding one chart that fills the screen."""

    def __init__(self, make: Callable[[], Widget]) -> None:
        super().__init__()
        self.make = make

    def compose(self) -> ComposeResult:
        widget = self.make()
        widget.styles.width = "1fr"
        widget.styles.height = "1fr"
        yield widget


async def measure(make: Callable[[], Widget], draw: Callable[[Widget, list], None], reps: int, seed: int) -> float:
    """Median seconds of one chart build (data set + frame composited) minus an unchanged frame."""
    app = OneChart(make)
    builds, idle = [], []
    async with app.run_test(size=(WIDTH, HEIGHT)) as pilot:
        widget = app.screen.children[0]
        draw(widget, lines(seed))
        await pilot.pause()
        app.export_screenshot()  # warm: first layout, canvas sizing
        for rep in range(reps):
            data = lines(seed + rep + 1)
            start = time.process_time()
            app.export_screenshot()
            idle.append(time.process_time() - start)
            start = time.process_time()
            draw(widget, data)
            app.export_screenshot()
            builds.append(time.process_time() - start)
            await pilot.pause()
    return max(0.0, statistics.median(builds) - statistics.median(idle))


async def main(rounds: int, reps: int) -> None:
    from textual_plot import PlotWidget
    from textual_plotext import PlotextPlot

    libs = {
        f"textual-plotext {version('textual-plotext')} (plotext {version('plotext')})": (PlotextPlot, plotext_draw),
        f"textual-plot {version('textual-plot')}": (PlotWidget, textual_plot_draw),
    }
    times: dict[str, list[float]] = {name: [] for name in libs}
    for r in range(rounds):
        order = list(libs.items()) if r % 2 == 0 else list(reversed(libs.items()))
        for name, (cls, draw) in order:
            times[name].append(await measure(cls, draw, reps, seed=r))
    print(
        f"CPU time per chart build, {RUNS} overlaid runs (32 braille lines, {POINTS} points each) at {WIDTH}x{HEIGHT}:"
    )
    for name, values in times.items():
        print(
            f"  {name:45s} median {1000 * statistics.median(values):7.1f} ms  (rounds: "
            + ", ".join(f"{1000 * v:.0f}" for v in values)
            + ")"
        )
    a, b = times.values()
    ratios = [x / y for x, y in zip(a, b, strict=True) if y > 0]
    print(f"  textual-plotext / textual-plot: {statistics.median(ratios):.2f}x (median of per-round ratios)")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--reps", type=int, default=5)
    args = parser.parse_args()
    asyncio.run(main(args.rounds, args.reps))
