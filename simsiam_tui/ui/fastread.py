"""Fast event reading for the app: the store's typed decoder, a sampled preview of long files, and a worker pool.

Long files are read whole in worker processes (store.decode.load_history), so the UI process's GIL stays
free for drawing and keys; the poller thread only tails what is appended afterwards.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import signal
import sys
from concurrent.futures import Future, ProcessPoolExecutor
from pathlib import Path
from typing import Any

from simsiam_tui.store import EventTail
from simsiam_tui.store.decode import Event, as_dict, bulk_apply, decode_chunk, load_history, thin_history
from simsiam_tui.store.files import read_ranges
from simsiam_tui.store.reader import RunHistory

Loaded = tuple[RunHistory, int, int, str | None]  # load_history's result: history, offset, lines, cache note

__all__ = ["Event", "bulk_apply", "decode_chunk", "parse_lines", "preview_events", "shutdown_pool", "submit_load", "thin_history"]

PREVIEW_MIN_BYTES = 8 << 20  # files larger than this get a sampled preview first, then a worker process reads them
PREVIEW_BLOCKS = 64  # evenly spaced blocks read for the preview
PREVIEW_BLOCK_BYTES = 4 << 10
PREVIEW_TAIL_BYTES = 64 << 10  # the end of the file, read whole: last values and the verdict are exact
POOL_WORKERS = max(1, min(4, (os.cpu_count() or 1) - 1))  # leave a core to the UI

_pool: ProcessPoolExecutor | None = None
_pool_failed = False
_pids: Any = None  # a SimpleQueue each worker puts its pid on
_known_pids: list[int] = []
pool_error: str | None = None  # why worker processes could not start (the app then reads in-process)


def preview_events(path: Path, size: int) -> tuple[list[Event], int]:
    """A sample of a long events file (evenly spaced blocks plus its whole tail) and the offset read to."""
    events: list[Event] = []
    tail_start = max(0, size - PREVIEW_TAIL_BYTES)
    middle = [(tail_start * i // PREVIEW_BLOCKS, PREVIEW_BLOCK_BYTES) for i in range(1, PREVIEW_BLOCKS)]
    try:  # the store's opener, one bounded call: never a FIFO, never through a link, never a hang
        blocks, _ = read_ranges(path, [(0, PREVIEW_BLOCK_BYTES), *middle, (tail_start, size - tail_start)])
    except OSError:
        return [], 0
    head, block = blocks[0], blocks[-1]
    events += decode_chunk(head[: head.rfind(b"\n") + 1])
    for sample in blocks[1:-1]:
        first, last = sample.find(b"\n") + 1, sample.rfind(b"\n") + 1
        if 0 < first < last:
            # keep starts (resume dedupe) but sample only the metric kinds from the middle
            events += [e for e in decode_chunk(sample[first:last]) if not (isinstance(e, dict) and e.get("kind") == "end")]
    first = block.find(b"\n") + 1 if tail_start else 0
    last = block.rfind(b"\n") + 1
    events += decode_chunk(block[first:last])
    return events, tail_start + last


def submit_load(path: Path, end: int, rows: int | None, use_cache: bool = False) -> Future[Loaded] | None:
    """Read bytes [0, end) of an events file in a worker process (thinned to `rows` per kind unless None).

    With `use_cache`, the worker starts from a valid events.cache and writes it again (store.decode.load_history).
    None when no worker process can be started (the caller reads in-process instead).
    """
    global _pool, _pool_failed, _pids
    if _pool_failed:
        return None
    try:
        if _pool is None:
            # forkserver: never fork the app's threads; children import only the store (no textual, no torch)
            context = multiprocessing.get_context("forkserver")
            _start_forkserver()
            _pids = context.SimpleQueue()
            _pool = ProcessPoolExecutor(POOL_WORKERS, mp_context=context, initializer=_tell_pid, initargs=(_pids,))
        return _pool.submit(load_history, str(path), end, rows, use_cache)
    except (OSError, RuntimeError, ValueError) as exc:  # no processes here (a sandbox, a closing interpreter)
        global pool_error
        _pool_failed, pool_error = True, repr(exc)
        return None


def _start_forkserver() -> None:
    """Start the fork server and resource tracker with the real stderr.

    While Textual runs, sys.stderr is its capture object whose fileno() is not a real descriptor, and
    the resource tracker would pass that to its child ("bad value(s) in fds_to_keep").
    """
    from multiprocessing import forkserver

    captured = sys.stderr
    try:
        if sys.__stderr__ is not None:
            sys.stderr = sys.__stderr__
        forkserver.ensure_running()
    finally:
        sys.stderr = captured


def _tell_pid(queue: Any) -> None:
    """A worker process's initializer: report its pid (the executor has no public list of them before Python 3.14)."""
    queue.put(os.getpid())


def worker_pids() -> list[int]:
    """The pids of the reader processes started so far (some may have exited)."""
    if _pids is not None:
        while not _pids.empty():
            _known_pids.append(_pids.get())
    return list(_known_pids)


def shutdown_pool() -> None:
    """Stop the worker processes (when the app closes); a later load starts them again."""
    global _pool, _pids
    if _pool is not None:
        workers = worker_pids()
        _pool.shutdown(wait=False, cancel_futures=True)
        _pool, _pids = None, None
        _known_pids.clear()
        for pid in workers:  # a whole-file read in flight is not worth waiting for when the app closes
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGTERM)


def parse_lines(data: bytes, tail: EventTail | None = None) -> list[dict[str, Any]]:
    """Events of complete lines as the reader's dicts (the app itself keeps decode_chunk's Structs)."""
    return [as_dict(e) for e in decode_chunk(data, tail)]
