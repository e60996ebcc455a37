"""A `simsiam_tui/__init__.py` planted in the runs root never runs (issue 20: "Code runs").

Workers and the queue runner must start from a working folder no other user can write, with an isolated
interpreter: then nothing in a runs root is ever on sys.path, whatever the caller's working folder. The stand-in
worker imports simsiam_tui with `python -c`, which puts its working folder first on sys.path as `-m` does; the
slow case uses the real worker (`python -m simsiam_tui.train`) on the queue runner's path.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.faults.hostile import cli_env, kill_processes_naming, plant_package, run_cli, stand_in_worker
from tests.launch.conftest import TINY, events_of, kill_everything, status_of, wait_until


@pytest.fixture
def planted(tmp_path: Path) -> Iterator[tuple[Path, Path]]:
    """(runs root holding a planted simsiam_tui package, the marker it would write); workers killed at teardown."""
    root, marker = tmp_path / "runs", tmp_path / "planted-package-ran"
    root.mkdir()
    plant_package(root, marker)
    (tmp_path / "elsewhere").mkdir()
    yield root, marker
    kill_processes_naming(root)
    kill_everything(root)


def _launch_two_and_queue(root: Path, marker: Path, cwd: Path, env: dict[str, str], extra: list[str],
                          started: object, timeout: float) -> None:  # fmt: skip
    """Launch two runs on one CPU slot (the second waits for the queue runner), free the slot, wait for both."""
    runs_arg = "." if cwd == root else str(root)
    out = run_cli("launch", "--preset", "simsiam", "--preset", "simsiam", *extra, "--gpus", "cpu", "--per-gpu", "1",
                  "--runs", runs_arg, "--json", cwd=cwd, env=env)  # fmt: skip
    assert out.returncode == 0, out.stderr
    first, second = (Path(r["dir"]) for r in json.loads(out.stdout))
    assert callable(started)
    wait_until(lambda: started(first) or marker.exists(), timeout, "the first worker to start")
    assert not marker.exists(), f"the planted package ran: {marker.read_text()}"
    stop = run_cli("runs", "stop", first.name, "--force", "--runs", str(root), cwd=cwd, env=env)
    assert stop.returncode == 0, stop.stderr
    wait_until(lambda: started(second) or marker.exists(), timeout, "the queue runner to start the second run")
    assert not marker.exists(), f"the planted package ran: {marker.read_text()}"
    run_cli("runs", "stop", second.name, "--force", "--runs", str(root), cwd=cwd, env=env)


@pytest.mark.parametrize("where", ["cwd=runs root", "cwd=elsewhere"])
def test_a_planted_package_never_runs_stand_in_worker(planted: tuple[Path, Path], where: str) -> None:
    root, marker = planted
    cwd = root if where == "cwd=runs root" else root.parent / "elsewhere"
    env = cli_env(SIMSIAM_TUI_WORKER=stand_in_worker(importing=True))
    _launch_two_and_queue(
        root, marker, cwd, env, ["--scale", "digits"], lambda d: (d / "stand-in.started").exists(), 30
    )


@pytest.mark.slow
def test_a_planted_package_never_runs_real_worker(planted: tuple[Path, Path]) -> None:
    """`python -m simsiam_tui.train` as the launcher and the queue runner start it, from the runs root."""
    root, marker = planted

    def started(run: Path) -> bool:
        return any(e.get("kind") == "start" for e in events_of(run)) or status_of(run).get("state") == "failed"

    _launch_two_and_queue(root, marker, root, cli_env(), [*TINY, "--set", "train.epochs=1"], started, 120)
