"""Worker processes: spawn detached, check liveness (zombie- and pid-reuse-safe), signal, reap our children."""

from __future__ import annotations

import os
import signal
import socket
import time
from pathlib import Path
from typing import Any

from simsiam_tui.launch.spawn import exit_code_of as exit_code_of  # re-exported: the launcher's callers
from simsiam_tui.launch.spawn import python_argv, reap
from simsiam_tui.launch.spawn import spawn_detached as spawn_detached
from simsiam_tui.probe import process_alive, process_cmdline

WORKER_ENV = "SIMSIAM_TUI_WORKER"  # optional override of the worker command (e.g. a wrapper); {run_dir} is filled in


def hostname() -> str:
    """This machine's name, as recorded in status.json."""
    return socket.gethostname()


def worker_command(run_dir: Path, nproc: int = 1) -> list[str]:
    """The argv that runs one worker: `python -P -m simsiam_tui.train RUN_DIR` (or $SIMSIAM_TUI_WORKER).

    nproc > 1: a DDP run, `torchrun --standalone --nproc-per-node N -m simsiam_tui.train RUN_DIR` (a free
    local rendezvous port each time; {nproc} in $SIMSIAM_TUI_WORKER is filled in too).
    """
    override = os.environ.get(WORKER_ENV)
    if override:
        import shlex

        return [part.replace("{run_dir}", str(run_dir)).replace("{nproc}", str(nproc)) for part in shlex.split(override)]
    if nproc > 1:
        return python_argv(
            "torch.distributed.run", "--standalone", f"--nproc-per-node={nproc}", "-m", "simsiam_tui.train", str(run_dir)
        )
    return python_argv("simsiam_tui.train", str(run_dir))


def is_alive(pid: int | None, create_time: float | None = None) -> bool:
    """True while pid runs and is not a zombie; with create_time, only if it is still the same process."""
    if not pid or pid <= 0:
        return False
    reap()
    alive = process_alive(pid, create_time)
    if alive is not None:
        return alive
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def signal_process(pid: int, sig: int) -> bool:
    """Send sig to one process; False when it is already gone."""
    try:
        os.kill(pid, sig)
    except ProcessLookupError:
        return False
    return True


def signal_group(pgid: int, sig: int) -> bool:
    """Send sig to a whole process group; False when the group is gone."""
    try:
        os.killpg(pgid, sig)
    except ProcessLookupError:
        return False
    return True


def recorded_create_time(status: dict[str, Any]) -> float | None:
    """The worker's create time as recorded by the launcher (`proc`) or by the worker itself."""
    pid = status.get("pid")
    raw = status.get("proc")
    proc: dict[str, Any] = raw if isinstance(raw, dict) else {}
    value = proc.get("create_time") if proc.get("pid") == pid else status.get("create_time")
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def is_run_worker(pid: int, run_dir: Path, create_time: float | None = None) -> bool:
    """True when `pid` is alive and is this run's worker: the create time matches the recorded one (when
    there is one) and its command line names the run folder. Checked before any signal is sent.
    """
    if not isinstance(pid, int) or pid <= 1 or pid == os.getpid() or not is_alive(pid, create_time):
        return False
    argv = process_cmdline(pid)
    if argv is None:
        return False
    name = Path(run_dir).name  # run ids are unique; the argv may hold the folder as given (relative)
    return any(arg.rstrip("/") == name or arg.rstrip("/").endswith(f"/{name}") for arg in argv)


def kill_worker(status: dict[str, Any], run_dir: Path, timeout: float = 5.0) -> bool:
    """SIGKILL a run's worker: its process group and, for a DDP run, every rank and the torchrun agent.

    Only processes verified to be this run's worker (is_run_worker) are signalled: a pid in status.json
    that now belongs to something else is left alone; False then. torchrun starts each rank in a session
    of its own, so the launcher's group alone would miss them.
    """
    pid = status.get("pid")
    if not isinstance(pid, int) or not is_run_worker(pid, run_dir, recorded_create_time(status)):
        return False
    ranks = [p for p in status.get("rank_pids") or [] if isinstance(p, int) and p > 0]
    agent = status.get("agent_pid") if isinstance(status.get("agent_pid"), int) else None
    for other in [*ranks, *([agent] if agent else [])]:
        if other != pid and is_run_worker(other, run_dir):
            signal_group(other, signal.SIGKILL) or signal_process(other, signal.SIGKILL)
    pgid = status.get("pgid")
    kill_group(pgid if isinstance(pgid, int) and _group_of(pid) == pgid else None, pid, timeout)
    return True


def _group_of(pid: int) -> int | None:
    try:
        return os.getpgid(pid)
    except ProcessLookupError:
        return None


def kill_group(pgid: int | None, pid: int | None, timeout: float = 5.0) -> None:
    """SIGKILL a worker's process group (or just its pid) and wait until the pid is gone."""
    if pgid:
        signal_group(pgid, signal.SIGKILL)
    elif pid:
        signal_process(pid, signal.SIGKILL)
    deadline = time.monotonic() + timeout
    while pid and is_alive(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
