"""The launcher's public operations: launch, stop, resume and remove runs (the CLI and the app call these)."""

from __future__ import annotations

import contextlib
import shutil
import signal
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from simsiam_tui.launch.actor import acting_on
from simsiam_tui.launch.errors import LaunchError
from simsiam_tui.launch.labels import run_labels
from simsiam_tui.launch.procs import (
    hostname,
    is_alive,
    is_run_worker,
    kill_worker,
    recorded_create_time,
    signal_process,
)
from simsiam_tui.launch.request import LaunchPlan, place
from simsiam_tui.launch.scheduler import root_lock, submit
from simsiam_tui.launch.slots import Request, make_request
from simsiam_tui.launch.state import refresh_state
from simsiam_tui.store import (
    RESUMABLE_STATES,
    RunPaths,
    check_name,
    create_run,
    read_events,
    read_status,
    resolve_path,
    runs_root,
    update_status,
)
from simsiam_tui.store.schema import LIVE_STATES, LOST, QUEUED, STOPPED, WORKER_STATES


@dataclass(frozen=True)
class Action:
    """What an operation did to one run, in words (for the CLI and the app's notifications)."""

    run_id: str
    action: str
    state: str

    def to_dict(self) -> dict[str, str]:
        return {"id": self.run_id, "action": self.action, "state": self.state}


def _root(root: str | Path) -> Path:
    path = runs_root(root)
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise LaunchError(f"cannot create runs folder '{path}': {exc.strerror}") from None
    return path


def launch_runs(
    configs: Sequence[Any],
    root: str | Path,
    gpus: list[int] | None = None,
    per_gpu: int | None = None,
    name: str | None = None,
    gpus_per_run: int = 1,
) -> list[RunPaths]:
    """Create one run per config and start each as a detached worker where a slot is free; queue the rest.

    gpus: allowed GPU indices (None: every visible GPU; []: the CPU). per_gpu: runs sharing a GPU, or, on the
    CPU, runs at once on this machine (default max(2, cores // 4)). gpus_per_run > 1: each run is a DDP run
    of that many torchrun processes, one GPU each (gloo processes on the CPU); data.batch_size stays the
    global batch. Returns at once; a detached queue runner starts queued runs later, even after the caller exits.
    """
    if name is not None:
        check_name(name)
    return _create_and_submit(configs, place(configs, gpus, per_gpu, gpus_per_run), run_labels(configs, name), root)


def start_plan(plan: LaunchPlan, root: str | Path) -> list[RunPaths]:
    """Create and start (or queue) the runs of a checked launch request under `root`."""
    return _create_and_submit(plan.configs, plan.slots, plan.labels, root)


def _create_and_submit(
    configs: Sequence[Any], requests: Sequence[Request], labels: Sequence[str], root: str | Path
) -> list[RunPaths]:
    """One run folder per config, all or none, marked queued with its slot request; then a scheduling pass."""
    if not configs:
        raise LaunchError("nothing to launch: give at least one preset or a suite")
    path = _root(root)
    created: list[RunPaths] = []
    with root_lock(path):  # created and marked queued before any scheduling pass sees half of them
        try:
            for cfg, request, label in zip(configs, requests, labels, strict=True):
                paths = create_run(path, cfg, label)
                update_status(paths.status, request=request.to_dict(), queued_at=time.time())
                created.append(paths)
        except OSError as exc:
            for paths in created:  # all or nothing
                shutil.rmtree(paths.dir, ignore_errors=True)
            raise LaunchError(f"cannot create a run in '{path}': {exc.strerror}") from None
    submit(path)
    return created


def stop_runs(runs: Sequence[RunPaths], force: bool = False) -> list[Action]:
    """SIGTERM each live worker (it checkpoints and ends `stopped`); force: SIGKILL its process group at once.

    A queued run is marked `stopped` without a process; a Slurm job is scancelled (its worker gets SIGTERM).
    Other runs on another host raise LaunchError.
    """
    actions: list[Action] = []
    for paths in runs:
        with acting_on(paths):
            actions.append(_stop_one(paths, force))
    return actions


