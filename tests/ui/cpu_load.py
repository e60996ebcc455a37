"""A parallel CPU load for the UI benchmarks: N processes spinning in a loop while the app is measured."""

from __future__ import annotations

import math
import multiprocessing
from collections.abc import Iterator
from contextlib import contextmanager


def _spin() -> None:
    while True:
        pass


@contextmanager
def cpu_load(processes: int) -> Iterator[None]:
    """Run `processes` busy loops (0: none) for the duration of the block; they are killed at its end."""
    ctx = multiprocessing.get_context("spawn")  # no copy of the app's state, threads or event loop
    spinners = [ctx.Process(target=_spin, name=f"busy-{i}", daemon=True) for i in range(processes)]
    for proc in spinners:
        proc.start()
    try:
        yield
    finally:
        for proc in spinners:
            proc.kill()
        for proc in spinners:
            proc.join()


def percentile(values: list[float], q: float) -> float:
    """The q-th percentile (0-100) of `values`, nearest rank."""
    ordered = sorted(values)
    return ordered[min(len(ordered), max(1, math.ceil(q / 100 * len(ordered)))) - 1]
