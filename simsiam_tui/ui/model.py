"""The app's view of the run roots: one RunModel per run directory, read incrementally (no textual here)."""

from __future__ import annotations

import dataclasses
import socket
import threading
import time
from concurrent.futures import Future
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from simsiam_tui.store import (
    LIVE_STATES,
    EventTail,
    RunHistory,
    RunPaths,
    cache,
    list_runs,
)
from simsiam_tui.store.files import UnsafeFile, read_range
from simsiam_tui.store.run_summary import RunSummary as RunSummary  # re-exported: the widgets show it
from simsiam_tui.store.run_summary import summarize
from simsiam_tui.store.runs import load_config
from simsiam_tui.store.schema import CORRUPT
from simsiam_tui.store.status import load_status
from simsiam_tui.ui.fastread import (
    PREVIEW_MIN_BYTES,
    Loaded,
    bulk_apply,
    decode_chunk,
    preview_events,
    submit_load,
    thin_history,
)

TAIL_IN_PROCESS = 64 << 10  # a cache's tail longer than this is decoded in a reader process, not in the first pass
CHUNK_BYTES = 512 << 10  # one poll parses at most this much of a run in-process (the GIL: a few ms per chunk)
THIN_ROWS = 2048  # rows per kind kept for a long run that is not on the charts
LOCAL_HOST = socket.gethostname()


EXPECT_S = 30.0  # how long an action's expected state stands in for a status.json that has not changed yet


def _relaunched_after(status: dict[str, Any], end: dict[str, Any]) -> bool:
    """True when the run was queued or launched again after its last `end` event (a resume)."""
    ended = end.get("time")
    marks = [status.get(k) for k in ("resumed", "launched", "queued_at")]
    stamps = [m for m in marks if isinstance(m, (int, float))]
    return isinstance(ended, (int, float)) and bool(stamps) and max(stamps) > ended


