"""One run, one actor: stop, resume, rm and eval of a run hold its lock, so two of them never race."""

from __future__ import annotations

import contextlib
import errno
from collections.abc import Iterator
from typing import NoReturn

from simsiam_tui.launch.errors import LaunchError
from simsiam_tui.store import RunPaths
from simsiam_tui.store.files import UnsafeFile
from simsiam_tui.store.status import run_lock


@contextlib.contextmanager
def acting_on(paths: RunPaths, required: bool = True) -> Iterator[None]:
    """Hold the run's actor lock for one operation (stop, resume, rm, eval); LaunchError when another holds it.

    required=False: a full disk, where the lock file cannot be made, goes on unlocked (so `runs rm` frees space).
    """
    lock = run_lock(paths.dir)
    try:
        held = lock.__enter__()
    except OSError as exc:
        if required or exc.errno not in (errno.ENOSPC, errno.EDQUOT):
            _refuse(paths, exc)
        yield
        return
    try:
        if not held:
            raise LaunchError(
                f"run {paths.run_id} is busy: another stop, resume, rm or eval is acting on it; try again when it is done"
            )
        yield
    finally:
        lock.__exit__(None, None, None)


def _refuse(paths: RunPaths, exc: OSError) -> NoReturn:
    """The LaunchError for a run lock that cannot be taken."""
    if isinstance(exc, FileNotFoundError):
        raise LaunchError(f"run {paths.run_id} is gone (its folder was removed)") from None
    why = exc.why if isinstance(exc, UnsafeFile) else exc.strerror  # another user's folder, a planted link or FIFO
    raise LaunchError(f"run {paths.run_id} cannot be locked: {why}") from None
