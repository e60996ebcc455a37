"""Worker plumbing: device choice, seeding, fault injection for tests, thread-safe events and a heartbeat."""

from __future__ import annotations

import os
import random
import sys
import threading
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch

from simsiam_tui.train.errors import UserFacingError


def select_device(name: str, local_rank: int = 0) -> torch.device:
    """'auto' -> the first CUDA device that CUDA_VISIBLE_DEVICES leaves visible (by local rank), else CPU."""
    if name == "cpu" or (name == "auto" and not torch.cuda.is_available()):
        return torch.device("cpu")
    if not torch.cuda.is_available():
        raise UserFacingError(
            "train.device=cuda but no CUDA device is visible (check CUDA_VISIBLE_DEVICES and the driver); "
            "fix: --set train.device=auto"
        )
    index = local_rank % torch.cuda.device_count()
    torch.cuda.set_device(index)
    return torch.device("cuda", index)


def seed_everything(seed: int) -> None:
    """Seed python, numpy and torch (all devices) so model init is reproducible."""
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


def torch_memory() -> dict[str, float]:
    """This process's CUDA allocator figures in MB (allocated, reserved, peak allocated); {} off CUDA.

    Complements NVML's per-GPU use: the peak is what a batch-size change must fit under.
    """
    if not (torch.cuda.is_available() and torch.cuda.is_initialized()):
        return {}
    dev = torch.cuda.current_device()  # select_device made the run's device current
    mb = 2.0**20
    return {
        "torch_mem_allocated_mb": round(torch.cuda.memory_allocated(dev) / mb, 1),
        "torch_mem_reserved_mb": round(torch.cuda.memory_reserved(dev) / mb, 1),
        "torch_mem_peak_mb": round(torch.cuda.max_memory_allocated(dev) / mb, 1),
    }


MEMORY_KINDS = ("start", "system")  # events that carry torch_memory()


class SafeEvents:
    """An EventWriter shared by the loop and the heartbeat thread (None writer: a non-main rank).

    `start` and `system` events get the CUDA allocator's memory figures added (torch_memory).
    """

    def __init__(self, writer: Any | None) -> None:
        self.writer = writer
        self.lock = threading.Lock()

    def emit(self, kind: str, step: int, epoch: float, **fields: Any) -> None:
        """Write one event (no-op on non-main ranks)."""
        if self.writer is not None:
            if kind in MEMORY_KINDS:
                fields = {**torch_memory(), **fields}
            with self.lock:
                self.writer.emit(kind, step=step, epoch=epoch, **fields)

    def flush(self, fsync: bool = False) -> None:
        """Push buffered events to the file."""
        if self.writer is not None:
            with self.lock:
                self.writer.flush(fsync=fsync)

    def close(self) -> None:
        """Flush, fsync and close."""
        if self.writer is not None:
            with self.lock:
                self.writer.close()


class StatusFile:
    """status.json updates serialized by a lock (the heartbeat thread writes it too)."""

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self.lock = threading.Lock()

    def update(self, **fields: Any) -> None:
        """Merge fields into status.json (no-op on non-main ranks)."""
        if self.path is None:
            return
        from simsiam_tui.store import update_status

        with self.lock:
            update_status(self.path, **fields)


def _probe() -> Callable[[int], dict[str, Any]]:
    """GPU and host snapshots from simsiam_tui.probe when it is importable, else an empty dict."""
    try:
        from simsiam_tui.probe import gpu_snapshot, host_snapshot
    except ImportError:
        return lambda pid: {}

    def snap(pid: int) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for fn in (host_snapshot, gpu_snapshot):
            try:
                out.update(fn(pid) or {})
            except Exception as exc:  # a probe failure never hurts a run; the system event says what failed
                out[f"{fn.__name__}_error"] = repr(exc)
        return out

    return snap


class Heartbeat(threading.Thread):
    """Every `interval` seconds: status heartbeat and a `system` event, even during a long kNN eval."""

    def __init__(
        self, events: SafeEvents, status: StatusFile, interval: float, position: Callable[[], tuple[int, float]]
    ) -> None:
        super().__init__(name="heartbeat", daemon=True)
        self.events, self.status, self.interval, self.position = events, status, interval, position
        self.stop_event = threading.Event()
        self.snapshot = _probe()

    def beat(self) -> None:
        """One heartbeat: status + system event."""
        step, epoch = self.position()
        self.status.update(heartbeat=time.time())
        self.events.emit("system", step=step, epoch=epoch, **self.snapshot(os.getpid()))

    def run(self) -> None:
        while not self.stop_event.wait(self.interval):
            try:
                self.beat()
            except Exception:  # a missed beat never stops the run; worker.log gets the traceback
                traceback.print_exc(file=sys.stderr)

    def stop(self) -> None:
        """Stop beating and wait for the thread (before the terminal status is written)."""
        self.stop_event.set()
        if self.is_alive():
            self.join(timeout=10)
