"""Fixtures for the app's tests: stop-grad suite run folders, a fake launcher/probe, and a wait helper."""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pytest

from simsiam_tui.store import RunPaths
from simsiam_tui.ui.actions import Backend, LaunchPlan
from tests.helpers import pilot_wait_until
from tests.ui.fixtures import T0, stop_grad_suite, write_run

CLOCK = T0 + 300.0  # the app's clock in tests: elapsed times never depend on today


@pytest.hookimpl(tryfirst=True)
def pytest_pyfunc_call(pyfuncitem: pytest.Function) -> bool | None:
    """Run `async def` tests on a fresh event loop (no async plugin needed)."""
    if inspect.iscoroutinefunction(pyfuncitem.obj):
        args = {name: pyfuncitem.funcargs[name] for name in pyfuncitem._fixtureinfo.argnames}
        asyncio.run(pyfuncitem.obj(**args))
        return True
    return None


class FakeBackend(Backend):
    """Records what the app asks the launcher to do; reports no local GPUs."""

    def __init__(self, gpus: list[dict[str, Any]] | None = None) -> None:
        self.calls: list[tuple[str, Any]] = []
        self._gpus = gpus or []

    def launch(self, plan: LaunchPlan, root: Path) -> list[RunPaths]:
        self.calls.append(("launch", plan))
        return []

    def stop(self, runs: Sequence[RunPaths]) -> str:
        self.calls.append(("stop", [r.run_id for r in runs]))
        return "signalled"

    def resume(self, runs: Sequence[RunPaths]) -> str:
        self.calls.append(("resume", [r.run_id for r in runs]))
        return "queued"

    def remove(self, runs: Sequence[RunPaths]) -> str:
        import shutil

        self.calls.append(("remove", [r.run_id for r in runs]))
        for r in runs:
            shutil.rmtree(r.dir)
        return "removed"

    def refresh(self, paths: RunPaths) -> None:
        pass

    def gpus(self) -> tuple[list[dict[str, Any]], str | None]:
        return list(self._gpus), None


@pytest.fixture(autouse=True)
def _quick_throttles(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    """Redraw throttles of 0.05 s instead of the app's 0.5 s (charts) and 0.3 s (after a key): the same code paths,
    less waiting. Tests of the throttles themselves are marked `real_timing` and keep the app's values."""
    if request.node.get_closest_marker("real_timing") is None:
        import simsiam_tui.ui.input_pace as input_pace
        import simsiam_tui.ui.live_charts as live_charts

        monkeypatch.setattr(live_charts, "REDRAW_MIN_S", 0.05)
        monkeypatch.setattr(input_pace, "INPUT_QUIET_S", 0.05)


@pytest.fixture
def suite_root(tmp_path: Path) -> Path:
    """A runs root with the stop-grad suite mid-way plus one finished simsiam run."""
    root = tmp_path / "runs"
    stop_grad_suite(root)
    write_run(root, "20260101-000002-simsiam-e5f6", "simsiam", 10.0, seed=3)
    return root


@pytest.fixture
def backend() -> FakeBackend:
    return FakeBackend()


def make_app(roots: list[Path], backend: Backend, **kwargs: Any) -> Any:
    """The app with a fast poller, a fixed clock and the fake backend."""
    from simsiam_tui.ui import SimsiamApp

    return SimsiamApp(roots, backend=backend, poll_interval=0.05, clock=lambda: CLOCK, **kwargs)


async def wait_until(pilot: Any, condition: Callable[[], bool], timeout: float = 30.0) -> None:
    """Let the app run until `condition()` holds, or fail after `timeout` seconds (tests.helpers)."""
    await pilot_wait_until(pilot, condition, timeout)


def loaded(app: Any, count: int) -> Callable[[], bool]:
    """True once `count` runs are read to the end and the charts show them."""

    def check() -> bool:
        models = app.catalog.models()
        return (
            len(models) >= count
            and all(m.caught_up and m.summary is not None for m in models)
            and app.table.row_count >= count
            and app.charts_current
        )

    return check
