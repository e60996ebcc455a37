"""Tail events.jsonl by byte offset and keep per-kind columnar series, showing no step twice after a resume."""

from __future__ import annotations

import json
import math
from array import array
from bisect import bisect_right
from pathlib import Path
from typing import Any

import msgspec

from simsiam_tui.store.files import TO_END, read_range
from simsiam_tui.store.schema import EVENT_STRUCTS, EventBase

SERIES_KINDS = ("train", "collapse", "eval", "system")
# Fields that are never a numeric column, even when null: tags and non-numbers (a null std_quantiles is no metric).
NOT_COLUMNS = frozenset({"v", "kind", "std_quantiles", "path", "reason"})


_FIELDS = {kind: frozenset(struct.__struct_fields__) for kind, struct in EVENT_STRUCTS.items()}
_COMMON = frozenset(EventBase.__struct_fields__)


def valid_event(event: Any) -> bool:
    """True for a JSON object with a string `kind` whose known fields decode as the protocol's Struct for it.

    Unknown kinds and fields pass (newer writers): only the fields the protocol names are checked, by type
    and range (a step past int64 or a string epoch is a bad line). null stands for a value that is not finite.
    """
    if type(event) is not dict or type(event.get("kind")) is not str:
        return False
    kind = event["kind"]
    struct = EVENT_STRUCTS.get(kind, EventBase)
    names = _FIELDS.get(kind, _COMMON)
    try:
        msgspec.convert({k: v for k, v in event.items() if k in names}, struct)
    except msgspec.ValidationError:
        return False
    return True


class EventTail:
    """Incremental reader: each poll returns the complete events appended since the last one."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.offset = 0
        self._partial = b""
        self.bad_lines = 0
        self.last_error: str | None = None

    @property
    def complete_offset(self) -> int:
        """Bytes of complete lines read so far (the offset minus a partial last line still waiting)."""
        return self.offset - len(self._partial)

    def seek(self, offset: int) -> None:
        """Continue after `offset`, the end of a complete line (what another reader already parsed)."""
        self.offset, self._partial = offset, b""

    def read_complete(self, max_bytes: int | None = 64 << 20) -> tuple[bytes, bool, bool]:
        """The complete lines appended since the last read (a partial last line waits for its newline).

        Returns (lines, more, reset): `more` when the file holds more than `max_bytes` past the offset,
        `reset` when the file was truncated or replaced, so the caller drops what it read before.
        """
        reset = False
        want = TO_END if max_bytes is None else max_bytes
        try:  # through the store's opener: never a FIFO or a link, and bounded in time (a hung filesystem)
            chunk, size = read_range(self.path, self.offset, want)
            if size < self.offset:  # truncated or replaced: start again
                self.offset, self._partial, reset = 0, b"", True
                chunk, size = read_range(self.path, 0, want)
        except FileNotFoundError:
            return b"", False, False
        except OSError as exc:
            self.last_error = f"cannot read {self.path.name}: {exc.strerror}"
            return b"", False, False
        self.offset += len(chunk)
        data = self._partial + chunk
        cut = data.rfind(b"\n") + 1
        self._partial = data[cut:]
        return data[:cut], self.offset < size, reset

    def poll(self, max_bytes: int | None = 64 << 20) -> list[dict[str, Any]]:
        """Read what was appended since the last poll; a partial last line waits for its newline."""
        data, _, _ = self.read_complete(max_bytes)
        lines = data.split(b"\n")
        events = []
        for line in lines:
            if not line.strip():
                continue
            try:
                event = json.loads(line)
            except (ValueError, RecursionError):  # RecursionError: a line of thousands of nested brackets
                event = None
            if not valid_event(event):
                self.bad_lines += 1
                self.last_error = f"{self.bad_lines} unreadable line(s) in {self.path.name}"
                continue
            events.append(event)
        return events


def number(value: Any) -> float:
    """A JSON value as a float column entry: NaN for anything not a number (bools, strings, null)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return math.nan
    try:
        return float(value)
    except OverflowError:  # an integer past 1e308
        return math.nan


class KindSeries:
    """Columns (float arrays) of one event kind: step, epoch, time and every numeric field."""

    def __init__(self) -> None:
        self.columns: dict[str, array[float]] = {"step": array("d"), "epoch": array("d"), "time": array("d")}

    def __len__(self) -> int:
        return len(self.columns["step"])

    def append(self, event: dict[str, Any]) -> None:
        n = len(self)
        for key, value in event.items():
            if key in NOT_COLUMNS or key in self.columns:
                continue
            if isinstance(value, (int, float)) and not isinstance(value, bool) or value is None:
                self.columns[key] = array("d", [math.nan]) * n
        for key, column in self.columns.items():
            column.append(number(event.get(key)))

    def truncate_after(self, step: float) -> None:
        """Drop every row logged after `step` (they are redone after a resume from it)."""
        cut = bisect_right(self.columns["step"], step)
        for column in self.columns.values():
            del column[cut:]

    def column(self, name: str) -> array[float]:
        """A column by name; an empty array if no event had it."""
        return self.columns.get(name, array("d"))

    def last(self, name: str) -> float | None:
        """The last finite value of a column, or None."""
        column = self.columns.get(name)
        if column is None:
            return None
        for value in reversed(column):
            if not math.isnan(value):
                return float(value)
        return None


class RunHistory:
    """Everything known from one run's events, deduplicated across resumes; feed it with apply()."""

    def __init__(self) -> None:
        self.series = {kind: KindSeries() for kind in SERIES_KINDS}
        self.starts: list[dict[str, Any]] = []
        self.checkpoints: list[dict[str, Any]] = []
        self.end: dict[str, Any] | None = None
        self.last: dict[str, dict[str, Any]] = {}

    def apply(self, events: list[dict[str, Any]]) -> None:
        """Add events in file order."""
        for event in events:
            kind = event.get("kind")
            if kind == "start":
                self._on_start(event)
            elif kind in self.series:
                self.series[kind].append(event)
            elif kind == "checkpoint":
                self.checkpoints.append(event)
            elif kind == "end":
                self.end = event
            if isinstance(kind, str):
                self.last[kind] = event

    def _on_start(self, event: dict[str, Any]) -> None:
        self.starts.append(event)
        self.end = None
        resumed = event.get("resumed_from_step")
        if isinstance(resumed, (int, float)):
            for series in self.series.values():
                series.truncate_after(resumed)
            self.checkpoints = [c for c in self.checkpoints if c.get("step", 0) <= resumed]


def dedupe_events(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Drop events that a later resume redid: after `start` with resumed_from_step=S, earlier steps > S go."""
    kept: list[dict[str, Any]] = []
    for event in events:
        resumed = event.get("resumed_from_step") if event.get("kind") == "start" else None
        if isinstance(resumed, (int, float)):
            kept = [e for e in kept if e.get("kind") in ("start", "end") or e.get("step", 0) <= resumed]
        kept.append(event)
    return kept


def read_events(path: str | Path) -> list[dict[str, Any]]:
    """Every complete event of a file, with no step shown twice after a resume."""
    return dedupe_events(EventTail(path).poll(max_bytes=None))


def read_history(path: str | Path) -> RunHistory:
    """A RunHistory of a whole events file."""
    history = RunHistory()
    history.apply(EventTail(path).poll(max_bytes=None))
    return history