def _stop_one(paths: RunPaths, force: bool) -> Action:
    """stop_runs for one run, under its actor lock."""
    state = refresh_state(paths)
    status = read_status(paths.status) or {}
    if status.get("slurm_job_id") and state in LIVE_STATES:
        from simsiam_tui.launch.slurm import cancel

        job = cancel(paths)
        return Action(paths.run_id, f"cancelled Slurm job {job}", refresh_state(paths))
    if state == QUEUED:
        with root_lock(paths.dir.parent):
            if (read_status(paths.status) or {}).get("state") == QUEUED:
                update_status(paths.status, state=STOPPED, message="stopped before it started", ended=time.time())
                return Action(paths.run_id, "unqueued", STOPPED)
        state = refresh_state(paths)
        status = read_status(paths.status) or {}
    if state not in WORKER_STATES:
        return Action(paths.run_id, f"not running ({state})", state)
    if status.get("host") and status["host"] != hostname():
        raise LaunchError(f"run {paths.run_id} runs on host {status['host']}; stop it there")
    pid = status.get("pid")
    if pid and not is_run_worker(pid, paths.dir, recorded_create_time(status)):
        # status.json names a process that is not this run's worker (pid reused, a hand-edited file)
        message = f"worker gone; pid {pid} is another process now (create time or command line differ), not signalled"
        _write_lost(paths, message)
        return Action(paths.run_id, f"not signalled: pid {pid} is not this run's worker", LOST)
    if force:
        kill_worker(status, paths.dir)
        update_status(paths.status, state=STOPPED, message="killed (--force)", ended=time.time(), exit_code=-9)
        return Action(paths.run_id, "killed", STOPPED)
    if pid and signal_process(pid, signal.SIGTERM):
        update_status(paths.status, stop_requested=time.time())
        return Action(paths.run_id, "signalled (SIGTERM): checkpoints, then stops", state)
    return Action(paths.run_id, "worker already gone", refresh_state(paths))


def _write_lost(paths: RunPaths, message: str) -> None:
    try:
        update_status(paths.status, state=LOST, message=message, ended=time.time())
    except OSError:
        pass  # cannot write (disk full, read-only root): the action line still tells the user


def wait_for_end(runs: Sequence[RunPaths], timeout: float, poll_s: float = 0.5) -> dict[str, str]:
    """Wait until no run is live (or timeout); return {run_id: state}."""
    deadline = time.monotonic() + timeout
    while True:
        states = {p.run_id: refresh_state(p) for p in runs}
        if all(s not in LIVE_STATES for s in states.values()) or time.monotonic() > deadline:
            return states
        time.sleep(poll_s)


def resume_runs(runs: Sequence[RunPaths], gpus: list[int] | None = None, per_gpu: int | None = None) -> list[Action]:
    """Queue stopped, failed, lost or diverged runs again (they resume from checkpoints/last.pt) and start them.

    gpus/per_gpu replace the run's original request when given.
    """
    runs = [RunPaths(resolve_path(p.dir)) for p in runs]  # the worker and the queue runner start elsewhere
    actions: list[Action] = []
    roots: list[Path] = []
    with contextlib.ExitStack() as held:  # every run's actor lock, checked and queued under it: one worker per run
        for paths in runs:
            held.enter_context(acting_on(paths))
        for paths in runs:
            _check_resumable(paths)
        for paths in runs:
            actions.append(_queue_again(paths, gpus, per_gpu))
            if paths.dir.parent not in roots:
                roots.append(paths.dir.parent)
    for root in roots:
        submit(root)
    return [
        Action(a.run_id, a.action, (read_status(paths.status) or {}).get("state", a.state))
        for a, paths in zip(actions, runs, strict=True)
    ]


def _check_resumable(paths: RunPaths) -> None:
    """LaunchError unless the run is stopped, failed, lost or diverged, and on this host."""
    state = refresh_state(paths)
    if state not in RESUMABLE_STATES:
        hint = "it is still live" if state in LIVE_STATES else "only stopped, failed, lost or diverged runs resume"
        raise LaunchError(f"run {paths.run_id} is {state}; {hint}")
    status = read_status(paths.status) or {}
    if status.get("host") and status["host"] != hostname():
        raise LaunchError(f"run {paths.run_id} ran on host {status['host']}; resume it there")


