"""A runs folder given relative (`--runs rel`, `$SIMSIAM_TUI_RUNS=rel`) works from any cwd: launch, queue, stop, resume."""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from simsiam_tui.launch.scheduler import RUNNER_LOG, root_lock_path
from tests.launch.conftest import CLI, TINY, events_of, kill_everything, status_of, wait_until

pytestmark = pytest.mark.slow

LIVE = ("queued", "starting", "running")


def cli_in(cwd: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    """`simsiam-tui ARGS` run from `cwd`, with no SIMSIAM_TUI_* variable unless `env` sets one."""
    full = {k: v for k, v in os.environ.items() if not k.startswith("SIMSIAM_TUI_")}
    full.setdefault("OMP_NUM_THREADS", "1")
    full.update(env or {})
    return subprocess.run([*CLI, *args], cwd=cwd, capture_output=True, text=True, env=full, timeout=120)


def states(cwd: Path, *args: str, env: dict[str, str] | None = None) -> dict[str, str]:
    out = cli_in(cwd, "runs", "ls", "--json", *args, env=env)
    assert out.returncode == 0, out.stderr
    return {row["id"]: row["state"] for row in json.loads(out.stdout)}


@pytest.fixture
def work(tmp_path: Path) -> Iterator[Path]:
    """tmp/work is where commands start; tmp/elsewhere another cwd; every runs root under tmp is cleaned up."""
    (tmp_path / "work").mkdir()
    (tmp_path / "elsewhere").mkdir()
    yield tmp_path / "work"
    for root in (tmp_path / "work" / "rel", tmp_path / "work" / "envrel"):
        kill_everything(root)


def _absolute_everywhere(run_dir: Path) -> None:
    """What the launcher wrote down names the run by its absolute path."""
    header = (run_dir / "worker.log").read_text().splitlines()[0]
    assert f" {run_dir}" in header and header.endswith(str(run_dir)), header
    for value in status_of(run_dir).values():
        if isinstance(value, str) and "/" in value:
            assert value.startswith("/"), value


def test_relative_runs_option_launch_and_queue(work: Path) -> None:
    """`--runs rel` with one CPU slot: the first run starts at once, the queue runner starts the second."""
    out = cli_in(
        work, "launch", "--preset", "simsiam", "--preset", "no-predictor", *TINY, "--set", "train.epochs=1",
        "--per-gpu", "1", "--runs", "rel", "--json",
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    launched = json.loads(out.stdout)
    assert [r["state"] for r in launched].count("queued") == 1
    assert all(r["dir"] == str(work.resolve() / "rel" / r["id"]) for r in launched)
    ended = wait_until(
        lambda: (s := states(work, "--runs", "rel")) and all(v not in LIVE for v in s.values()) and s, 240, "runs to end"
    )
    assert set(ended.values()) == {"finished"}, ended
    for r in launched:
        _absolute_everywhere(Path(r["dir"]))
    queue_log = root_lock_path((work / "rel").resolve(), RUNNER_LOG).read_text()
    assert f"simsiam_tui.launch.queue {work.resolve() / 'rel'}" in queue_log


def test_relative_env_root_stop_and_resume_from_elsewhere(work: Path) -> None:
    """`$SIMSIAM_TUI_RUNS=envrel`; stopped and resumed from another cwd through `--runs ../work/envrel`."""
    env = {"SIMSIAM_TUI_RUNS": "envrel"}
    out = cli_in(
        work, "launch", "--preset", "simsiam", *TINY, "--set", "train.epochs=2", "--json",
        env={**env, "SIMSIAM_TUI_FAULT": "hold_after_epoch=1"},
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    (run,) = json.loads(out.stdout)
    run_dir = Path(run["dir"])
    assert run_dir == work.resolve() / "envrel" / run["id"]
    wait_until(lambda: any(e["kind"] == "checkpoint" for e in events_of(run_dir)), 120, "the first checkpoint")
    elsewhere = work.parent / "elsewhere"
    stop = cli_in(elsewhere, "runs", "stop", run["id"], "--wait", "--runs", "../work/envrel", "--json")
    assert stop.returncode == 0, stop.stderr
    assert json.loads(stop.stdout)[0]["state"] == "stopped"
    resume = cli_in(elsewhere, "runs", "resume", run["id"], "--runs", "../work/envrel")
    assert resume.returncode == 0, resume.stderr
    ended = wait_until(
        lambda: (s := states(work, env=env))[run["id"]] not in LIVE and s, 120, "the resumed run to end"
    )
    assert ended[run["id"]] == "finished", (work / "envrel" / run["id"] / "worker.log").read_text()
    starts = [e for e in events_of(run_dir) if e["kind"] == "start"]
    assert starts[-1]["resumed_from_step"] > 0
    _absolute_everywhere(run_dir)
