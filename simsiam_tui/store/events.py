"""The events.jsonl writer: schema version 1, buffered, flushed on an interval, fsynced on demand.

Appends are line-framed: a writer that finds the file ending inside a line (a worker killed mid-append,
a full disk) first ends that line, so a torn line costs only itself and the next event stays whole.
"""

from __future__ import annotations

import json
import math
import os
import time
from pathlib import Path
from typing import Any

from simsiam_tui.store.files import open_append
from simsiam_tui.store.schema import KINDS, SCHEMA_VERSION

__all__ = ["KINDS", "SCHEMA_VERSION", "EventWriter", "encode_event"]


def _clean(value: Any) -> Any:
    # JSON has no NaN/inf; a diverged loss is still worth recording, as null.
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_clean(v) for v in value]
    return value


def encode_event(kind: str, step: int, epoch: float, fields: dict[str, Any], now: float | None = None) -> str:
    """One event as a JSON line (with its newline)."""
    event = {"v": SCHEMA_VERSION, "kind": kind, "time": time.time() if now is None else now}
    event["step"] = int(step)
    event["epoch"] = float(epoch)
    event.update(_clean(fields))
    return json.dumps(event, separators=(",", ":"), allow_nan=False) + "\n"


class EventWriter:
    """Append events to a run's events.jsonl; buffered so a step never waits on the disk."""

    def __init__(self, path: str | Path, flush_every_s: float = 1.0) -> None:
        self.path = Path(path)
        self.flush_every_s = flush_every_s
        self._buffer: list[str] = []
        self._last_flush = time.monotonic()
        fd = open_append(self.path)  # never through a symlink, never into a FIFO
        self._torn = _ends_inside_a_line(fd)
        self._fh = os.fdopen(fd, "a", encoding="utf-8")

    def emit(self, kind: str, step: int, epoch: float, **fields: Any) -> None:
        """Queue one event; flush when the interval has passed."""
        self._buffer.append(encode_event(kind, step, epoch, fields))
        if time.monotonic() - self._last_flush >= self.flush_every_s:
            self.flush()

    def flush(self, fsync: bool = False) -> None:
        """Write buffered events as whole lines; fsync at checkpoints."""
        if self._buffer:
            if self._torn:  # end the torn line before the first append: it stays one bad line
                self._buffer.insert(0, "\n")
                self._torn = False
            self._fh.write("".join(self._buffer))
            self._buffer.clear()
        self._fh.flush()
        if fsync:
            os.fsync(self._fh.fileno())
        self._last_flush = time.monotonic()

    def close(self) -> None:
        """Flush, fsync and close."""
        if not self._fh.closed:
            self.flush(fsync=True)
            self._fh.close()

    def __enter__(self) -> EventWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _ends_inside_a_line(fd: int) -> bool:
    """True when the file's last byte is not a newline (its last line was torn)."""
    size = os.fstat(fd).st_size
    return size > 0 and os.pread(fd, 1, size - 1) != b"\n"