@dataclass
class RunModel:
    """One run directory: its tail reader, history, status and config, guarded by a lock."""

    paths: RunPaths
    root: Path
    lock: threading.Lock = field(default_factory=threading.Lock)
    history: RunHistory = field(default_factory=RunHistory)
    preview: RunHistory | None = None
    config: dict[str, Any] = field(default_factory=dict)
    status: dict[str, Any] | None = None
    status_problem: str | None = None  # why status.json does not decode (the run shows `corrupt`)
    config_problem: str | None = None
    problem: str | None = None
    version: int = 0
    caught_up: bool = False
    log_lines: list[str] = field(default_factory=list)
    summary: RunSummary | None = None
    wanted_full: bool = False  # on the charts: keep every row (else a long run keeps THIN_ROWS per kind)
    charts_known: bool = False  # the app said which runs are charted (until then, nothing read whole is thinned)
    thinned: bool = False
    expected: tuple[str, float, Any] | None = None  # (state to show, since, status.json's stamp then)

    def __post_init__(self) -> None:
        self.tail = EventTail(self.paths.events)
        self._preview_tail: EventTail | None = None
        self._status_stamp: tuple[int, int] | None = None
        self._log_stamp: tuple[int, int] | None = None
        self._gone = False
        self._job: Future[Loaded] | None = None  # a whole-file read in a worker process
        self._job_thin = False
        self._load_to: int | None = None
        self._large = False

    @property
    def reading_elsewhere(self) -> bool:
        """A worker process is reading this run's file (the poller need not hurry)."""
        return self._job is not None or self._load_to is not None

    @property
    def full_resolution(self) -> bool:
        """Every event read and every row kept."""
        return self.caught_up and not self.thinned and self._job is None

    @property
    def key(self) -> str:
        return str(self.paths.dir)

    @property
    def shown(self) -> RunHistory:
        """The history to draw: the quick preview until the full read has caught up."""
        return self.history if self.caught_up or self.preview is None else self.preview

    # -- reading (poller thread) ------------------------------------------------------------------
    def poll(self, budget: int = CHUNK_BYTES) -> bool:
        """Read what changed since the last poll; True when anything the UI shows changed."""
        if not self.paths.dir.is_dir():
            if not self._gone:
                self._gone = True
                self.problem = "run directory deleted"
                self._summarize()
                return True
            return False
        changed = self._gone
        self._gone = False
        if not self.config:
            config, self.config_problem = load_config(self.paths)
            self.config = config or {}
            changed |= bool(self.config)
        changed |= self._poll_status()
        if not self.caught_up and self.preview is None and self.tail.offset == 0 and self._make_preview():
            changed = True  # the first frame comes from the preview (the full read starts next pass) or the cache
            if self.preview is None and self._load_to is None:  # a cache and a short tail: the tail now
                self._poll_events(budget)  # (a long one goes to a reader process next pass, as a preview's read)
        else:
            changed |= self._poll_events(budget)
        if changed or self.summary is None:
            self._summarize()
            self.version += 1
            return True
        return False

    def _poll_status(self) -> bool:
        try:
            st = self.paths.status.stat()
            stamp = (st.st_mtime_ns, st.st_size)
        except OSError:
            stamp = None
        if stamp == self._status_stamp and self.summary is not None:
            return False
        self._status_stamp = stamp
        self.status, self.status_problem = load_status(self.paths.status) if stamp else (None, None)
        return True

    def _make_preview(self) -> bool:
        try:
            size = self.paths.events.stat().st_size
        except OSError:
            return False
        if size < PREVIEW_MIN_BYTES:
            return False
        self._large = True
        if self._from_cache(size):
            return True
        events, end = preview_events(self.paths.events, size)
        preview = RunHistory()
        bulk_apply(preview, events)
        with self.lock:
            self.preview = preview
        self._preview_tail = EventTail(self.paths.events)
        self._preview_tail.offset = end
        self._load_to = end  # the whole read starts next pass: the first frame does not wait for processes
        return True

    def _from_cache(self, size: int) -> bool:
        """Start from a valid events.cache (a thin history up to its offset); only the tail after it is read."""
        cached = cache.read_cache(self.paths.events)
        if cached is None:
            return False
        with self.lock:
            self.history = cached.history
            self.thinned = cached.rows is not None
        self.tail.seek(cached.offset)
        self.tail.bad_lines, self.tail.last_error = cached.bad_lines, cached.last_error
        if size - cached.offset > TAIL_IN_PROCESS:
            self._load_to = size  # a long tail: a reader process decodes it, from the cache
        return True

    def _write_cache(self) -> None:
        """Keep events.cache near the end of a thin history (the next start of the app reads only what follows)."""
        cache.write_cache(
            self.paths.events,
            self.history,
            self.tail.complete_offset,
            THIN_ROWS,
            self.tail.bad_lines,
            self.tail.last_error,
        )

    def _submit(self, end: int, full: bool) -> None:
        self._job = submit_load(self.paths.events, end, None if full else THIN_ROWS, use_cache=True)
        self._job_thin = not full

    def _poll_job(self) -> bool | None:
        """Install a finished worker-process read; None when there is no job, False while it runs."""
        job = self._job
        if job is None:
            return None
        if not job.done():
            return False
        self._job = None
        try:
            history, offset, bad, error = job.result()
        except (OSError, RuntimeError, EOFError) as exc:  # a worker died (BrokenProcessPool is a RuntimeError)
            self.tail.last_error = f"background read failed ({exc!r}); reading in the app"
            return False
        with self.lock:
            self.history = history
            self.thinned = self._job_thin
        self.tail.seek(offset)
        self.tail.bad_lines += bad
        if error:
            self.tail.last_error = error
        return True

    def _keep_resolution(self) -> None:
        """A long run that left the charts keeps a thin history; one that came on them is read again, whole."""
        if not self._large or self._job is not None:
            return
        if self.wanted_full and self.thinned:
            self._submit(self.tail.complete_offset, full=True)
        elif (
            self.charts_known
            and not self.wanted_full
            and self.caught_up
            and (not self.thinned or len(self.history.series["train"]) > 2 * THIN_ROWS)
        ):
            with self.lock:
                thin_history(self.history, THIN_ROWS)
                self.thinned = True
            self._write_cache()

    def _poll_events(self, budget: int) -> bool:
        """Read the next chunk; True when what the UI shows changed (not while a preview stands in)."""
        if self._load_to is not None:
            self._submit(self._load_to, full=self.wanted_full)
            self._load_to = None
        installed = self._poll_job()
        if installed is False:  # the worker process is still reading: only the preview moves on
            return self._tail_preview()
        self._keep_resolution()
        before = self.tail.offset
        raw, more = self._read_chunk(budget)
        events = decode_chunk(raw, self.tail) if raw else []
        if events:
            with self.lock:
                bulk_apply(self.history, events)
        if not self.caught_up and not more:
            with self.lock:
                self.caught_up = True
                self.preview = None
            self._preview_tail = None
            return True
        if not self.caught_up and self._preview_tail is not None and self.preview is not None:
            return self._tail_preview()
        return bool(events) or self.tail.offset != before or bool(installed)

    def _tail_preview(self) -> bool:
        """Events appended while the preview stands in for the history."""
        if self._preview_tail is None or self.preview is None:
            return False
        fresh = self._preview_tail.poll()
        if fresh:
            with self.lock:
                self.preview.apply(fresh)
        return bool(fresh)

    def _read_chunk(self, budget: int) -> tuple[bytes, bool]:
        """Complete lines appended since the last read (up to `budget` bytes) and whether more waits."""
        data, more, reset = self.tail.read_complete(budget)
        if reset:  # truncated or replaced: read it again from the start
            with self.lock:
                self.history = RunHistory()
        return data, more

    def poll_log(self, max_lines: int = 200, max_bytes: int = 64 << 10) -> bool:
        """Re-read the end of worker.log when it changed; True when it did."""
        try:
            st = self.paths.log.stat()
            stamp = (st.st_mtime_ns, st.st_size)
        except OSError:
            if self._log_stamp is not None or not self.log_lines:
                self._log_stamp = None
                self.log_lines = ["(no worker.log yet)"]
                return True
            return False
        if stamp == self._log_stamp:
            return False
        self._log_stamp = stamp
        try:  # the safe opener: a worker.log that is a FIFO or a symlink never blocks the poller or is followed
            data, size = read_range(self.paths.log, max(0, st.st_size - max_bytes), max_bytes)
        except OSError as exc:
            why = exc.why if isinstance(exc, UnsafeFile) else exc.strerror
            self.log_lines = [f"(cannot read worker.log: {why})"]
            return True
        lines = log_lines(data)
        if size > max_bytes and lines:
            lines = lines[1:]  # the first line is cut
        self.log_lines = lines[-max_lines:]
        return True

    def expect(self, state: str | None) -> None:
        """Show `state` now (e.g. `starting` the moment the user resumes), until status.json moves on."""
        self.expected = (state, time.monotonic(), self._status_stamp) if state else None
        self._summarize()
        self.version += 1

    def resume_point(self) -> tuple[int, float] | None:
        """(step, epoch) of the last checkpoint event: where a resume continues from; None without one."""
        with self.lock:
            checkpoints = self.history.checkpoints or (self.preview.checkpoints if self.preview else [])
            last = checkpoints[-1] if checkpoints else None
        if not last or not isinstance(last.get("step"), int):
            return None
        epoch = last.get("epoch")
        return last["step"], float(epoch) if isinstance(epoch, (int, float)) else 0.0

    # -- summarizing ------------------------------------------------------------------------------
    def _summarize(self) -> None:
        with self.lock:
            history = self.shown
            self.summary = self._build_summary(history)

    def _build_summary(self, history: RunHistory) -> RunSummary:
        status = self.status or {}
        problem = self.problem if self._gone else None
        state = str(status.get("state") or "")
        if self._gone:
            state = CORRUPT
        elif not self.config:
            state, problem = CORRUPT, self.config_problem or "config.json is missing"
        elif self.status is None:
            state, problem = CORRUPT, self.status_problem or "status.json is missing"
        if self.tail.last_error and not problem:
            problem = self.tail.last_error
            if not any(len(s) for s in history.series.values()) and not history.starts:
                state = CORRUPT
        if history.end and state in LIVE_STATES and not _relaunched_after(status, history.end):
            state = str(history.end.get("state") or state)  # the worker ended; its status may lag
        if self.expected is not None:
            want, since, stamp = self.expected
            if stamp == self._status_stamp and time.monotonic() - since < EXPECT_S:
                state = want
            else:  # status.json moved on (or never will): it speaks again
                self.expected = None
        message = status.get("message")
        summary = summarize(  # the CLI's summary too; only the state above is the app's own
            key=self.key,
            run_id=self.paths.run_id,
            root=str(self.root),
            dir=str(self.paths.dir),
            config=self.config,
            status=status,
            history=history,
            state=state or "unknown",
            problem=problem,
            message=message if isinstance(message, str) else None,
            loading=not self.caught_up,
        ).escaped()  # every text here comes from the run folder: escaped once, for the table, charts and toasts
        return summary if summary.variant else dataclasses.replace(summary, variant="?")


