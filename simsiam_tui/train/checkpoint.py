"""Checkpoints of tensors and plain values only: written to a temp file then rotated, loaded with weights_only.

`last.pt` is the newest checkpoint and `prev.pt` the one before it. A `last.pt` that is missing, corrupt or
refused (it holds something other than tensors and plain values, e.g. a crafted pickle) falls back to
`prev.pt`, and the caller is told so. Nothing in a checkpoint can run code when it is loaded.
"""

from __future__ import annotations

import errno
import io
import os
import pickle
import random
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import torch

from simsiam_tui.store.files import open_fd
from simsiam_tui.train.errors import CheckpointError, DiskFullError

PREV_NAME = "prev.pt"
DISK_FULL = (errno.ENOSPC, errno.EDQUOT)
# What torch.load raises on a file that is truncated, garbage, or refused by the weights_only unpickler.
LOAD_ERRORS = (pickle.UnpicklingError, RuntimeError, EOFError, ValueError, KeyError, TypeError, AttributeError)


def rng_state(extra: dict[str, torch.Generator] | None = None) -> dict[str, Any]:
    """The python, numpy, torch (and CUDA) RNG states plus named generators, as tensors and plain values."""
    version, mt, gauss = random.getstate()
    kind, keys, pos, has_gauss, cached = np.random.get_state()
    state: dict[str, Any] = {
        "python": {"version": int(version), "state": torch.tensor(mt, dtype=torch.int64), "gauss": gauss},
        "numpy": {
            "kind": str(kind), "keys": torch.from_numpy(np.asarray(keys, dtype=np.int64)), "pos": int(pos),
            "has_gauss": int(has_gauss), "cached": float(cached),
        },  # fmt: skip
        "torch": torch.get_rng_state(),
    }
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        state["cuda"] = torch.cuda.get_rng_state_all()
    state["generators"] = {name: g.get_state() for name, g in (extra or {}).items()}
    return state


def set_rng_state(state: dict[str, Any], extra: dict[str, torch.Generator] | None = None) -> None:
    """Restore the states captured by `rng_state` (CUDA only when present on both sides)."""
    py = state["python"]
    random.setstate((py["version"], tuple(int(v) for v in py["state"].tolist()), py["gauss"]))
    npy = state["numpy"]
    keys = npy["keys"].numpy().astype(np.uint32)
    np.random.set_state((npy["kind"], keys, npy["pos"], npy["has_gauss"], npy["cached"]))
    torch.set_rng_state(state["torch"])
    if "cuda" in state and torch.cuda.is_available():
        try:
            torch.cuda.set_rng_state_all(state["cuda"])
        except (RuntimeError, IndexError):
            pass  # a different number of visible GPUs: keep the fresh CUDA seeds
    for name, g in (extra or {}).items():
        if name in state.get("generators", {}):
            g.set_state(state["generators"][name])


def prev_path(path: Path) -> Path:
    """Where the checkpoint before `path` is kept."""
    return Path(path).with_name(PREV_NAME)


def _write_all(fd: int, data: memoryview) -> None:
    """os.write until every byte is out (a short write is not an error)."""
    while data:
        data = data[os.write(fd, data) :]


