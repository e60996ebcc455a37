"""The background reader: scans roots, tails every run's files by byte offset and samples local GPUs, off the UI thread."""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from simsiam_tui.store import LIVE_STATES
from simsiam_tui.ui.actions import Backend
from simsiam_tui.ui.fastread import shutdown_pool
from simsiam_tui.ui.model import LOCAL_HOST, Catalog

HISTORY_POINTS = 120  # sparkline length per GPU
PER_RUN_S = 0.015  # each run adds this much to the pause between passes (every pass updates each live run's row)


@dataclass
class GpuTrace:
    """One local GPU: its last snapshot and recent utilization and memory (percent)."""

    index: int
    name: str
    last: dict[str, Any]
    util: deque[float | None] = field(default_factory=lambda: deque(maxlen=HISTORY_POINTS))
    mem: deque[float | None] = field(default_factory=lambda: deque(maxlen=HISTORY_POINTS))


@dataclass
class Changes:
    """What one poll pass changed: run keys (new or updated), whether GPUs or the focused log did."""

    runs: set[str] = field(default_factory=set)
    new: list[str] = field(default_factory=list)
    gpus: bool = False
    log: bool = False
    error: str | None = None

    def __bool__(self) -> bool:
        return bool(self.runs or self.new or self.gpus or self.log or self.error)

    def absorb(self, older: Changes) -> None:
        """Take in an earlier pass's changes (their message was coalesced into this one's)."""
        self.runs |= older.runs
        self.new = [*older.new, *(k for k in self.new if k not in older.new)]
        self.gpus |= older.gpus
        self.log |= older.log
        self.error = self.error or older.error


class Poller:
    """Reads the catalog on a thread every `interval` seconds and reports each change through `notify`."""

    def __init__(
        self,
        catalog: Catalog,
        backend: Backend,
        notify: Callable[[Changes], None],
        interval: float = 0.5,
        scan_every: float = 2.0,
        gpu_every: float = 2.0,
        refresh_every: float = 10.0,
    ) -> None:
        self.catalog, self.backend, self.notify = catalog, backend, notify
        self.interval, self.scan_every, self.gpu_every, self.refresh_every = (
            interval,
            scan_every,
            gpu_every,
            refresh_every,
        )
        self.focus: str | None = None
        self.gpus: list[GpuTrace] = []
        self.gpu_note: str | None = None
        self.gpus_probed = False
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._last = {"scan": 0.0, "gpu": 0.0, "refresh": 0.0}
        self.passes = 0
        self.last_error: str | None = None

    def start(self) -> None:
        """Start the thread (daemon: it never keeps the process alive)."""
        self._thread = threading.Thread(target=self._run, name="simsiam-tui-poller", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop the thread and wait briefly for it."""
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=2)
        shutdown_pool()

    def wake(self, rescan: bool = False) -> None:
        """Poll now (after an action, or when the focused run changes)."""
        if rescan:
            self._last["scan"] = 0.0
        self._wake.set()

    def _run(self) -> None:
        while not self._stop.is_set():
            busy = False
            try:
                changes, busy = self.poll_once()
                if changes:
                    self.notify(changes)
            except Exception as exc:  # a reader bug must never stop live updates, nor pass silently
                message = f"reading runs failed: {exc!r}"
                if message != self.last_error:
                    self.last_error = message
                    self.notify(Changes(error=message))
            if not busy:
                self._wake.wait(self.pause())
                self._wake.clear()

    def pause(self) -> float:
        """Seconds between passes: `interval`, longer with many runs (64 runs: about 1 s), so the UI keeps up."""
        return max(self.interval, PER_RUN_S * len(self.catalog.runs))

    def poll_once(self) -> tuple[Changes, bool]:
        """One pass over every run; returns the changes and whether some run still has unread bytes."""
        now = time.monotonic()
        changes = Changes()
        if now - self._last["scan"] >= self.scan_every:
            self._last["scan"] = now
            changes.new = self.catalog.scan()
        refresh = now - self._last["refresh"] >= self.refresh_every
        if refresh:
            self._last["refresh"] = now
        busy = False
        for model in self.catalog.models():
            if refresh and model.status and model.status.get("state") in LIVE_STATES:
                if model.status.get("host") in (None, "", LOCAL_HOST):
                    try:
                        self.backend.refresh(model.paths)
                    except OSError:  # cannot write (disk full, read-only): status.json stays as it is
                        pass
            if model.poll():
                changes.runs.add(model.key)
            busy |= not model.caught_up and not model.reading_elsewhere
        focus = self.catalog.get(self.focus) if self.focus else None
        if focus is not None and focus.poll_log():
            changes.log = True
        if now - self._last["gpu"] >= self.gpu_every:
            self._last["gpu"] = now
            changes.gpus = self._probe()
        self.passes += 1
        return changes, busy

    def _probe(self) -> bool:
        try:
            snapshot, note = self.backend.gpus()
        except Exception as exc:
            snapshot, note = [], f"probe failed: {exc}"
        self.gpu_note = note
        self.gpus_probed = True
        by_index = {g.index: g for g in self.gpus}
        traces: list[GpuTrace] = []
        for gpu in snapshot:
            index = int(gpu.get("index", len(traces)))
            trace = by_index.get(index) or GpuTrace(index, str(gpu.get("name") or f"GPU {index}"), gpu)
            trace.last = gpu
            trace.util.append(_num(gpu.get("util_pct")))
            used, total = _num(gpu.get("mem_used_mb")), _num(gpu.get("mem_total_mb"))
            trace.mem.append(100.0 * used / total if used is not None and total else None)
            traces.append(trace)
        self.gpus = traces
        return True


def _num(value: Any) -> float | None:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None