def log_lines(data: bytes) -> list[str]:
    """worker.log bytes as lines, split at newlines only: a CR or an ESC stays in its line (the view escapes it)."""
    lines = [line.removesuffix("\r") for line in data.decode("utf-8", "replace").split("\n")]
    return lines[:-1] if lines and not lines[-1] else lines


class Catalog:
    """Every run under a set of roots; scan() finds new run directories, models read them."""

    def __init__(self, roots: list[Path]) -> None:
        self.roots = [Path(r) for r in roots]
        self.runs: dict[str, RunModel] = {}
        self._lock = threading.Lock()
        self._charts_known = False

    def scan(self) -> list[str]:
        """Add run directories that appeared; returns the new keys."""
        new = []
        for root in self.roots:
            for paths in list_runs(root):
                key = str(paths.dir)
                if key not in self.runs:
                    with self._lock:
                        self.runs[key] = RunModel(paths, root, charts_known=self._charts_known)
                    new.append(key)
        return new

    def set_charted(self, keys: list[str]) -> None:
        """The runs on the charts keep every row; long runs off them keep a thin history."""
        wanted = set(keys)
        self._charts_known = True
        for model in self.models():
            model.wanted_full, model.charts_known = model.key in wanted, True

    def forget(self, key: str) -> None:
        """Drop a run (after the app deleted it)."""
        with self._lock:
            self.runs.pop(key, None)

    def models(self) -> list[RunModel]:
        """The runs, oldest first within each root (ids sort by creation time)."""
        with self._lock:
            return list(self.runs.values())

    def get(self, key: str) -> RunModel | None:
        return self.runs.get(key)
