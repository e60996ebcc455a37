"""A time bound on blocking filesystem calls: do them on a helper thread, wait for the answer at most a bound.

On a cluster the runs folder is often NFS or Lustre. When its server hangs, open(), fstat() and read()
block in the kernel for good (a hard mount: no signal interrupts them) and no Python code can cancel
such a call. So the store's opener hands its syscalls to a small pool of daemon threads and waits for
the answer at most `bound` seconds. A call that does not answer keeps its thread (a daemon: it never
holds up the interpreter's exit), the caller gets NoAnswer at once, and the next call starts another
thread in its place.

A hung path must not take a new thread on every poll, so while a call is outstanding its path is
remembered and later calls for it fail fast, without a thread; and since a hung server hangs every path
on it, a filesystem (its mount point, from /proc/self/mounts) with MAX_STUCK_PER_MOUNT calls outstanding
fails fast for every path on it, and the whole process stops at MAX_STUCK. When a stuck call returns,
its result is dropped (`discard` closes an fd it opened), its path and filesystem are forgotten and its
thread goes back to the pool.

The cost on the fast path is two thread hand-offs per call (a SimpleQueue put, a lock release);
benchmarks/read_bound.py measures it. The standard library only: the store imports nothing else.
"""

from __future__ import annotations

import contextlib
import os
import queue
import re
import threading
from collections.abc import Callable
from typing import Generic, TypeVar

T = TypeVar("T")

MAX_IDLE = 4  # threads kept waiting for work after a burst; more than that exit when done
MAX_STUCK_PER_MOUNT = 2  # outstanding calls on one filesystem before every path on it fails fast
MAX_STUCK = 16  # outstanding calls in all before every bounded call fails fast


class NoAnswer(Exception):
    """A bounded call that did not answer in time, or was refused because an earlier one has not; `why` is one line."""

    def __init__(self, why: str) -> None:
        super().__init__(why)
        self.why = why


class _Job(Generic[T]):
    __slots__ = ("fn", "discard", "done", "result", "error", "finished", "abandoned", "key", "mount")

    def __init__(self, fn: Callable[[], T], discard: Callable[[T], object] | None) -> None:
        self.fn = fn
        self.discard = discard
        self.done = threading.Lock()
        self.done.acquire()  # released by the thread that ran it
        self.result: T | None = None
        self.error: BaseException | None = None
        self.finished = False
        self.abandoned = False
        self.key = ""
        self.mount = ""

    def value(self) -> T:
        if self.error is not None:
            try:
                raise self.error
            finally:
                self.error = None  # no reference cycle through the traceback
        return self.result  # type: ignore[return-value]  # set by fn when no error


class _Pool:
    """The reader threads and what is outstanding; every field is read and written under `mutex`."""

    def __init__(self) -> None:
        self.mutex = threading.Lock()
        self.jobs: queue.SimpleQueue[_Job[object]] = queue.SimpleQueue()
        self.idle = 0  # threads waiting on `jobs` (or about to) that no caller has claimed yet
        self.threads = 0  # threads alive, stuck ones included
        self.stuck_paths: dict[str, int] = {}
        self.stuck_mounts: dict[str, int] = {}
        self.stuck = 0
        self.mounts: list[str] = []  # mount points, longest first: read when the first call gets stuck


_pool = _Pool()


def _reset_after_fork() -> None:
    """A forked child has none of its parent's threads (and perhaps a held mutex): a fresh, empty pool."""
    global _pool
    _pool = _Pool()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_reset_after_fork)


def stats() -> dict[str, int]:
    """The pool now: threads alive, idle ones, calls outstanding (for tests and the benchmark)."""
    pool = _pool
    with pool.mutex:
        return {"threads": pool.threads, "idle": pool.idle, "stuck": pool.stuck}


def _read_mounts() -> list[str]:
    """Mount points from /proc/self/mounts (never a network call), longest first; [] where there is none."""
    try:
        with open("/proc/self/mounts", "rb") as fh:
            lines = fh.read().splitlines()
    except OSError:
        return []
    points = {  # spaces, tabs, newlines and backslashes in a mount point are octal escapes there (\040)
        os.fsdecode(re.sub(rb"\\([0-7]{3})", lambda m: bytes([int(m[1], 8) & 0xFF]), fields[1]))
        for fields in (line.split(b" ") for line in lines)
        if len(fields) > 1
    }
    return sorted(points, key=len, reverse=True)


def _mount_of(key: str, mounts: list[str]) -> str:
    """The mount point `key` (an absolute path, by its spelling: no syscall) lies on; "" when unknown."""
    for point in mounts:
        if key == point or key.startswith(point if point.endswith("/") else point + "/"):
            return point
    return ""


