"""The queue: start queued runs where slots are free, under a per-root lock, and a detached runner for the rest."""

from __future__ import annotations

import contextlib
import errno
import hashlib
import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from simsiam_tui.launch.errors import LaunchError
from simsiam_tui.launch.procs import hostname, spawn_detached, worker_command
from simsiam_tui.launch.slots import Request, pick_slots, visible_gpus
from simsiam_tui.launch.spawn import python_argv
from simsiam_tui.launch.state import refresh_state, worker_alive
from simsiam_tui.probe import process_create_time
from simsiam_tui.store import RunPaths, list_runs, read_status, update_status
from simsiam_tui.store.files import file_lock, private_dir
from simsiam_tui.store.schema import FAILED, LOST, QUEUED, STARTING, WORKER_STATES

SCHED_LOCK = "queue.lock"  # held briefly around every scheduling pass
RUNNER_LOCK = "queue-runner.lock"  # held by the one queue runner of a root for its whole life (its pid inside)
RUNNER_LOG = "queue.log"  # the runner's output, beside its lock (a file in the shared root could be planted)


@contextlib.contextmanager
def root_lock(
    root: Path, name: str = SCHED_LOCK, blocking: bool = True, required: bool = True
) -> Iterator[int | None]:
    """This user's lock `name` on `root` (root_lock_path); yields the fd, or None when non-blocking and held.

    A lock that cannot be made (a read-only or full disk) is a LaunchError naming it; with required=False a
    full disk yields None instead (nothing can start there anyway), so `runs rm` works.
    """
    try:
        root.mkdir(parents=True, exist_ok=True)
        lock = file_lock(root_lock_path(root, name), blocking=blocking)
        fd = lock.__enter__()
    except OSError as exc:
        if not required and exc.errno in (errno.ENOSPC, errno.EDQUOT):
            yield None
            return
        why = getattr(exc, "why", None) or exc.strerror
        raise LaunchError(f"cannot lock runs folder '{root}': {name} {why}") from None
    try:
        yield fd
    finally:
        lock.__exit__(None, None, None)


def root_lock_path(root: Path, name: str) -> Path:
    """Where this user's lock `name` of a runs root lives: in a private folder, never in the (shared) root.

    Locks serialize this user's launchers and queue runner, which start only this user's runs; another
    user cannot plant a file there to write through or to lock the owner out.
    """
    digest = hashlib.sha256(str(root.resolve()).encode()).hexdigest()[:24]
    folder = private_dir() / "locks"
    folder.mkdir(mode=0o700, exist_ok=True)
    return folder / f"{digest}-{name}"


def owned_by_me(paths: RunPaths) -> bool:
    """True when this user created the run: the run folder and its status.json are ours (never a link)."""
    me = os.geteuid()
    try:
        return paths.dir.lstat().st_uid == me and paths.status.lstat().st_uid == me
    except OSError:
        return False


def checked_request(status: dict[str, Any]) -> Request | str:
    """A queued run's request, re-checked against this machine as a fresh launch would be; a string says why not.

    status.json's decode already bounds per_gpu, threads and GPU indices; here they must also fit here.
    """
    request = Request.from_dict(status.get("request"))
    cores = os.cpu_count() or 1
    if request.threads is not None and request.threads > cores:
        return f"its request asks for {request.threads} threads per run; this machine has {cores} cores"
    if request.gpus:
        visible = visible_gpus()
        missing = [g for g in request.gpus if g not in visible]
        if missing:
            return f"its request names GPU {', '.join(map(str, missing))}, which is not visible here"
    return request


def slot_of(status: dict[str, Any]) -> tuple[bool, int | None]:
    """(has_slot, gpu) for a live run: the launcher's `slot` record (None = the CPU; a DDP run's first GPU)."""
    gpus = slot_gpus(status)
    return True, gpus[0] if gpus else None


def slot_gpus(status: dict[str, Any]) -> list[int]:
    """Every GPU a live run holds ([] = the CPU): the `slot` record, an int or, for a DDP run, a list."""
    slot = status.get("slot")  # missing: started outside the launcher (e.g. `simsiam-tui train`), on the CPU
    if isinstance(slot, int):
        return [slot]
    return [g for g in slot if isinstance(g, int)] if isinstance(slot, list) else []


def occupancy(root: Path, runs: list[RunPaths] | None = None) -> dict[int | None, int]:
    """How many live (starting/running) runs of this host use each GPU, and the CPU (key None)."""
    used: dict[int | None, int] = {}
    me = hostname()
    for paths in list_runs(root) if runs is None else runs:
        state = refresh_state(paths)
        status = read_status(paths.status) or {}
        # a `lost` run whose process still lives (paused, hung) keeps its slot: it may come back
        if state not in WORKER_STATES and not (state == LOST and worker_alive(paths, status)):
            continue
        if status.get("host") not in (None, me) or status.get("slurm_job_id"):
            continue  # Slurm allocates its own resources
        held: list[int | None] = [*slot_gpus(status)] or [None]  # None: a CPU slot
        for gpu in held:
            used[gpu] = used.get(gpu, 0) + 1
    return used


