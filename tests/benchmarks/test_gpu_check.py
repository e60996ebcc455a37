"""benchmarks/gpu_check.sh on a machine without a GPU: one line saying so, exit 0, nothing else run."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def _run(tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    full = {**os.environ, **env}
    return subprocess.run(
        ["bash", str(REPO / "benchmarks" / "gpu_check.sh")], cwd=tmp_path, env=full, capture_output=True, text=True,
        timeout=60,
    )


def test_no_gpu_visible_says_so_in_one_line(tmp_path: Path) -> None:
    result = _run(tmp_path, CUDA_VISIBLE_DEVICES="")
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == ["gpu_check: no NVIDIA GPU visible (nvidia-smi finds none); nothing to check on this machine"]
    assert result.stderr == ""
    assert list(tmp_path.iterdir()) == []  # no venv made, no logs written


def test_no_driver_tools_says_so_in_one_line(tmp_path: Path) -> None:
    fake_bin = tmp_path / "bin"
    fake_bin.mkdir()
    (fake_bin / "nvidia-smi").write_text("#!/bin/sh\necho 'NVIDIA-SMI has failed: no driver' >&2\nexit 9\n")
    (fake_bin / "nvidia-smi").chmod(0o755)
    env = {"PATH": f"{fake_bin}:{os.environ['PATH']}"}
    env_without = {k: v for k, v in os.environ.items() if k != "CUDA_VISIBLE_DEVICES"}
    result = subprocess.run(
        ["bash", str(REPO / "benchmarks" / "gpu_check.sh")], cwd=tmp_path, env={**env_without, **env},
        capture_output=True, text=True, timeout=60,
    )
    assert result.returncode == 0 and len(result.stdout.splitlines()) == 1
    assert "no NVIDIA GPU visible" in result.stdout
