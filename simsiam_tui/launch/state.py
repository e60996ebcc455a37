"""A run's true state: status.json checked against its process and heartbeat, marking dead workers `lost`."""

from __future__ import annotations

import os
import time
from typing import Any

from simsiam_tui.launch.procs import exit_code_of, hostname, is_alive, recorded_create_time
from simsiam_tui.store import RunPaths, read_events, read_status, status_lock, write_status
from simsiam_tui.store.files import read_tail
from simsiam_tui.store.schema import CORRUPT, END_STATES, FAILED, LOST, RUNNING, STARTING, STOPPED, WORKER_STATES
from simsiam_tui.store.status import load_status

STALE_ENV = "SIMSIAM_TUI_STALE_S"
DEFAULT_STALE_S = 300.0  # a live pid whose heartbeat is older than this is hung: `lost`
START_GRACE_S = 60.0  # a `starting` run with no pid recorded after this long is `lost`


def stale_after_s() -> float:
    """Seconds without a heartbeat after which a running worker counts as lost ($SIMSIAM_TUI_STALE_S)."""
    try:
        return float(os.environ.get(STALE_ENV, DEFAULT_STALE_S))
    except ValueError:
        return DEFAULT_STALE_S


def last_end_event(paths: RunPaths) -> dict[str, Any] | None:
    """The `end` event of the run's latest attempt (after its last `start`), or None."""
    end = None
    for event in read_events(paths.events):
        kind = event.get("kind")
        if kind == "start":
            end = None
        elif kind == "end":
            end = event
    return end


def _log_tail(paths: RunPaths, limit: int = 300) -> str:
    try:
        data = read_tail(paths.log, 4096)
    except OSError:
        return ""
    lines = [ln.strip() for ln in data.decode(errors="replace").splitlines() if ln.strip()]
    lines = [ln for ln in lines if not ln.startswith("--- ")]
    return lines[-1][:limit] if lines else ""


def diagnose(paths: RunPaths, status: dict[str, Any] | None = None, now: float | None = None) -> tuple[str, str | None]:
    """(state, reason): the run's state after checking its worker; reason says why a live state is not live."""
    if status is None:
        status, problem = load_status(paths.status)
        if problem is not None:
            return CORRUPT, problem
    if status is None:
        return LOST, "status.json is missing"
    state = status.get("state", LOST)
    now = time.time() if now is None else now
    if state == LOST and _beating_again(paths, status, now):
        return RUNNING, None  # a paused worker came back: its heartbeat is fresh again
    if state not in WORKER_STATES:
        return state, None
    job = status.get("slurm_job_id")
    if status.get("host") and status["host"] != hostname():
        # another machine's worker: only Slurm (if it ran the job) can tell that it is gone
        if job and _slurm_state(job) not in (None, *_slurm_active()):
            return _gone(paths, status, state, f"Slurm job {job} is {_slurm_state(job)}")
        return state, None
    pid = status.get("pid")
    heartbeat = status.get("heartbeat") or status.get("launched") or status.get("created") or 0
    if not pid:
        if now - heartbeat > START_GRACE_S:
            return LOST, "no worker pid was recorded"
        return state, None
    if is_alive(pid, recorded_create_time(status)):
        # a worker stuck before its first step (a hung file system, a stopped process) is as lost as a hung one
        if heartbeat and now - heartbeat > stale_after_s():
            return LOST, f"no heartbeat for {now - heartbeat:.0f}s while {state} (worker pid {pid} hangs)"
        return state, None
    if job and _slurm_state(job) in _slurm_active():
        return state, None  # Slurm still holds the job (e.g. requeued): never lost
    return _gone(paths, status, state, None)


def worker_alive(paths: RunPaths, status: dict[str, Any]) -> bool:
    """True when this host runs the run's worker process (alive, and the same process by create time)."""
    pid = status.get("pid")
    if not isinstance(pid, int) or status.get("host") not in (None, hostname()):
        return False
    return is_alive(pid, recorded_create_time(status))


def _beating_again(paths: RunPaths, status: dict[str, Any], now: float) -> bool:
    heartbeat = status.get("heartbeat")
    fresh = isinstance(heartbeat, (int, float)) and now - heartbeat <= stale_after_s()
    return bool(fresh) and worker_alive(paths, status)


def _gone(paths: RunPaths, status: dict[str, Any], state: str, why: str | None) -> tuple[str, str | None]:
    """The state of a live-looking run whose worker is gone: its end event's, else stopped, failed or lost."""
    pid = status.get("pid") or 0
    end = last_end_event(paths)
    end_state = (end or {}).get("state") or (end or {}).get("status")
    if end_state in END_STATES:
        return end_state, (end or {}).get("reason")
    if why:
        return LOST, f"{why} without an end event"
    code = exit_code_of(pid)
    detail = f" with exit code {code}" if code is not None else ""
    tail = _log_tail(paths)
    if status.get("stop_requested"):
        return STOPPED, "stopped (SIGTERM) before it could checkpoint; resume restarts from the last checkpoint"
    if state == STARTING:
        return FAILED, f"worker exited{detail} before it started" + (f": {tail}" if tail else "; see worker.log")
    return LOST, f"worker pid {pid} is gone{detail} without an end event" + (f" (log: {tail})" if tail else "")


_SLURM_TTL_S = 10.0
_slurm_cache: dict[str, tuple[float, str | None]] = {}


def _slurm_active() -> frozenset[str]:
    from simsiam_tui.launch.slurm import ACTIVE_STATES

    return ACTIVE_STATES


def _slurm_state(job: Any) -> str | None:
    """Slurm's state of a job, cached a few seconds (squeue is not free); None when unknown."""
    key = str(job)
    hit = _slurm_cache.get(key)
    if hit is not None and time.monotonic() - hit[0] < _SLURM_TTL_S:
        return hit[1]
    from simsiam_tui.launch.slurm import slurm_job_state

    try:
        value = slurm_job_state(key)
    except OSError:  # squeue present but not runnable: unknown, never an error in a refresh
        value = None
    _slurm_cache[key] = (time.monotonic(), value)
    return value


def current_state(paths: RunPaths, status: dict[str, Any] | None) -> tuple[str, str | None]:
    """(state, message) as reading commands show them, writing nothing: the diagnosed state, and why it
    differs from status.json's, else status.json's own message. status: status.json as the caller read it
    (None: missing or unreadable); it is not read again."""
    state, reason = diagnose(paths, status)
    if status is not None and state == status.get("state"):
        return state, status.get("message") or None
    return state, reason


def refresh_state(paths: RunPaths, write: bool = True) -> str:
    """The run's state; with write, a live run whose worker is gone gets `lost` (or its real end) in status.json.

    Reading commands pass write=False: they never write. A write that fails (a full disk, a read-only
    root) leaves status.json as it is; the state is returned all the same.
    """
    status = read_status(paths.status)
    state, reason = diagnose(paths, status)
    if not write or status is None or state == status.get("state"):
        return state
    fields: dict[str, Any] = {"state": state, "message": reason or ""}
    if state not in WORKER_STATES:
        fields["ended"] = time.time()
        code = exit_code_of(status.get("pid") or 0)
        if code is not None:
            fields["exit_code"] = code
    try:
        with status_lock(paths.dir):  # re-check under the lock: the worker may have written its own end meanwhile
            latest = read_status(paths.status) or {}
            if latest.get("state") != status.get("state") or latest.get("pid") != status.get("pid"):
                return str(latest.get("state", state))
            latest.update(fields)
            write_status(paths.status, latest)
    except OSError:
        pass  # cannot write (disk full, read-only): the state is still right for this caller
    return state