def _fsync_dir(folder: Path) -> None:
    """Make a rename durable; a filesystem without directory fsync is fine."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass  # e.g. EINVAL on filesystems that cannot fsync a directory
    finally:
        os.close(fd)


def _free_mb(folder: Path) -> str:
    try:
        return f"{shutil.disk_usage(folder).free / 2**20:.0f} MB free"
    except OSError:
        return "free space unknown"


def save_checkpoint(path: Path, payload: dict[str, Any]) -> None:
    """Write `payload` to a temp file beside `path`, fsync it, then rotate: last.pt -> prev.pt, new -> last.pt.

    The folder must exist (a removed run is never recreated). On failure the temp file is removed; a full
    disk raises DiskFullError, which says so.
    """
    path = Path(path)
    if path.parent.is_symlink():
        raise CheckpointError(f"checkpoint folder '{path.parent}' is a symbolic link; refusing to write through it")
    if not path.parent.is_dir():
        raise CheckpointError(f"checkpoint folder '{path.parent}' is gone (was the run removed?); nothing saved")
    buffer = io.BytesIO()
    torch.save(payload, buffer)  # serialize in memory: a full disk then shows as OSError(ENOSPC), not a torch message
    tmp = path.with_name(f".{path.name}.tmp{os.getpid()}")
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, 0o644)
        try:
            _write_all(fd, buffer.getbuffer())
            os.fsync(fd)
        finally:
            os.close(fd)
        if path.exists():
            os.replace(path, prev_path(path))
        os.replace(tmp, path)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        if exc.errno in DISK_FULL:
            raise DiskFullError(
                f"disk full: no space left on device writing checkpoint {path} ({_free_mb(path.parent)}); "
                "free some space, then `simsiam-tui runs resume RUN`"
            ) from None
        raise
    _fsync_dir(path.parent)


def _reason(exc: BaseException) -> str:
    """The informative line of a torch.load error (the weights_only message is a page long)."""
    lines = [ln.strip() for ln in str(exc).splitlines() if ln.strip()]
    for line in lines:
        if "GLOBAL" in line or "Unsupported" in line or "unpickler" in line.lower():
            return line
    return lines[0] if lines else type(exc).__name__


def load_checkpoint(path: Path, map_location: str | torch.device = "cpu") -> dict[str, Any] | None:
    """Load one checkpoint with weights_only=True; None when there is none; CheckpointError naming it otherwise."""
    path = Path(path)
    try:
        fd = open_fd(path)  # a regular file: a FIFO would hang torch.load, a link could point anywhere
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise CheckpointError(f"cannot read checkpoint '{path}': {exc.strerror}") from None
    try:
        with os.fdopen(fd, "rb") as fh:
            data = torch.load(fh, map_location=map_location, weights_only=True)
    except pickle.UnpicklingError as exc:
        raise CheckpointError(
            f"checkpoint '{path}' was refused: it is corrupt or holds more than tensors and plain values ({_reason(exc)})"
        ) from None
    except OSError as exc:
        raise CheckpointError(f"cannot read checkpoint '{path}': {exc.strerror}") from None
    except LOAD_ERRORS as exc:
        raise CheckpointError(f"checkpoint '{path}' is corrupt ({_reason(exc)})") from None
    if not isinstance(data, dict):
        raise CheckpointError(f"checkpoint '{path}' is not a simsiam-tui checkpoint (a {type(data).__name__})")
    return data


REQUIRED = {"model": dict, "optimizer": dict, "step": int, "steps_per_epoch": int, "rng": dict}


def check_step(path: Path, step: Any, total_steps: int | None) -> int:
    """The checkpoint's step when it lies on the run's schedule (0..total_steps), else CheckpointError."""
    if not isinstance(step, int) or isinstance(step, bool) or step < 0 or (total_steps is not None and step > total_steps):
        limit = f"0..{total_steps}" if total_steps is not None else "0 or more"
        raise CheckpointError(f"checkpoint '{path}' is at step {step!r}, off this run's schedule ({limit})")
    return step


def _check_resumable(path: Path, ckpt: dict[str, Any], total_steps: int | None) -> dict[str, Any]:
    for key, kind in REQUIRED.items():
        if not isinstance(ckpt.get(key), kind):
            raise CheckpointError(f"checkpoint '{path}' is not a simsiam-tui checkpoint ('{key}' is missing or wrong)")
    check_step(path, ckpt["step"], total_steps)
    return ckpt


def load_resumable(
    path: Path, map_location: str | torch.device = "cpu", total_steps: int | None = None
) -> tuple[dict[str, Any] | None, str | None]:
    """(checkpoint, note): last.pt, else prev.pt when last.pt is missing, corrupt, refused or off the schedule
    (its step outside 0..total_steps); note says why.

    (None, None) when there is no checkpoint at all; CheckpointError when none can be loaded.
    """
    path = Path(path)
    prev = prev_path(path)
    try:
        ckpt = load_checkpoint(path, map_location)
        if ckpt is not None:
            return _check_resumable(path, ckpt, total_steps), None
        why = f"{path.name} is missing"
    except CheckpointError as err:
        if not prev.exists():
            raise
        why = str(err)
    fallback = load_checkpoint(prev, map_location)
    if fallback is None:
        return None, None
    _check_resumable(prev, fallback, total_steps)
    return fallback, f"{why}; resumed from {prev.name} (step {fallback['step']}) instead"
