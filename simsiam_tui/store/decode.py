"""A fast typed decoder for events.jsonl: msgspec Structs per metric kind decode and validate in one pass.

The frequent kinds (train, collapse, eval, checkpoint) written by this project's worker decode as Structs
straight into columns. Anything else (start, end, system, an unknown kind or field, a wrong type, a
garbage line) takes the reader's own path with the store's rules (json, valid_event): a bad line is
counted and skipped, never raised. Structs are never looser than valid_event. msgspec is the store layer's one
third-party import (it measured 200 MB/s on the app's benchmark files, against 20 for orjson or json).
"""

from __future__ import annotations

import json
import math
import re
from array import array
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, Union

import msgspec
from msgspec.structs import astuple

from simsiam_tui.store.cache import read_cache, write_cache
from simsiam_tui.store.files import read_range
from simsiam_tui.store.reader import NOT_COLUMNS, SERIES_KINDS, EventTail, KindSeries, RunHistory, number, valid_event
from simsiam_tui.store.schema import CheckpointEvent, CollapseEvent, EvalEvent, TrainEvent

UNSET = msgspec.UNSET


TypedEvent = Union[TrainEvent, CollapseEvent, EvalEvent, CheckpointEvent]  # noqa: UP007
Event = Union[TypedEvent, dict[str, Any]]  # noqa: UP007
_DECODER = msgspec.json.Decoder(TypedEvent)


def as_dict(event: Event) -> dict[str, Any]:
    """An event as the reader's plain dict (a Struct's unset fields left out)."""
    if isinstance(event, dict):
        return event
    out: dict[str, Any] = {"kind": event.__struct_config__.tag}
    for name in event.__struct_fields__:
        value = getattr(event, name)
        if value is not UNSET:
            out[name] = value
    return out


def decode_chunk(data: bytes, tail: EventTail | None = None) -> list[Event]:
    """Events of the complete lines in `data`, in file order: Structs where they fit, dicts otherwise.

    One line, one event, as the reader reads them (msgspec's decode_lines would let a value span lines):
    a line that does not fit a Struct goes through the reader's rules (json, valid_event); bad lines are
    counted on `tail` and skipped.
    """
    decode = _DECODER.decode
    out: list[Event] = []
    for line in data.split(b"\n"):
        if not line:
            continue
        try:
            out.append(decode(line))
        except (msgspec.ValidationError, msgspec.DecodeError, RecursionError):
            _slow_line(line, tail, out)
    return out


def _slow_line(line: bytes, tail: EventTail | None, out: list[Event]) -> None:
    if not line.strip():
        return
    try:
        event = json.loads(line)
    except (ValueError, RecursionError):  # RecursionError: thousands of nested brackets
        event = None
    if not valid_event(event):
        if tail is not None:
            tail.bad_lines += 1
            tail.last_error = f"{tail.bad_lines} unreadable line(s) in {tail.path.name}"
        return
    out.append(event)


def _extend_structs(series: KindSeries, events: list[Any]) -> None:
    """Append Structs of one kind column-wise: a column per numeric field that any of them set."""
    n = len(series)
    columns = series.columns
    fields = events[0].__struct_fields__
    transposed = zip(*map(astuple, events), strict=True)  # one tuple per field, in C
    values = {f: col for f, col in zip(fields, transposed, strict=True) if f not in NOT_COLUMNS}
    names = list(values)
    for name in names:
        if name not in columns and any(v is not UNSET for v in values[name]):
            columns[name] = array("d", [math.nan]) * n
    for name, column in columns.items():
        col = values.get(name)
        if col is None:
            column.extend(array("d", [math.nan]) * len(events))
            continue
        try:
            values_d = array("d", col)  # every value a number: one C loop (extend would stop half-way)
        except TypeError:  # None (a diverged loss) or unset: NaN, as the reader does
            values_d = array("d", [math.nan if v is None or v is UNSET else v for v in col])
        column.extend(values_d)


