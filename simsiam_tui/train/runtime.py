"""Worker plumbing: device choice, seeding, fault injection for tests, thread-safe events and a heartbeat."""

from __future__ import annotations

import os
import random
import sys
import threading
import time
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
    """The worker's status.json: every field it set is kept in memory and written whole, under the run's lock.

    Fields other processes wrote (the launcher's slot, a stop request) are kept; fields the worker owns
    (state, pid, heartbeat, message) are the worker's, so a `lost` written while it was paused is undone by
    its next heartbeat, and an unreadable file is replaced by the full status, never by a stub. A run folder
    that vanished is never recreated: `gone` turns True and writes stop.
    """

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self.lock = threading.Lock()
        self.mine: dict[str, Any] = {}
        self.whole: dict[str, Any] = {}
        self.gone = False
        if path is not None:
            from simsiam_tui.store import read_status

            self.whole = read_status(path) or {}

    def update(self, **fields: Any) -> None:
        """Merge fields into status.json (no-op on non-main ranks and once the run folder is gone)."""
        if self.path is None:
            return
        from simsiam_tui.store import merge_status

        with self.lock:
            self.mine.update(fields)
            if self.gone:
                return
            try:
                self.whole = merge_status(self.path, dict(self.mine), base=self.whole)
            except FileNotFoundError:  # the run folder was removed under us
                self.gone = True


class _Probe:
    """GPU and host fields of `system` events; each probe's first failure is written to worker.log once."""

    def __init__(self) -> None:
        self.reported: set[str] = set()

    def _once(self, name: str, message: str) -> None:
        if name not in self.reported:
            self.reported.add(name)
            print(f"probe: {name}: {message} (reported once; system events go on without it)", file=sys.stderr, flush=True)

    def __call__(self, pid: int) -> dict[str, Any]:
        from simsiam_tui.probe import gpu_fields, host_snapshot, nvml_error, probe_errors

        out: dict[str, Any] = dict(host_snapshot(pid))
        out.update(gpu_fields(pid, assigned_gpu()))
        if nvml_error() and assigned_gpu() is not None:
            self._once("gpu", nvml_error() or "")
        for name, message in probe_errors().items():
            self._once(name, message)
        return out


def assigned_gpu() -> int | None:
    """The NVML index of this worker's GPU: the first of CUDA_VISIBLE_DEVICES when it lists indices."""
    first = os.environ.get("CUDA_VISIBLE_DEVICES", "").split(",")[0].strip()
    return int(first) if first.isdigit() else None


class Heartbeat(threading.Thread):
    """Every `interval` seconds: status heartbeat and a `system` event, even during a long kNN eval.

    A run folder that vanished asks the loop to stop (`stop.request`), so the worker ends cleanly.
    """

    def __init__(
        self,
        events: SafeEvents,
        status: StatusFile,
        interval: float,
        position: Callable[[], tuple[int, float]],
        stop: Any = None,
    ) -> None:
        super().__init__(name="heartbeat", daemon=True)
        self.events, self.status, self.interval, self.position = events, status, interval, position
        self.stop_flag = stop
        self.stop_event = threading.Event()
        self.snapshot = _Probe()

    def folder_gone(self) -> bool:
        """True once the run folder no longer exists."""
        return self.status.gone or (self.status.path is not None and not self.status.path.parent.is_dir())

    def beat(self) -> None:
        """One heartbeat: status + system event."""
        if self.folder_gone():
            if self.stop_flag is not None and not self.stop_flag.requested:
                print(f"run folder {self.status.path.parent if self.status.path else ''} was removed; stopping", file=sys.stderr, flush=True)
                self.stop_flag.request("run folder removed")
            return
        step, epoch = self.position()
        self.status.update(heartbeat=time.time())
        self.events.emit("system", step=step, epoch=epoch, **self.snapshot(os.getpid()))

    def run(self) -> None:
        # The first beat comes at once: a run shorter than one interval still records its GPU's use.
        said: set[str] = set()
        while True:
            try:
                self.beat()
            except OSError as exc:  # a full disk or a vanished file: say so once, keep beating
                if str(exc) not in said:
                    said.add(str(exc))
                    print(f"heartbeat: {exc}", file=sys.stderr, flush=True)
            if self.stop_event.wait(self.interval):
                return

    def stop(self) -> None:
        """Stop beating and wait for the thread (before the terminal status is written)."""
        self.stop_event.set()
        if self.is_alive():
            self.join(timeout=10)
