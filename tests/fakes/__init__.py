"""Test stand-ins for things this machine may lack: an NVIDIA driver (pynvml) and a full or read-only disk."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

FAKES = Path(__file__).resolve().parent
REPO = FAKES.parents[1]


def gpu(index: int, util: float = 50, mem_used_mb: float = 1000, mem_total_mb: float = 81920, **extra: Any) -> dict:
    """One fake GPU's description (see tests/fakes/pynvml.py)."""
    return {
        "name": f"Fake H100 #{index}",
        "util": util,
        "mem_used_mb": mem_used_mb,
        "mem_total_mb": mem_total_mb,
        **extra,
    }


def nvml_env(tmp: Path, gpus: list[dict], **config: Any) -> dict[str, str]:
    """Environment for a subprocess that sees the fake pynvml with these GPUs (the file can be rewritten later)."""
    path = tmp / "fake_nvml.json"
    path.write_text(json.dumps({"gpus": gpus, **config}))
    pythonpath = os.pathsep.join([str(FAKES), str(REPO), os.environ.get("PYTHONPATH", "")])
    return {"PYTHONPATH": pythonpath, "SIMSIAM_FAKE_NVML": str(path)}


def use_fake_nvml(monkeypatch: Any, tmp: Path, gpus: list[dict], **config: Any) -> None:
    """In this process: the fake pynvml in sys.modules, the probe's NVML state reset."""
    import importlib.util

    from simsiam_tui.probe import nvml

    env = nvml_env(tmp, gpus, **config)
    monkeypatch.setenv("SIMSIAM_FAKE_NVML", env["SIMSIAM_FAKE_NVML"])
    spec = importlib.util.spec_from_file_location("pynvml", FAKES / "pynvml.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    monkeypatch.setitem(sys.modules, "pynvml", module)
    monkeypatch.setattr(nvml, "_state", {"ready": False, "error": None})
    monkeypatch.setattr(nvml, "_errors", {})


def faultfs_env(folder: Path, errno_name: str) -> dict[str, str]:
    """Environment for a subprocess whose writes under `folder` fail with errno_name (ENOSPC, EROFS).

    tests/fakes/faultfs/sitecustomize.py does it, unprivileged: no tmpfs or mount needed.
    """
    pythonpath = os.pathsep.join([str(FAKES / "faultfs"), str(REPO), os.environ.get("PYTHONPATH", "")])
    return {"PYTHONPATH": pythonpath, "FAULTFS_DIR": str(Path(folder).resolve()), "FAULTFS_ERRNO": errno_name}