def _extend_dicts(series: KindSeries, events: list[dict[str, Any]]) -> None:
    """Append dict events of one kind column-wise, with the reader's rule for every value."""
    n = len(series)
    columns = series.columns
    keys = set().union(*events) - NOT_COLUMNS - set(columns)
    for key in keys:
        if any(_makes_column(e[key]) for e in events if key in e):
            columns[key] = array("d", [math.nan]) * n
    for key, column in columns.items():
        column.extend(number(e.get(key, math.nan)) for e in events)


def _makes_column(value: Any) -> bool:
    return value is None or (isinstance(value, (int, float)) and not isinstance(value, bool))


def bulk_apply(history: RunHistory, events: Iterable[Event]) -> None:
    """RunHistory.apply for many decoded events, in order: runs of one metric kind column-wise, the rest one by one."""
    pending: list[Any] = []
    pending_kind: tuple[str, bool] | None = None

    def flush() -> None:
        if pending and pending_kind is not None:
            kind, typed = pending_kind
            (_extend_structs if typed else _extend_dicts)(history.series[kind], pending)
            history.last[kind] = as_dict(pending[-1])
            pending.clear()

    for event in events:
        typed = not isinstance(event, dict)
        kind = event.get("kind") if isinstance(event, dict) else event.__struct_config__.tag
        if kind in SERIES_KINDS:
            key = (kind, typed)
            if key != pending_kind:
                flush()
                pending_kind = key
            pending.append(event)
        else:
            flush()
            pending_kind = None
            history.apply([as_dict(event)])
    flush()


Select = Callable[[bytes], bytes]


def read_span(
    path: Path,
    start: int,
    end: int,
    block: int = 8 << 20,
    history: RunHistory | None = None,
    select: Select | None = None,
) -> tuple[RunHistory, int, int, str | None]:
    """A RunHistory of the complete lines in bytes [start, end) of a file, read in blocks (onto `history` if given).

    With `select`, only the lines it picks out of each block are decoded (a skim: see skim_lines).
    Returns (history, offset after the last complete line, bad lines, last error).
    """
    history = RunHistory() if history is None else history
    tail = EventTail(path)
    offset, partial = start, b""
    try:
        while offset < end:  # a block at a time, each read bounded in time by the store's opener
            chunk, _ = read_range(path, offset, min(block, end - offset))
            if not chunk:
                break
            offset += len(chunk)
            data = partial + chunk
            cut = data.rfind(b"\n") + 1
            partial = data[cut:]
            lines = data[:cut]
            bulk_apply(history, decode_chunk(lines if select is None else select(lines), tail))
    except OSError as exc:
        tail.last_error = f"cannot read {path.name}: {exc.strerror}"
    return history, offset - len(partial), tail.bad_lines, tail.last_error