def _refusal(pool: _Pool, key: str, bound: float) -> str | None:
    """Why a call for `key` fails fast while others are outstanding; None when it may go ahead. Under the mutex."""
    if key in pool.stuck_paths:
        return f"did not answer within {bound:g} s and that read has not returned (a hung network filesystem?)"
    mount = _mount_of(key, pool.mounts)
    if mount and pool.stuck_mounts.get(mount, 0) >= MAX_STUCK_PER_MOUNT:
        return f"not read: {pool.stuck_mounts[mount]} reads on {mount} have not returned (a hung network filesystem?)"
    if pool.stuck >= MAX_STUCK:
        return f"not read: {pool.stuck} reads have not returned (a hung network filesystem?)"
    return None


def _serve(pool: _Pool) -> None:
    """A reader thread: run jobs until, done with one, it finds MAX_IDLE others idle."""
    while True:
        job = pool.jobs.get()
        try:
            job.result = job.fn()
        except BaseException as exc:  # handed to the caller, who raises it
            job.error = exc
        with pool.mutex:
            job.finished = True
            abandoned = job.abandoned
            if abandoned and job.key:  # counted as stuck (not a caller interrupted while waiting)
                pool.stuck -= 1
                for table, name in ((pool.stuck_paths, job.key), (pool.stuck_mounts, job.mount)):
                    if name and table.get(name, 0) <= 1:
                        table.pop(name, None)
                    elif name:
                        table[name] -= 1
            leave = pool.idle >= MAX_IDLE
            if leave:
                pool.threads -= 1
            else:
                pool.idle += 1
        if abandoned:  # nobody waits for it: drop the result (an fd opened after the bound is closed)
            if job.error is None and job.discard is not None:
                with contextlib.suppress(Exception):  # a late fd that will not close: nothing more to do
                    job.discard(job.result)
            job.result = job.error = None
        else:
            job.done.release()
        if leave:
            return


def call(fn: Callable[[], T], path: str | os.PathLike[str], bound: float | None,
         discard: Callable[[T], object] | None = None) -> T:  # fmt: skip
    """fn(), run on a reader thread, when it answers within `bound` seconds; NoAnswer when it does not.

    `path` is what fn touches: a later call for it fails fast (NoAnswer) until this one returns. `discard`
    gets fn's result when it comes after the caller gave up (os.close for an fd). bound None or <= 0: fn()
    on this thread, unbounded.
    """
    if bound is None or bound <= 0:
        return fn()
    key = os.path.abspath(path)  # by spelling: getcwd at most, never a lookup on the filesystem
    pool = _pool
    job: _Job[T] = _Job(fn, discard)
    with pool.mutex:
        if pool.stuck:  # only while something hangs
            why = _refusal(pool, key, bound)
            if why is not None:
                raise NoAnswer(why)
        spawn = pool.idle == 0
        if spawn:
            pool.threads += 1
        else:
            pool.idle -= 1
    if spawn:
        try:
            threading.Thread(target=_serve, args=(pool,), name="simsiam-tui-reader", daemon=True).start()
        except RuntimeError:  # no new threads (the interpreter is shutting down): unbounded, on this thread
            with pool.mutex:
                pool.threads -= 1
            return fn()
    pool.jobs.put(job)  # type: ignore[arg-type]
    try:
        answered = job.done.acquire(timeout=bound)
    except BaseException:  # Ctrl-C while waiting: whatever fn returns later is dropped (an fd closed)
        with pool.mutex:
            late = job.finished  # it answered as the interrupt came: this caller drops the result itself
            job.abandoned = not late
        if late and job.error is None and discard is not None:
            with contextlib.suppress(Exception):
                discard(job.result)  # type: ignore[arg-type]
        raise
    if answered:
        return job.value()
    mounts = _read_mounts()  # afresh on each timeout: a mount may have come since
    mount = _mount_of(key, mounts)
    with pool.mutex:
        if not job.finished:
            job.abandoned, job.key, job.mount = True, key, mount
            pool.mounts = mounts
            pool.stuck += 1
            pool.stuck_paths[key] = pool.stuck_paths.get(key, 0) + 1
            if mount:
                pool.stuck_mounts[mount] = pool.stuck_mounts.get(mount, 0) + 1
            raise NoAnswer(f"did not answer within {bound:g} s (a hung network filesystem?)")
    job.done.acquire()  # it answered just as the bound ran out: the release is on its way
    return job.value()
