"""A derived, rebuildable cache of a run's downsampled columns, kept beside events.jsonl in the run folder.

`events.cache` holds a RunHistory (thin, or whole for a run that was on the charts) of the first `offset` bytes of events.jsonl: a magic line, the
header's length, a JSON header (which file it describes, the columns and their row counts, the start,
checkpoint, end and last events) and the columns as raw little-endian float64. Never the source of
truth: it is valid only for the same file (inode) whose bytes before `offset` still hash the same, so
an appended file decodes only its new tail, and a truncated or replaced one is read again in full. A
corrupt or hostile cache is ignored: the header is decoded into typed Structs and checked (kinds,
lengths, sizes, every event by the reader's rules), the data is plain floats, nothing is executed
(no pickle). It is written to a temporary file in the run folder and renamed over `events.cache`, so
a symlink there is replaced, never followed, and nothing is written outside the run folder.
"""

from __future__ import annotations

import hashlib
import os
import stat
import sys
import time
from array import array
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Union

import msgspec

from simsiam_tui.store.files import atomic_write, open_fd
from simsiam_tui.store.reader import NOT_COLUMNS, SERIES_KINDS, KindSeries, RunHistory, valid_event

CACHE_NAME = "events.cache"
MAGIC = b"simsiam-tui events cache v1\n"
MAX_CACHE_BYTES = 64 << 20  # a thin history is under 1 MB, a whole one of 100k train rows about 8 MB
MAX_HEADER_BYTES = 16 << 20
DIGEST_SPAN = 64 << 10  # bytes hashed at each end of the covered prefix
BASE_COLUMNS = ("step", "epoch", "time")
STALE_TEMP_S = 600.0  # a temporary cache file this old belongs to no writer still running


class Header(msgspec.Struct, forbid_unknown_fields=True):
    """What the cache describes: the events file (inode, covered bytes, their digest) and its columns."""

    inode: int
    offset: int
    digest: str
    rows: Union[int, None]  # noqa: UP007 (thinned to this many rows per kind; None: every row)
    bad_lines: int
    last_error: Union[str, None]  # noqa: UP007
    columns: list[tuple[str, str, int]]  # (kind, name, rows), in data order
    starts: list[dict[str, Any]]
    checkpoints: list[dict[str, Any]]
    end: Union[dict[str, Any], None]  # noqa: UP007
    last: dict[str, dict[str, Any]]


@dataclass
class Cached:
    """A history read from a valid cache and where in events.jsonl it stops."""

    history: RunHistory
    offset: int
    rows: int | None
    bad_lines: int
    last_error: str | None


def cache_path(events: Path) -> Path:
    """The cache of an events file: beside it, in the same run folder."""
    return events.with_name(CACHE_NAME)


def prefix_digest(events: Path, offset: int) -> str | None:
    """A hash of the first and last DIGEST_SPAN bytes of the first `offset` bytes of a file; None if unreadable."""
    h = hashlib.blake2b(str(offset).encode(), digest_size=16)
    head_len, tail_start = min(offset, DIGEST_SPAN), max(0, offset - DIGEST_SPAN)
    try:
        with os.fdopen(open_fd(events), "rb") as fh:
            head = fh.read(head_len)
            fh.seek(tail_start)
            tail = fh.read(offset - tail_start)
    except OSError:
        return None
    if len(head) != head_len or len(tail) != offset - tail_start:
        return None  # shorter than `offset`: not the file the cache describes
    h.update(head)
    h.update(tail)
    return h.hexdigest()


def write_cache(
    events: Path, history: RunHistory, offset: int, rows: int | None, bad_lines: int = 0, last_error: str | None = None
) -> bool:
    """Write the cache of `history`, the events of the first `offset` bytes of `events`; False if it cannot be written.

    A read-only or full run folder only costs the next reader a full decode.
    """
    try:
        inode = os.stat(events).st_ino
    except OSError:
        return False
    digest = prefix_digest(events, offset)
    if digest is None:
        return False
    columns: list[tuple[str, str, int]] = []
    data = array("d")
    for kind in SERIES_KINDS:
        for name, column in history.series[kind].columns.items():
            columns.append((kind, name, len(column)))
            data.extend(column)
    if sys.byteorder != "little":
        data.byteswap()
    header = msgspec.json.encode(
        Header(
            inode,
            offset,
            digest,
            rows,
            bad_lines,
            last_error,
            columns,
            history.starts,
            history.checkpoints,
            history.end,
            history.last,
        )
    )
    blob = MAGIC + len(header).to_bytes(8, "little") + header + data.tobytes()
    if len(blob) > MAX_CACHE_BYTES:  # a whole history of millions of rows: readers would refuse it
        return False
    target = cache_path(events)
    _remove_stale_temps(target)
    try:
        atomic_write(target, blob, fsync=False)  # derived data: a crash costs the next reader a full decode
    except OSError:
        return False
    return True