def _queue_again(paths: RunPaths, gpus: list[int] | None, per_gpu: int | None) -> Action:
    """Mark a resumable run queued again (its request replaced when gpus/per_gpu are given)."""
    status = read_status(paths.status) or {}
    pid = status.get("pid")
    if pid and is_alive(pid):  # a hung worker that was marked lost: make sure it is gone (if it is ours)
        kill_worker(status, paths.dir)
    request = Request.from_dict(status.get("request"))
    if gpus is not None or per_gpu is not None:
        request = make_request(
            gpus if gpus is not None else (request.gpus or None), per_gpu, gpus_per_run=request.gpus_per_run
        )
    had_checkpoint = paths.checkpoint.exists()
    with root_lock(paths.dir.parent):
        now = time.time()
        # a run that Slurm ran before resumes here, as a local run
        try:
            update_status(
                paths.status,
                state=QUEUED,
                request=request.to_dict(),
                message="",
                resumed=now,
                queued_at=now,
                slurm_job_id=None,
            )
        except OSError as exc:
            raise LaunchError(f"cannot resume {paths.run_id}: {exc.strerror} writing {paths.status}") from None
    # honest: nothing is resumed until the worker has loaded the checkpoint (see await_resume)
    return Action(paths.run_id, "resuming from its checkpoint" if had_checkpoint else "restarting (no checkpoint)", QUEUED)


def await_resume(runs: Sequence[RunPaths], timeout: float, poll_s: float = 0.25) -> list[Action]:
    """Wait until each resumed run's worker has loaded its checkpoint (a new `start` event), ended, or timeout.

    Says "resumed from step S" only once the worker wrote that it had; "did not resume: ..." when it ended
    first; otherwise that it is still queued or starting.
    """
    deadline = time.monotonic() + timeout
    pending = {p.run_id: p for p in runs}
    done: dict[str, Action] = {}
    while True:
        for run_id, paths in list(pending.items()):
            status = read_status(paths.status) or {}
            since = status.get("resumed") if isinstance(status.get("resumed"), (int, float)) else 0.0
            start = next(
                (e for e in reversed(read_events(paths.events)) if e.get("kind") == "start" and e.get("time", 0) >= since),
                None,
            )
            state = refresh_state(paths)
            if start is not None:
                step = start.get("resumed_from_step")
                what = f"resumed from step {step}" if isinstance(step, int) and step > 0 else "restarted from step 0 (no checkpoint)"
                note = start.get("resume_note")
                done[run_id] = Action(run_id, f"{what}; {note}" if note else what, state)
            elif state not in LIVE_STATES:
                status = read_status(paths.status) or {}
                done[run_id] = Action(run_id, f"did not resume: {status.get('message') or state}", state)
            else:
                continue
            del pending[run_id]
        if not pending or time.monotonic() > deadline:
            break
        time.sleep(poll_s)
    for run_id, paths in pending.items():
        state = refresh_state(paths)
        pid = (read_status(paths.status) or {}).get("pid")
        what = (
            "queued: resumes from its checkpoint when a slot frees"
            if state == QUEUED
            else f"starting (pid {pid}), checkpoint not loaded yet; `simsiam-tui runs show {run_id}` shows the step"
        )
        done[run_id] = Action(run_id, what, state)
    return [done[p.run_id] for p in runs]


def remove_runs(runs: Sequence[RunPaths], force: bool = False) -> list[Action]:
    """Delete run directories; a live run is refused unless force, which kills its process group first."""
    for paths in runs:
        state = refresh_state(paths)
        if state in LIVE_STATES and not force:
            raise LaunchError(f"run {paths.run_id} is {state}; stop it first (`simsiam-tui runs stop`) or pass --force")
    actions = []
    for paths in runs:
        with acting_on(paths, required=False):
            actions.append(_remove_one(paths, force))
    return actions


def _remove_one(paths: RunPaths, force: bool) -> Action:
    """remove_runs for one run, under its actor lock (the live check again: a resume may have won the race)."""
    state = refresh_state(paths)
    if state in LIVE_STATES and not force:
        raise LaunchError(f"run {paths.run_id} is {state}; stop it first (`simsiam-tui runs stop`) or pass --force")
    status = read_status(paths.status) or {}
    with root_lock(paths.dir.parent, required=False):  # a full disk must not keep a run from being removed
        if status.get("slurm_job_id") and status.get("state") in LIVE_STATES:
            from simsiam_tui.launch.slurm import cancel

            cancel(paths)
        if status.get("state") in WORKER_STATES:
            if status.get("host") and status["host"] != hostname():
                raise LaunchError(f"run {paths.run_id} runs on host {status['host']}; stop it there first")
            kill_worker(status, paths.dir)
        try:
            shutil.rmtree(paths.dir)
        except OSError as exc:
            raise LaunchError(f"cannot remove run {paths.run_id}: {exc.strerror} ({exc.filename})") from None
    return Action(paths.run_id, "removed", "removed")
