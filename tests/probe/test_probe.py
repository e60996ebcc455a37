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
