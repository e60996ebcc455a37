"""Fast event parsing for the app: whole chunks at once, and a sampled preview of long files."""

from __future__ import annotations

import json
import math
from array import array
from pathlib import Path
from typing import Any

from simsiam_tui.store import EventTail, KindSeries, RunHistory
from simsiam_tui.store.reader import _number, valid_event

_PLAIN_NUMBERS = {float, int}
PREVIEW_MIN_BYTES = 8 << 20  # files larger than this get a sampled preview first
PREVIEW_BLOCKS = 64  # evenly spaced blocks read for the preview
PREVIEW_BLOCK_BYTES = 4 << 10
PREVIEW_TAIL_BYTES = 64 << 10  # the end of the file, read whole: last values and the verdict are exact


def _one(line: bytes, tail: EventTail | None, out: list[dict[str, Any]]) -> None:
    try:
        event = json.loads(line)
    except (ValueError, RecursionError):
        event = None
    if not valid_event(event):
        if tail is not None:
            tail.bad_lines += 1
            tail.last_error = f"{tail.bad_lines} unreadable line(s) in {tail.path.name}"
        return
    out.append(event)


def parse_lines(data: bytes, tail: EventTail | None = None) -> list[dict[str, Any]]:
    """Events of complete lines; garbage lines are counted on `tail` and skipped, never raised."""
    lines = [line for line in data.split(b"\n") if line.strip()]
    if not lines:
        return []
    try:  # one C-level parse of the whole chunk is a third faster than a loop of loads
        events = json.loads(b"[" + b",".join(lines) + b"]")
        # as many events as lines: a garbage line may otherwise merge with its neighbour into valid JSON
        if len(events) == len(lines) and all(valid_event(e) for e in events):
            return events
    except (ValueError, RecursionError):
        pass  # some line is not JSON: parse line by line below, counting the bad ones
    out: list[dict[str, Any]] = []
    for line in lines:
        _one(line, tail, out)
    return out


def preview_events(path: Path, size: int) -> tuple[list[dict[str, Any]], int]:
    """A sample of a long events file (evenly spaced blocks plus its whole tail) and the offset read to."""
    events: list[dict[str, Any]] = []
    tail_start = max(0, size - PREVIEW_TAIL_BYTES)
    try:
        with path.open("rb") as fh:
            head = fh.read(PREVIEW_BLOCK_BYTES)
            events += parse_lines(head[: head.rfind(b"\n") + 1])
            for i in range(1, PREVIEW_BLOCKS):
                offset = tail_start * i // PREVIEW_BLOCKS
                fh.seek(offset)
                block = fh.read(PREVIEW_BLOCK_BYTES)
                first, last = block.find(b"\n") + 1, block.rfind(b"\n") + 1
                if 0 < first < last:
                    # keep starts (resume dedupe) but sample only the metric kinds from the middle
                    events += [e for e in parse_lines(block[first:last]) if e.get("kind") != "end"]
            fh.seek(tail_start)
            block = fh.read(size - tail_start)
    except OSError:
        return [], 0
    first = block.find(b"\n") + 1 if tail_start else 0
    last = block.rfind(b"\n") + 1
    events += parse_lines(block[first:last])
    return events, tail_start + last


def _extend(series: KindSeries, events: list[dict[str, Any]]) -> None:
    """Append many events of one kind to its columns at once (KindSeries.append, column-wise)."""
    n = len(series)
    columns = series.columns
    keys = set().union(*events) - {"v", "kind"} - set(columns)
    for key in keys:
        first = next(e[key] for e in events if key in e)
        if first is None or (isinstance(first, (int, float)) and not isinstance(first, bool)):
            columns[key] = array("d", [math.nan]) * n
    for key, column in columns.items():
        values = [e.get(key, math.nan) for e in events]
        if set(map(type, values)) <= _PLAIN_NUMBERS:
            column.extend(values)  # all numbers: one C loop
        else:  # a None, a bool, a string or a list somewhere: the store's rule, value by value
            column.extend(_number(v) for v in values)


def bulk_apply(history: RunHistory, events: list[dict[str, Any]]) -> None:
    """RunHistory.apply for many events: metric kinds column-wise, start/checkpoint/end one by one, in order."""
    batch: dict[str, list[dict[str, Any]]] = {kind: [] for kind in history.series}

    def flush() -> None:
        for kind, pending in batch.items():
            if pending:
                _extend(history.series[kind], pending)
                history.last[kind] = pending[-1]
                pending.clear()

    for event in events:
        pending = batch.get(event.get("kind"))  # type: ignore[arg-type]
        if pending is not None:
            pending.append(event)
        else:
            flush()
            history.apply([event])
    flush()
