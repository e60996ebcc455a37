"""`python -m simsiam_tui.launch.queue ROOT`: the detached queue runner; starts queued runs as slots free up."""

from __future__ import annotations

import fcntl
import os
import signal
import sys
import time
from pathlib import Path

from simsiam_tui.launch.scheduler import RUNNER_LOCK, queued_runs, root_lock, root_lock_path, schedule
from simsiam_tui.store import StoreError, resolve_path
from simsiam_tui.store.files import open_lock_file

POLL_S = 1.0


def run_queue(root: Path, poll_s: float = POLL_S) -> int:
    """Hold the runner lock and schedule every poll_s until no run is queued; 0 at once if another runner holds it."""
    root.mkdir(parents=True, exist_ok=True)
    try:
        fd = open_lock_file(root_lock_path(root, RUNNER_LOCK))  # this user's, outside the shared root
    except (OSError, StoreError) as exc:
        print(f"no queue runner for {root}: {exc}", file=sys.stderr, flush=True)
        return 2
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        return 0
    os.ftruncate(fd, 0)
    os.write(fd, f"{os.getpid()}\n".encode())  # who holds the lock, for people and test teardown
    print(f"{time.strftime('%H:%M:%S')} queue runner pid {os.getpid()} for {root}", flush=True)
    stopping = False

    def on_term(signum: int, frame: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, on_term)
    try:
        while not stopping:
            for paths in schedule(root):
                print(f"{time.strftime('%H:%M:%S')} started {paths.run_id}", flush=True)
            with root_lock(root):  # decide to leave under the scheduling lock (see scheduler.ensure_runner)
                if not queued_runs(root):
                    os.close(fd)
                    fd = -1
                    break
            time.sleep(poll_s)
    finally:
        if fd >= 0:
            os.close(fd)
    print(f"{time.strftime('%H:%M:%S')} queue empty, runner exits", flush=True)
    return 0


def main(argv: list[str] | None = None) -> int:
    """Entry point: one argument, the runs root."""
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: python -m simsiam_tui.launch.queue ROOT", file=sys.stderr)
        return 2
    return run_queue(resolve_path(args[0]))


if __name__ == "__main__":
    sys.exit(main())
