"""A stand-in for nvidia-ml-py's `pynvml` module, driven by $SIMSIAM_FAKE_NVML (a JSON file or JSON text).

Put tests/fakes first on PYTHONPATH (or in sys.modules) and describe the machine:

    {"init_error": null,
     "gpus": [{"name": "Fake H100", "util": 57, "mem_used_mb": 3072, "mem_total_mb": 81920,
               "procs": [{"pid": 4242, "mem_mb": 1024}],
               "raises": null,              # text: every call on this GPU raises NVMLError(text)
               "fail": ["utilization"]}]}   # queries of this GPU that raise: name, utilization, memory, processes

The file is read again on every call, so a test can change a GPU's load while a worker runs.
"""

from __future__ import annotations

import json
import os
from types import SimpleNamespace
from typing import Any

ENV = "SIMSIAM_FAKE_NVML"
NVML_SUCCESS = 0


class NVMLError(Exception):
    """The real module's base error."""


class NVMLError_GpuIsLost(NVMLError):  # noqa: N801 - the real module's name
    """A GPU that fell off the bus."""


class NVMLError_DriverNotLoaded(NVMLError):  # noqa: N801
    """No driver."""


def _config() -> dict[str, Any]:
    raw = os.environ.get(ENV, "")
    if raw and not raw.lstrip().startswith("{"):
        with open(raw) as fh:
            raw = fh.read()
    return json.loads(raw) if raw else {"gpus": []}


def _gpu(handle: int, query: str) -> dict[str, Any]:
    gpu = _config()["gpus"][handle]
    if gpu.get("raises"):
        raise NVMLError_GpuIsLost(gpu["raises"])
    if query in gpu.get("fail", []):
        raise NVMLError(f"{query}: Not Supported")
    return gpu


def nvmlInit() -> None:  # noqa: N802 - the real module's names
    error = _config().get("init_error")
    if error:
        raise NVMLError_DriverNotLoaded(error)


def nvmlShutdown() -> None:  # noqa: N802
    return None


def nvmlDeviceGetCount() -> int:  # noqa: N802
    return len(_config()["gpus"])


def nvmlDeviceGetHandleByIndex(index: int) -> int:  # noqa: N802
    gpus = _config()["gpus"]
    if not 0 <= index < len(gpus):
        raise NVMLError("Invalid Argument")
    _gpu(index, "handle")
    return index


def nvmlDeviceGetName(handle: int) -> bytes:  # noqa: N802
    return str(_gpu(handle, "name").get("name", "Fake GPU")).encode()


def nvmlDeviceGetUtilizationRates(handle: int) -> SimpleNamespace:  # noqa: N802
    gpu = _gpu(handle, "utilization")
    return SimpleNamespace(gpu=int(gpu.get("util", 0)), memory=int(gpu.get("mem_util", 0)))


def nvmlDeviceGetMemoryInfo(handle: int) -> SimpleNamespace:  # noqa: N802
    gpu = _gpu(handle, "memory")
    used, total = int(gpu.get("mem_used_mb", 0) * 2**20), int(gpu.get("mem_total_mb", 81920) * 2**20)
    return SimpleNamespace(used=used, total=total, free=total - used)


def nvmlDeviceGetComputeRunningProcesses(handle: int) -> list[SimpleNamespace]:  # noqa: N802
    gpu = _gpu(handle, "processes")
    return [
        SimpleNamespace(pid=int(p["pid"]), usedGpuMemory=None if p.get("mem_mb") is None else int(p["mem_mb"] * 2**20))
        for p in gpu.get("procs", [])
    ]


def nvmlDeviceGetGraphicsRunningProcesses(handle: int) -> list[SimpleNamespace]:  # noqa: N802
    _gpu(handle, "processes")
    return []
