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


def test_nvml_parsing_with_a_fake_driver(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    """The NVML path on a machine without GPUs: the fake pynvml with two GPUs and one failing call."""
    from simsiam_tui.probe import nvml, probe_errors
    from tests.fakes import gpu, use_fake_nvml

    gpus = [
        gpu(0, util=57, mem_used_mb=3072, procs=[{"pid": 4242, "mem_mb": 1024}, {"pid": 7, "mem_mb": None}]),
        gpu(1, fail=["processes"]),
    ]
    use_fake_nvml(monkeypatch, tmp_path, gpus)
    snap = nvml.gpu_snapshot()
    assert [g["index"] for g in snap] == [0, 1]
    assert snap[0]["name"] == "Fake H100 #0" and snap[0]["util_pct"] == 57.0 and snap[0]["mem_total_mb"] == 80 * 1024
    assert snap[0]["processes"] == [{"pid": 4242, "mem_used_mb": 1024.0}, {"pid": 7, "mem_used_mb": None}]
    assert snap[1]["processes"] == []
    assert "gpu processes" in probe_errors()  # the failure is kept for worker.log, not swallowed
    assert nvml.gpu_for_pid(4242)["index"] == 0
    assert nvml.gpu_fields(4242) == {
        "gpu_index": 0,
        "gpu_util_pct": 57.0,
        "gpu_mem_used_mb": 3072.0,
        "gpu_mem_total_mb": 81920.0,
        "gpu_proc_mem_mb": 1024.0,
    }
    assert nvml.nvml_error() is None


def test_nvml_init_failure_is_empty(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    from simsiam_tui.probe import nvml
    from tests.fakes import use_fake_nvml

    use_fake_nvml(monkeypatch, tmp_path, [], init_error="Driver Not Loaded")
    assert nvml.gpu_snapshot() == [] and nvml.gpu_for_pid(1) is None
    assert "Driver Not Loaded" in nvml.nvml_error()
