"""The events.jsonl writer: schema version 1, buffered, flushed on an interval, fsynced on demand."""

from __future__ import annotations

import json
import math
import os
import time
from pathlib import Path
from typing import Any

SCHEMA_VERSION = 1
KINDS = ("start", "train", "collapse", "eval", "system", "checkpoint", "end")


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
        # O_NOFOLLOW: an events.jsonl planted as a symlink is never written through
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_NOFOLLOW, 0o644)
        self._fh = os.fdopen(fd, "a", encoding="utf-8")

    def emit(self, kind: str, step: int, epoch: float, **fields: Any) -> None:
        """Queue one event; flush when the interval has passed."""
        self._buffer.append(encode_event(kind, step, epoch, fields))
        if time.monotonic() - self._last_flush >= self.flush_every_s:
            self.flush()

    def flush(self, fsync: bool = False) -> None:
        """Write buffered events as whole lines; fsync at checkpoints."""
        if self._buffer:
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