def _remove_stale_temps(target: Path, older_than_s: float = STALE_TEMP_S) -> None:
    """Temporary files of writers killed mid-write (the app closing stops its readers): gone after a while."""
    now = time.time()
    for tmp in target.parent.glob(f".{CACHE_NAME}.*.tmp"):
        try:
            if now - tmp.lstat().st_mtime > older_than_s:
                tmp.unlink()
        except OSError:  # another writer renamed or removed it first
            continue


def _read_blob(path: Path) -> bytes | None:
    """The cache file's bytes: a regular file (no symlink, no device) of a sane size, else None."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0))
    except OSError:
        return None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode) or st.st_size > MAX_CACHE_BYTES:  # a folder, a FIFO, a device
            return None
        with os.fdopen(os.dup(fd), "rb") as fh:
            return fh.read(MAX_CACHE_BYTES + 1)
    except OSError:
        return None
    finally:
        os.close(fd)


def _valid_events(events: list[Any], kind: str) -> bool:
    return all(valid_event(e) and e["kind"] == kind for e in events)


def _history(header: Header, data: memoryview) -> RunHistory | None:
    """The RunHistory a header and its float data describe, or None when they do not fit together."""
    history = RunHistory()
    for series in history.series.values():
        series.columns = {}  # every column, step/epoch/time included, comes from the cache
    position = 0
    for kind, name, rows in header.columns:
        if kind not in SERIES_KINDS or rows < 0 or name in NOT_COLUMNS or name in history.series[kind].columns:
            return None
        end = position + 8 * rows
        if end > len(data):
            return None
        column = array("d")
        column.frombytes(data[position:end])
        if sys.byteorder != "little":
            column.byteswap()
        history.series[kind].columns[name] = column
        position = end
    if position != len(data) or not all(_consistent(s) for s in history.series.values()):
        return None
    if not (_valid_events(header.starts, "start") and _valid_events(header.checkpoints, "checkpoint")):
        return None
    if header.end is not None and not _valid_events([header.end], "end"):
        return None
    if not all(_valid_events([event], kind) for kind, event in header.last.items()):
        return None
    history.starts, history.checkpoints, history.end = header.starts, header.checkpoints, header.end
    history.last = header.last
    return history


def _consistent(series: KindSeries) -> bool:
    """Every column of a kind as long as its step column, and the step, epoch and time columns there."""
    lengths = {len(c) for c in series.columns.values()}
    return all(name in series.columns for name in BASE_COLUMNS) and len(lengths) == 1


def read_cache(events: Path) -> Cached | None:
    """The cached history of `events` when the cache is valid for it (same file, same bytes up to its offset), else None."""
    blob = _read_blob(cache_path(events))
    if blob is None or not blob.startswith(MAGIC) or len(blob) < len(MAGIC) + 8:
        return None
    start = len(MAGIC) + 8
    size = int.from_bytes(blob[len(MAGIC) : start], "little")
    if size > MAX_HEADER_BYTES or start + size > len(blob):
        return None
    try:
        header = msgspec.json.decode(blob[start : start + size], type=Header)
    except (msgspec.ValidationError, msgspec.DecodeError, RecursionError):
        return None
    if header.offset < 0 or header.bad_lines < 0 or (header.rows is not None and header.rows < 1):
        return None
    try:
        st = os.stat(events)
    except OSError:
        return None
    if st.st_ino != header.inode or st.st_size < header.offset:  # replaced, or truncated
        return None
    if prefix_digest(events, header.offset) != header.digest:  # rewritten in place
        return None
    history = _history(header, memoryview(blob)[start + size :])
    if history is None:
        return None
    return Cached(history, header.offset, header.rows, header.bad_lines, header.last_error)
