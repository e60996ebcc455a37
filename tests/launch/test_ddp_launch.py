"""`launch --gpus-per-run N`: GPU slots for DDP runs, the torchrun command, and a 2-process CPU run end to end."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from simsiam_tui.launch import LaunchError
from simsiam_tui.launch.procs import worker_command
from simsiam_tui.launch.scheduler import occupancy, slot_gpus, worker_env
from simsiam_tui.launch.slots import Request, make_request, pick_slots
from tests.launch.conftest import TINY, events_of, run_cli, status_of, wait_until


def test_pick_slots_takes_n_least_used_gpus_or_waits() -> None:
    request = Request(gpus=[0, 1, 2, 3], per_gpu=1, gpus_per_run=2)
    assert pick_slots(request, {}) == (True, [0, 1])
    assert pick_slots(request, {0: 1, 2: 1}) == (True, [1, 3])
    assert pick_slots(request, {0: 1, 1: 1, 2: 1}) == (False, None)
    assert pick_slots(Request(gpus=[], per_gpu=2, gpus_per_run=2), {None: 1}) == (True, None)


def test_request_round_trip_and_errors(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("simsiam_tui.launch.slots.visible_gpus", lambda: [0, 1])
    request = make_request(None, None, gpus_per_run=2)
    assert request.to_dict()["gpus_per_run"] == 2 and Request.from_dict(request.to_dict()) == request
    assert "gpus_per_run" not in make_request(None, None).to_dict()
    with pytest.raises(LaunchError, match="needs 3 GPUs but only 2"):
        make_request(None, None, gpus_per_run=3)
    with pytest.raises(LaunchError, match="at least 1"):
        make_request(None, None, gpus_per_run=0)


def test_ddp_worker_runs_under_torchrun_with_its_gpus(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SIMSIAM_TUI_WORKER", raising=False)
    argv = worker_command(Path("/runs/r"), 2)
    # -P: nothing of the working folder on sys.path (the ranks get PYTHONSAFEPATH=1 from spawn.safe_env)
    assert argv[:6] == [sys.executable, "-P", "-m", "torch.distributed.run", "--standalone", "--nproc-per-node=2"]
    assert argv[6:] == ["-m", "simsiam_tui.train", "/runs/r"]
    assert worker_command(Path("/runs/r"))[1:] == ["-P", "-m", "simsiam_tui.train", "/runs/r"]
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    assert worker_env(Request(gpus=[0, 1], gpus_per_run=2), [0, 1])["CUDA_VISIBLE_DEVICES"] == "0,1"
    cpu = worker_env(Request(gpus=[], per_gpu=1, threads=4, gpus_per_run=2), None)
    assert cpu["CUDA_VISIBLE_DEVICES"] == "" and cpu["OMP_NUM_THREADS"] == "2"
    assert slot_gpus({"slot": [1, 3]}) == [1, 3] and slot_gpus({"slot": 2}) == [2] and slot_gpus({}) == []


def test_occupancy_counts_every_gpu_of_a_ddp_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from simsiam_tui.store import RunPaths

    paths = RunPaths(tmp_path / "r")
    monkeypatch.setattr("simsiam_tui.launch.scheduler.list_runs", lambda root: [paths])
    monkeypatch.setattr("simsiam_tui.launch.scheduler.refresh_state", lambda p: "running")
    monkeypatch.setattr("simsiam_tui.launch.scheduler.read_status", lambda p: {"slot": [0, 2], "host": None})
    assert occupancy(tmp_path) == {0: 1, 2: 1}


def test_launch_refuses_a_global_batch_that_does_not_split() -> None:
    result = run_cli("launch", "--preset", "simsiam", *TINY, "--set", "data.batch_size=63", "--gpus", "cpu",
                     "--gpus-per-run", "2", "--runs", "/nonexistent/never")  # fmt: skip
    assert result.returncode != 0
    assert "must divide by --gpus-per-run 2" in result.stdout + result.stderr


@pytest.mark.slow
def test_launch_gpus_per_run_2_on_cpu_stops_resumes_and_finishes(root: Path) -> None:
    """Through the CLI: a detached 2-rank gloo run, `runs stop` (SIGTERM to rank 0) mid-epoch, `runs resume`."""
    env = {"SIMSIAM_TUI_FAULT": "hold_at_step=4"}
    args = ["--preset", "simsiam", *TINY, "--set", "train.epochs=1", "--set", "monitor.log_every=1"]
    result = run_cli("launch", *args, "--gpus", "cpu", "--gpus-per-run", "2", "--runs", str(root), "--json", env=env)
    assert result.returncode == 0, result.stderr
    (run,) = json.loads(result.stdout)
    run_dir = Path(run["dir"])
    steps = lambda: [e["step"] for e in events_of(run_dir) if e["kind"] == "train"]  # noqa: E731
    wait_until(lambda: 4 in steps(), 120, "the DDP run to reach step 4")
    status = status_of(run_dir)
    assert status["world_size"] == 2 and len(status["rank_pids"]) == 2
    stop = run_cli("runs", "stop", run["id"], "--wait", "--runs", str(root), "--json")
    assert stop.returncode == 0, stop.stderr
    assert status_of(run_dir)["state"] == "stopped"
    resume = run_cli("runs", "resume", run["id"], "--runs", str(root), "--json")
    assert resume.returncode == 0, resume.stderr
    wait_until(lambda: status_of(run_dir).get("state") in ("finished", "failed", "lost"), 180, "the resumed run")
    assert status_of(run_dir)["state"] == "finished", status_of(run_dir)
    assert steps() == sorted(set(steps())) and steps()[:4] == [1, 2, 3, 4]
    starts = [e for e in events_of(run_dir) if e["kind"] == "start"]
    assert [s["world_size"] for s in starts] == [2, 2] and starts[1]["resumed_from_step"] == 4
    assert "torch.distributed.run" in (run_dir / "worker.log").read_text()