def thin_history(history: RunHistory, rows: int, head: int = 16, tail: int = 256) -> RunHistory:
    """The same history with at most about `rows` rows per kind: the first `head`, the last `tail`, a stride between.

    For runs that are not drawn: the table's last values and the verdict's first and last rows stay
    exact; the middle is a preview until the run is read again at full resolution. In place; returned.
    """
    for series in history.series.values():
        n = len(series)
        if n <= rows:
            continue
        middle = max(1, rows - head - tail)
        stride = max(1, -(-(n - head - tail) // middle))  # ceil: at most `middle` rows between
        for name, column in series.columns.items():
            series.columns[name] = column[:head] + column[head : n - tail : stride] + column[n - tail :]
    return history


TRAIN_PREFIX = b'{"v":1,"kind":"train",'  # a train event as this project's worker writes it (store.events, compact)
_OTHER_LINE = re.compile(rb'\n(?!\{"v":1,"kind":"train",)')  # where every other line starts (after its newline)
HEAD_LINES = 64  # the first lines of a file are decoded whole: the first rows stay exact
TAIL_BYTES = 256 << 10  # so are the last bytes of a skimmed span: the last rows (the table's values) stay exact


def skim_lines(every: int, head: int) -> Select:
    """A read_span selection for a thin history: every line but train lines, and a train line every `every` bytes.

    Train lines as the worker writes them are the bulk of a file; every other line (collapse, eval,
    checkpoint, end, a line of another writer's spacing, a garbage line) is decoded and checked as in a
    whole read, so the other kinds' columns, checkpoints and the end stay exact. A block that mentions
    "start" (a resume, whose order against the rows around it matters) is decoded whole. Train lines left
    out are not checked: a bad one among them is counted when the run is read whole (on the charts).
    """
    left = head

    def select(data: bytes) -> bytes:
        nonlocal left
        cut = 0
        while left > 0 and cut < len(data):
            newline = data.find(b"\n", cut)
            cut = len(data) if newline < 0 else newline + 1
            left -= 1
        if data.find(b'"start"', cut) >= 0:  # (the run's first start is among the head lines)
            return data
        sampled = []
        for pos in range(cut, len(data), every):
            begin = data.rfind(b"\n", cut, pos) + 1 or cut
            end = data.find(b"\n", begin)
            line = data[begin : end if end >= 0 else len(data)]
            if line.startswith(TRAIN_PREFIX):
                sampled.append(line)
        others = [] if data.startswith(TRAIN_PREFIX, cut) else [_line_at(data, cut)]
        others += [_line_at(data, m.end()) for m in _OTHER_LINE.finditer(data, cut)]
        # kinds apart, train rows before the other kinds' lines: without a start, only each kind's own order counts
        return data[:cut] + b"\n".join(sampled + others)

    return select


def _line_at(data: bytes, begin: int) -> bytes:
    end = data.find(b"\n", begin)
    return data[begin : end if end >= 0 else len(data)]


def skim_span(
    path: Path, start: int, end: int, rows: int, history: RunHistory | None = None, block: int = 8 << 20
) -> tuple[RunHistory, int, int, str | None]:
    """read_span for a thin history of about `rows` train rows: a skim of [start, end), its last TAIL_BYTES whole."""
    cut = _line_start(path, max(start, end - TAIL_BYTES), end)
    every = max(64, (cut - start) // max(1, rows))
    history, offset, bad, error = read_span(
        path, start, cut, block, history, skim_lines(every, HEAD_LINES if start == 0 else 0)
    )
    if offset < cut:  # a line longer than the skim's blocks, or a read error: the rest is read whole
        cut = offset
    history, offset, more_bad, more_error = read_span(path, cut, end, block, history)
    return history, offset, bad + more_bad, more_error or error


def _line_start(path: Path, offset: int, end: int) -> int:
    """The first line start at or after `offset` (the byte after a newline), or `end`."""
    if offset == 0:
        return 0
    try:
        data, _ = read_range(path, offset - 1, min(end - offset + 1, 1 << 20))
    except OSError:
        return offset
    newline = data.find(b"\n")
    return offset + newline if newline >= 0 else end


def load_history(
    path: str, end: int, rows: int | None, use_cache: bool = False
) -> tuple[RunHistory, int, int, str | None]:
    """read_span of [0, end) of an events file, thinned to `rows` per kind unless None (a reader process's job).

    With `use_cache`, a valid events.cache (store.cache) stands in for the bytes it covers when it holds the
    rows asked for (a whole one for a whole read, any for a thin one), so only the new tail is decoded; then
    the cache is written again, as read: whole after a whole read (a run on the charts opens whole next
    time), thin otherwise.
    """
    events = Path(path)
    history, start, bad, error = RunHistory(), 0, 0, None
    cached = read_cache(events) if use_cache else None
    if cached is not None and (rows is not None or cached.rows is None):
        history, start, bad, error = cached.history, cached.offset, cached.bad_lines, cached.last_error
    else:
        cached = None
    if rows is None:
        history, offset, more_bad, more_error = read_span(events, start, max(start, end), history=history)
    else:  # thin anyway: a skim of the train lines, every other line decoded
        history, offset, more_bad, more_error = skim_span(events, start, max(start, end), rows, history=history)
    bad, error = bad + more_bad, more_error or error
    if rows is not None:
        thin_history(history, rows)
    if use_cache and (cached is None or offset > start):
        write_cache(events, history, offset, rows, bad, error)
    return history, offset, bad, error
