"""Launcher pieces in-process: slots, --gpus parsing, lost detection, locks; no worker starts here."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from simsiam_tui.config import resolve_config
from simsiam_tui.launch import LaunchError, diagnose, parse_gpus, refresh_state, runner_alive
from simsiam_tui.launch.scheduler import RUNNER_LOCK, ensure_runner, occupancy, root_lock
from simsiam_tui.launch.slots import Request, make_request, pick_slot
from simsiam_tui.store import create_run, read_status, update_status


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def _run(root: Path, **status: object):
    paths = create_run(root, resolve_config("simsiam", "digits", []))
    update_status(paths.status, host=socket.gethostname(), **status)
    return paths


def test_parse_gpus() -> None:
    assert parse_gpus(None) is None
    assert parse_gpus("0,2,2") == [0, 2]
    assert parse_gpus("cpu") == []
    assert parse_gpus("all") is None
    with pytest.raises(LaunchError, match="not a list of GPU indices"):
        parse_gpus("0,x")


def test_requests_without_gpus(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("simsiam_tui.launch.slots.gpu_snapshot", lambda: [])
    monkeypatch.delenv("CUDA_VISIBLE_DEVICES", raising=False)
    request = make_request(None, 3)
    assert request.on_cpu and request.per_gpu == 3 and request.threads >= 1
    with pytest.raises(LaunchError, match="none is visible"):
        make_request([0], None)
    with pytest.raises(LaunchError, match="at least 1"):
        make_request(None, 0)


def test_requests_with_gpus(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("simsiam_tui.launch.slots.gpu_snapshot", lambda: [{"index": i} for i in range(4)])
    monkeypatch.delenv("CUDA_VISIBLE_DEVICES", raising=False)
    assert make_request(None, None).gpus == [0, 1, 2, 3]
    assert make_request([0, 2], 2).to_dict() == {"gpus": [0, 2], "per_gpu": 2, "threads": None}
    assert make_request(None, None, device="cpu").on_cpu
    with pytest.raises(LaunchError, match="GPU 7 is not visible"):
        make_request([7], None)
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "1,3")
    assert make_request(None, None).gpus == [1, 3]


def test_pick_slot_fills_least_used_gpu_up_to_per_gpu() -> None:
    request = Request(gpus=[0, 1], per_gpu=2)
    assert pick_slot(request, {}) == (True, 0)
    assert pick_slot(request, {0: 1}) == (True, 1)
    assert pick_slot(request, {0: 2, 1: 1}) == (True, 1)
    assert pick_slot(request, {0: 2, 1: 2})[0] is False
    cpu = Request(gpus=[], per_gpu=2)
    assert pick_slot(cpu, {None: 1}) == (True, None)
    assert pick_slot(cpu, {None: 2})[0] is False
    assert Request.from_dict({"gpus": [1], "per_gpu": 2}).gpus == [1]
    assert Request.from_dict(None).on_cpu or Request.from_dict(None).gpus


def test_dead_worker_without_end_is_lost(tmp_path: Path) -> None:
    paths = _run(tmp_path, state="running", pid=_dead_pid(), heartbeat=time.time())
    state, reason = diagnose(paths)
    assert state == "lost" and "gone" in reason
    assert refresh_state(paths) == "lost"
    assert read_status(paths.status)["state"] == "lost"


def test_dead_worker_with_end_event_takes_its_state(tmp_path: Path) -> None:
    paths = _run(tmp_path, state="running", pid=_dead_pid(), heartbeat=time.time())
    paths.events.write_text(
        json.dumps({"v": 1, "kind": "start", "time": 1, "step": 0, "epoch": 0})
        + "\n"
        + json.dumps({"v": 1, "kind": "end", "time": 2, "step": 9, "epoch": 1, "state": "finished", "reason": "done"})
        + "\n"
    )
    assert refresh_state(paths) == "finished"


def test_worker_dead_while_starting_is_failed(tmp_path: Path) -> None:
    paths = _run(tmp_path, state="starting", pid=_dead_pid(), heartbeat=time.time())
    paths.log.write_text("--- header\nImportError: boom\n")
    state, reason = diagnose(paths)
    assert state == "failed" and "boom" in reason


def test_live_pid_is_running_unless_heartbeat_is_stale(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    paths = _run(tmp_path, state="running", pid=os.getpid(), heartbeat=time.time())
    assert refresh_state(paths) == "running"
    assert occupancy(tmp_path) == {None: 1}
    update_status(paths.status, heartbeat=time.time() - 1000)
    monkeypatch.setenv("SIMSIAM_TUI_STALE_S", "60")
    state, reason = diagnose(paths)
    assert state == "lost" and "no heartbeat" in reason


def test_reused_pid_is_not_the_worker(tmp_path: Path) -> None:
    paths = _run(
        tmp_path, state="running", pid=os.getpid(), heartbeat=time.time(), proc={"pid": os.getpid(), "create_time": 1.0}
    )
    assert diagnose(paths)[0] == "lost"


def test_other_host_is_left_alone(tmp_path: Path) -> None:
    paths = _run(tmp_path, state="running", pid=_dead_pid(), heartbeat=time.time())
    update_status(paths.status, host="some-other-node")
    assert refresh_state(paths) == "running"


def test_runner_lock_and_empty_queue(tmp_path: Path) -> None:
    assert not runner_alive(tmp_path)
    assert ensure_runner(tmp_path) is False  # nothing queued: no runner
    with root_lock(tmp_path, RUNNER_LOCK):
        assert runner_alive(tmp_path)


def test_worker_gone_after_a_stop_request_is_stopped(tmp_path: Path) -> None:
    paths = _run(tmp_path, state="starting", pid=_dead_pid(), heartbeat=time.time(), stop_requested=time.time())
    assert refresh_state(paths) == "stopped"


def test_slurm_runs_are_left_to_slurm(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from simsiam_tui.launch import scheduler, state

    monkeypatch.setattr(state, "_slurm_cache", {})
    jobs = {"11": "PENDING", "12": "RUNNING", "13": "COMPLETED", "14": "NODE_FAIL"}
    monkeypatch.setattr("simsiam_tui.launch.slurm.slurm_job_state", lambda job: jobs.get(str(job)))
    pending = _run(tmp_path, state="queued", slurm_job_id="11", request={"gpus": [], "per_gpu": 4})
    assert scheduler.schedule(tmp_path) == [] and read_status(pending.status)["state"] == "queued"
    assert scheduler.queued_runs(tmp_path) == []  # no local runner waits for a Slurm job
    requeued = _run(tmp_path, state="running", pid=_dead_pid(), heartbeat=time.time(), slurm_job_id="12")
    assert refresh_state(requeued) == "running"
    assert occupancy(tmp_path) == {}  # Slurm jobs take no local slot
    done = _run(tmp_path, state="running", pid=_dead_pid(), heartbeat=time.time(), slurm_job_id="13")
    assert refresh_state(done) == "lost"
    remote = _run(tmp_path, state="running", pid=1234, heartbeat=time.time(), slurm_job_id="14")
    update_status(remote.status, host="node-7")
    state_, reason = diagnose(remote)
    assert state_ == "lost" and "NODE_FAIL" in reason
