"""GPU snapshots through nvidia-ml-py (pynvml): utilization, memory and per-process memory; [] without a driver."""

from __future__ import annotations

import threading
from typing import Any

_lock = threading.Lock()
_state: dict[str, Any] = {"ready": False, "error": None}
_errors: dict[str, str] = {}  # the first failure of each NVML query after init, for worker.log


def _init() -> Any:
    """The pynvml module once nvmlInit succeeded, else None (the reason kept for nvml_error())."""
    with _lock:
        if _state["ready"]:
            return _state["module"]
        if _state["error"] is not None:
            return None
        try:
            import pynvml
        except ImportError as exc:
            _state["error"] = f"nvidia-ml-py is not installed ({exc})"
            return None
        try:
            pynvml.nvmlInit()
        except (pynvml.NVMLError, OSError) as exc:  # no driver, no device, bad permissions: all mean "no GPUs"
            _state["error"] = f"NVML unavailable: {str(exc) or type(exc).__name__}"
            return None
        _state.update(ready=True, module=pynvml)
        return pynvml


def nvml_error() -> str | None:
    """Why there are no GPU results (None when NVML works)."""
    _init()
    error = _state["error"]
    return str(error) if error is not None else None


def gpu_errors() -> dict[str, str]:
    """The first failure of each NVML query since start ({} when none failed)."""
    return dict(_errors)


def _note(what: str, exc: BaseException) -> None:
    _errors.setdefault(f"gpu {what}", str(exc) or type(exc).__name__)


def _text(value: Any) -> str:
    return value.decode(errors="replace") if isinstance(value, bytes) else str(value)


def _mb(value: Any) -> float | None:
    return round(value / 2**20, 1) if isinstance(value, int) else None


def _processes(nv: Any, handle: Any) -> list[dict[str, Any]]:
    seen: dict[int, dict[str, Any]] = {}
    for getter in ("nvmlDeviceGetComputeRunningProcesses", "nvmlDeviceGetGraphicsRunningProcesses"):
        try:
            procs = getattr(nv, getter)(handle)
        except nv.NVMLError as exc:
            _note("processes", exc)
            continue
        for proc in procs:
            used = getattr(proc, "usedGpuMemory", None)
            entry = seen.setdefault(int(proc.pid), {"pid": int(proc.pid), "mem_used_mb": None})
            mb = _mb(used)
            if mb is not None:
                entry["mem_used_mb"] = (entry["mem_used_mb"] or 0) + mb
    return list(seen.values())


def _device(nv: Any, index: int) -> dict[str, Any]:
    handle = nv.nvmlDeviceGetHandleByIndex(index)
    gpu: dict[str, Any] = {"index": index, "name": None, "util_pct": None, "mem_used_mb": None, "mem_total_mb": None}
    try:
        gpu["name"] = _text(nv.nvmlDeviceGetName(handle))
    except nv.NVMLError as exc:
        _note("name", exc)
    try:
        gpu["util_pct"] = float(nv.nvmlDeviceGetUtilizationRates(handle).gpu)
    except nv.NVMLError as exc:  # e.g. not supported on this GPU: the figure stays unknown
        _note("utilization", exc)
    try:
        mem = nv.nvmlDeviceGetMemoryInfo(handle)
        gpu["mem_used_mb"], gpu["mem_total_mb"] = _mb(mem.used), _mb(mem.total)
    except nv.NVMLError as exc:
        _note("memory", exc)
    gpu["processes"] = _processes(nv, handle)
    return gpu


def gpu_snapshot() -> list[dict[str, Any]]:
    """One dict per GPU: index, name, util_pct, mem_used_mb, mem_total_mb, processes [{pid, mem_used_mb}]."""
    nv = _init()
    if nv is None:
        return []
    try:
        count = nv.nvmlDeviceGetCount()
    except nv.NVMLError as exc:
        _note("count", exc)
        return []
    gpus = []
    for index in range(count):
        try:
            gpus.append(_device(nv, index))
        except nv.NVMLError as exc:  # a GPU that fell off the bus is skipped, not fatal
            _note(f"{index}", exc)
    return gpus


def gpu_for_pid(pid: int, snapshot: list[dict[str, Any]] | None = None) -> dict[str, Any] | None:
    """The snapshot of the GPU on which `pid` holds memory (first match), or None."""
    for gpu in gpu_snapshot() if snapshot is None else snapshot:
        if any(p["pid"] == pid for p in gpu["processes"]):
            return gpu
    return None


def gpu_fields(pid: int | None, assigned: int | None = None) -> dict[str, Any]:
    """Flat `system` event fields for the GPU that `pid` uses: gpu_index, gpu_util_pct, gpu_mem_*_mb; {} if none.

    The GPU is the one where NVML lists `pid`, else `assigned` (the worker's slot): inside a container NVML
    reports host pids, and a worker that has not touched CUDA yet holds no GPU memory.
    """
    if pid is None:
        return {}
    snapshot = gpu_snapshot()
    gpu = gpu_for_pid(pid, snapshot)
    if gpu is None and assigned is not None:
        gpu = next((g for g in snapshot if g["index"] == assigned), None)
    if gpu is None:
        return {}
    proc = next((p for p in gpu["processes"] if p["pid"] == pid), None)
    return {
        "gpu_index": gpu["index"],
        "gpu_util_pct": gpu["util_pct"],
        "gpu_mem_used_mb": gpu["mem_used_mb"],
        "gpu_mem_total_mb": gpu["mem_total_mb"],
        "gpu_proc_mem_mb": proc["mem_used_mb"] if proc else None,
    }
