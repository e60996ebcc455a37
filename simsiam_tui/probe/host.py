"""Host CPU and memory, and one process's RSS, through psutil; None where unknown, never an exception."""

from __future__ import annotations

import threading
from typing import Any

try:
    import psutil
except ImportError:  # pragma: no cover - psutil is a dependency, but a probe must never break its caller
    psutil = None

_lock = threading.Lock()
_procs: dict[int, Any] = {}
_errors: dict[str, str] = {}  # the first failure of each host query, for worker.log

if psutil is not None:
    try:
        psutil.cpu_percent(interval=None)  # prime: the first reading is meaningless
    except OSError as _exc:  # /proc/stat unreadable (some sandboxes)
        _errors["host cpu"] = str(_exc)


def host_errors() -> dict[str, str]:
    """The first failure of each host query since start ({} when none failed)."""
    return dict(_errors)


def _process(pid: int) -> Any:
    with _lock:
        proc = _procs.get(pid)
        if proc is None or not proc.is_running():
            proc = psutil.Process(pid)
            proc.cpu_percent(interval=None)
            _procs[pid] = proc
        return proc


def host_snapshot(pid: int | None = None) -> dict[str, Any]:
    """cpu_pct, mem_used_mb, mem_total_mb of the host; rss_mb and proc_cpu_pct of `pid` when given."""
    out: dict[str, Any] = {"cpu_pct": None, "mem_used_mb": None, "mem_total_mb": None}
    if psutil is None:
        return out
    try:
        out["cpu_pct"] = float(psutil.cpu_percent(interval=None))
        mem = psutil.virtual_memory()
        out["mem_used_mb"] = round((mem.total - mem.available) / 2**20, 1)
        out["mem_total_mb"] = round(mem.total / 2**20, 1)
    except (psutil.Error, OSError) as exc:
        _errors.setdefault("host memory", str(exc) or type(exc).__name__)
    if pid is not None:
        out["rss_mb"] = None
        out["proc_cpu_pct"] = None
        try:
            proc = _process(pid)
            out["rss_mb"] = round(proc.memory_info().rss / 2**20, 1)
            out["proc_cpu_pct"] = float(proc.cpu_percent(interval=None))
        except psutil.NoSuchProcess:
            pass  # the process ended between two calls: its figures are unknown, which is no failure
        except (psutil.Error, OSError) as exc:
            _errors.setdefault("process", str(exc) or type(exc).__name__)
    return out


def process_alive(pid: int, create_time: float | None = None) -> bool | None:
    """Whether `pid` runs (not a zombie) and, given create_time, is the same process; None if psutil is missing."""
    if psutil is None:
        return None
    try:
        proc = psutil.Process(pid)
        if proc.status() == psutil.STATUS_ZOMBIE:
            return False
        return create_time is None or abs(proc.create_time() - create_time) < 1.0
    except psutil.NoSuchProcess:
        return False
    except psutil.AccessDenied:
        return True  # another user's process exists; whether it is ours is checked by create time elsewhere


def process_create_time(pid: int) -> float | None:
    """When `pid` started (seconds since the epoch), to tell it from a later process reusing the pid; None if unknown."""
    if psutil is None:
        return None
    try:
        return float(psutil.Process(pid).create_time())
    except psutil.Error:
        return None


def process_cmdline(pid: int) -> list[str] | None:
    """The command line of `pid`, or None when it is gone or unreadable."""
    if psutil is None:
        return None
    try:
        return list(psutil.Process(pid).cmdline())
    except psutil.Error:
        return None
