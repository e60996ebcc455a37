"""The probe on this machine: GPU results are empty without an NVIDIA driver, host results always come back."""

from __future__ import annotations

import os

import pytest

from simsiam_tui.probe import (
    gpu_fields,
    gpu_for_pid,
    gpu_snapshot,
    host_snapshot,
    nvml_error,
    process_alive,
    system_fields,
)

no_nvidia = pytest.mark.skipif(nvml_error() is None, reason="an NVIDIA driver is present")


@no_nvidia
def test_gpu_probe_is_empty_without_driver() -> None:
    assert gpu_snapshot() == []
    assert gpu_for_pid(os.getpid()) is None
    assert gpu_fields(os.getpid()) == {}
    assert "NVML" in nvml_error() or "nvidia-ml-py" in nvml_error()


def test_gpu_snapshot_shape() -> None:
    for gpu in gpu_snapshot():
        assert {"index", "name", "util_pct", "mem_used_mb", "mem_total_mb", "processes"} <= set(gpu)


def test_host_snapshot() -> None:
    snap = host_snapshot(os.getpid())
    assert snap["mem_total_mb"] > 0 and snap["rss_mb"] > 0
    assert set(host_snapshot()) == {"cpu_pct", "mem_used_mb", "mem_total_mb"}
    assert host_snapshot(2**22 + 12345)["rss_mb"] is None  # no such pid: None, not an exception
    assert system_fields(os.getpid())["rss_mb"] > 0


def test_process_alive() -> None:
    assert process_alive(os.getpid()) is True
    assert process_alive(2**22 + 12345) is False


def test_nvml_parsing_with_a_fake_driver(monkeypatch: pytest.MonkeyPatch) -> None:
    """The NVML path on a machine without GPUs: a stand-in pynvml module with two GPUs and one failing call."""
    import sys
    import types

    from simsiam_tui.probe import nvml

    class Mem:
        used, total = 3 * 2**30, 80 * 2**30

    fake = types.ModuleType("pynvml")
    fake.nvmlInit = lambda: None
    fake.nvmlDeviceGetCount = lambda: 2
    fake.nvmlDeviceGetHandleByIndex = lambda i: i
    fake.nvmlDeviceGetName = lambda h: b"NVIDIA H100"
    fake.nvmlDeviceGetUtilizationRates = lambda h: types.SimpleNamespace(gpu=57)
    fake.nvmlDeviceGetMemoryInfo = lambda h: Mem

    def procs(h):
        if h == 1:
            raise RuntimeError("not supported")
        return [types.SimpleNamespace(pid=4242, usedGpuMemory=2**30), types.SimpleNamespace(pid=7, usedGpuMemory=None)]

    fake.nvmlDeviceGetComputeRunningProcesses = procs
    fake.nvmlDeviceGetGraphicsRunningProcesses = lambda h: []
    monkeypatch.setitem(sys.modules, "pynvml", fake)
    monkeypatch.setattr(nvml, "_state", {"ready": False, "error": None})
    snap = nvml.gpu_snapshot()
    assert [g["index"] for g in snap] == [0, 1]
    assert snap[0]["name"] == "NVIDIA H100" and snap[0]["util_pct"] == 57.0 and snap[0]["mem_total_mb"] == 80 * 1024
    assert snap[0]["processes"] == [{"pid": 4242, "mem_used_mb": 1024.0}, {"pid": 7, "mem_used_mb": None}]
    assert snap[1]["processes"] == []
    assert nvml.gpu_for_pid(4242)["index"] == 0
    assert nvml.gpu_fields(4242) == {
        "gpu_index": 0,
        "gpu_util_pct": 57.0,
        "gpu_mem_used_mb": 3072.0,
        "gpu_mem_total_mb": 81920.0,
        "gpu_proc_mem_mb": 1024.0,
    }
    assert nvml.nvml_error() is None


def test_nvml_init_failure_is_empty(monkeypatch: pytest.MonkeyPatch) -> None:
    import sys
    import types

    from simsiam_tui.probe import nvml

    fake = types.ModuleType("pynvml")

    def boom() -> None:
        raise RuntimeError("Driver Not Loaded")

    fake.nvmlInit = boom
    monkeypatch.setitem(sys.modules, "pynvml", fake)
    monkeypatch.setattr(nvml, "_state", {"ready": False, "error": None})
    assert nvml.gpu_snapshot() == [] and nvml.gpu_for_pid(1) is None
    assert "Driver Not Loaded" in nvml.nvml_error()
