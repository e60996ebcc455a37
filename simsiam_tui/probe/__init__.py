"""GPU (pynvml) and host (psutil) snapshots; empty results, never exceptions, where a probe is unavailable."""

from __future__ import annotations

from typing import Any

from simsiam_tui.probe.host import host_errors, host_snapshot, process_alive, process_cmdline, process_create_time
from simsiam_tui.probe.nvml import gpu_errors, gpu_fields, gpu_for_pid, gpu_snapshot, nvml_error


def system_fields(pid: int | None = None, assigned_gpu: int | None = None) -> dict[str, Any]:
    """Flat fields for a worker's `system` event: host CPU/memory, the process's RSS and its GPU's use."""
    out = dict(host_snapshot(pid))
    out.update(gpu_fields(pid, assigned_gpu))
    return out


def probe_errors() -> dict[str, str]:
    """The first failure of each host and GPU query since start (for a worker.log line each)."""
    return {**host_errors(), **gpu_errors()}


__all__ = [
    "gpu_fields",
    "gpu_for_pid",
    "gpu_snapshot",
    "host_snapshot",
    "nvml_error",
    "probe_errors",
    "process_alive",
    "process_cmdline",
    "process_create_time",
    "system_fields",
]
