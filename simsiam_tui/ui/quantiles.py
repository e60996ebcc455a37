"""The per-dimension std quantiles of one run over time, read incrementally from its `collapse` events (no textual)."""

from __future__ import annotations

import json
import math
import threading
from pathlib import Path
from typing import Any

import numpy as np

from simsiam_tui.store.files import TO_END, read_range

BANDS = (0.0, 0.25, 0.5, 0.75, 1.0)  # which quantiles of the logged vector the view draws


class QuantileTrack:
    """`std_quantiles` rows of one run (with step, epoch and time), appended as its events file grows."""

    def __init__(self, events: Path) -> None:
        self.path = Path(events)
        self.offset = 0
        self.partial = b""
        self.lock = threading.Lock()
        self.x: dict[str, list[float]] = {"step": [], "epoch": [], "time": []}
        self.rows: list[list[float]] = []
        self.origin: float | None = None
        self._reading = threading.Lock()  # one reader at a time: a newer read waits for the older one

    def poll(self) -> bool:
        """Read what was appended (call off the UI thread); True when new rows came."""
        with self._reading:
            return self._poll()

    def _poll(self) -> bool:
        events = self._read()
        new = False
        with self.lock:
            for event in events:
                kind = event.get("kind")
                if kind == "start" and self.origin is None and isinstance(event.get("time"), (int, float)):
                    self.origin = float(event["time"])
                if kind == "start" and isinstance(event.get("resumed_from_step"), (int, float)):
                    self._truncate(float(event["resumed_from_step"]))
                if kind != "collapse":
                    continue
                qs = event.get("std_quantiles")
                if not isinstance(qs, list) or not qs or not all(isinstance(q, (int, float)) for q in qs):
                    continue
                for name in self.x:
                    value = event.get(name)
                    self.x[name].append(float(value) if isinstance(value, (int, float)) else math.nan)
                self.rows.append([float(q) for q in qs])
                new = True
        return new

    def _read(self) -> list[dict[str, Any]]:
        """New `start` and `collapse` events; other lines are skipped before parsing (most lines are `train`)."""
        try:
            # the store's bounded opener: never a FIFO, never through a link, never a hang on a hung filesystem
            chunk, size = read_range(self.path, self.offset, TO_END)
            if size < self.offset:  # truncated or replaced: start again
                self.offset, self.partial = 0, b""
                with self.lock:
                    self._truncate(-1.0)
                chunk, size = read_range(self.path, 0, TO_END)
        except OSError:
            return []
        self.offset += len(chunk)
        data = self.partial + chunk
        cut = data.rfind(b"\n") + 1
        data, self.partial = data[:cut], data[cut:]
        begins: set[int] = set()
        for mark in (b'"collapse"', b'"start"'):  # found in C: a long file's train lines are never split or scanned
            pos = data.find(mark)
            while pos >= 0:
                begins.add(data.rfind(b"\n", 0, pos) + 1)
                pos = data.find(mark, data.find(b"\n", pos))
        out = []
        for begin in sorted(begins):
            try:
                event = json.loads(data[begin : data.find(b"\n", begin)])
            except ValueError:
                continue
            if isinstance(event, dict):
                out.append(event)
        return out

    def _truncate(self, step: float) -> None:
        keep = [i for i, s in enumerate(self.x["step"]) if s <= step]
        self.rows = [self.rows[i] for i in keep]
        for name in self.x:
            self.x[name] = [self.x[name][i] for i in keep]

    def bands(self, x_axis: str) -> tuple[np.ndarray, np.ndarray]:
        """(x, Q) with Q[:, j] the BANDS[j] quantile of each logged vector (interpolated between its entries)."""
        with self.lock:
            if not self.rows:
                return np.empty(0), np.empty((0, len(BANDS)))
            # each row is a sorted summary of the std vector: row[i] is its i/(n-1) quantile
            out = np.asarray([np.interp(BANDS, np.linspace(0, 1, len(r)), r) for r in self.rows])
            x = np.asarray(self.x["time" if x_axis == "wall" else x_axis], dtype=float)
            origin = self.origin if self.origin is not None else (x[0] if len(x) else 0.0)
        if x_axis == "wall":
            x = (x - origin) / 60.0
        keep = np.isfinite(x)
        return x[keep], out[keep]