def worker_env(request: Request, gpu: int | list[int] | None) -> dict[str, str]:
    """The worker's environment: CUDA_VISIBLE_DEVICES for its GPU(s) (empty for the CPU), CPU threads.

    A DDP run on the CPU splits its slot's threads between its processes.
    """
    env = dict(os.environ)
    env["PYTHONUNBUFFERED"] = "1"
    if gpu is None or gpu == []:
        env["CUDA_VISIBLE_DEVICES"] = ""
        if request.threads:
            threads = max(1, request.threads // max(1, request.gpus_per_run))
            for key in ("OMP_NUM_THREADS", "MKL_NUM_THREADS"):
                env.setdefault(key, str(threads))
    else:
        env["CUDA_VISIBLE_DEVICES"] = ",".join(map(str, gpu if isinstance(gpu, list) else [gpu]))
    return env


def start_worker(paths: RunPaths, request: Request, gpu: int | list[int] | None) -> int:
    """Start one run's worker detached on `gpu` (None: CPU; a list: a DDP run under torchrun); return the pid."""
    now = time.time()
    gpus = [] if gpu is None else (list(gpu) if isinstance(gpu, list) else [gpu])
    update_status(
        paths.status,
        state=STARTING,
        slot=gpus if len(gpus) > 1 else (gpus[0] if gpus else None),
        gpus=gpus,
        host=hostname(),
        launched=now,
        heartbeat=now,
        pid=None,
        pgid=None,
        exit_code=None,
        message="",
        stop_requested=None,
        request=request.to_dict(),
    )
    try:
        argv = worker_command(paths.dir, request.gpus_per_run)
        proc = spawn_detached(argv, paths.log, worker_env(request, gpu), roots=[paths.dir.parent])
    except OSError as exc:
        update_status(paths.status, state=FAILED, message=f"cannot start the worker: {exc}", ended=time.time())
        return 0
    status = read_status(paths.status) or {}
    fields: dict[str, Any] = {"proc": {"pid": proc.pid, "create_time": process_create_time(proc.pid)}}
    if status.get("pid") in (None, proc.pid):  # the worker may already have written its own
        fields.update(pid=proc.pid, pgid=proc.pid)
    update_status(paths.status, **fields)
    return proc.pid


def schedule(root: Path) -> list[RunPaths]:
    """One pass under the root lock: start every queued run (first queued first) that fits a free slot; return them."""
    started: list[RunPaths] = []
    with root_lock(root):
        runs = list_runs(root)
        used = occupancy(root, runs)
        waiting = [(p, read_status(p.status) or {}) for p in runs]
        # only runs this user queued (ours, with a request); a Slurm job waits for Slurm, not for us
        waiting = [(p, s) for p, s in waiting if _waiting(p, s)]
        waiting.sort(key=lambda item: (item[1].get("queued_at") or item[1].get("created") or 0, item[0].run_id))
        for paths, status in waiting:
            request = checked_request(status)
            if isinstance(request, str):
                update_status(paths.status, state=FAILED, message=f"not started: {request}", ended=time.time())
                continue
            fits, gpus = pick_slots(request, used)
            if not fits:
                continue
            if start_worker(paths, request, gpus if gpus and len(gpus) > 1 else (gpus[0] if gpus else None)):
                taken: list[int | None] = [*gpus] if gpus else [None]
                for gpu in taken:
                    used[gpu] = used.get(gpu, 0) + 1
                started.append(paths)
    return started


def _waiting(paths: RunPaths, status: dict[str, Any]) -> bool:
    """A run this launcher may start: queued by this user through the launcher (it has a request), not a Slurm job.

    Another user's queued run in a shared root waits for its owner's launcher: starting it here would run
    their request as us.
    """
    return (
        status.get("state") == QUEUED and bool(status.get("request")) and not status.get("slurm_job_id") and owned_by_me(paths)
    )


def queued_runs(root: Path) -> list[RunPaths]:
    """Runs of this root, queued by this user, still waiting for a slot."""
    return [paths for paths in list_runs(root) if _waiting(paths, read_status(paths.status) or {})]


def runner_alive(root: Path) -> bool:
    """True when a queue runner holds this root's runner lock."""
    with root_lock(root, RUNNER_LOCK, blocking=False) as fd:
        return fd is None


def ensure_runner(root: Path) -> bool:
    """Start a detached queue runner for `root` if runs are queued and none runs; True when one was started.

    Call under no lock. The runner decides to exit under the scheduling lock and frees its runner lock
    before that lock, so a check made under the scheduling lock never misses a runner about to leave.
    """
    with root_lock(root):
        if not queued_runs(root) or runner_alive(root):
            return False
        log = root_lock_path(root, RUNNER_LOG)
        spawn_detached(python_argv("simsiam_tui.launch.queue", str(root)), log, dict(os.environ), roots=[root])
        return True


def submit(root: Path) -> list[RunPaths]:
    """Start what fits now and leave a runner in charge of the rest; return the runs started now."""
    started = schedule(root)
    ensure_runner(root)
    return started
