"""status.json: a run's current state, replaced atomically so readers never see half a file."""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from simsiam_tui.store.schema import LIVE_STATES as LIVE_STATES  # re-exported: the states live in store/schema.py
from simsiam_tui.store.schema import RESUMABLE_STATES as RESUMABLE_STATES
from simsiam_tui.store.schema import STATES as STATES
from simsiam_tui.store.schema import TERMINAL_STATES as TERMINAL_STATES

LOCK_NAME = ".status.lock"  # flock'ed around every read-merge-write of status.json, by every process


def _new_file_mode() -> int:
    """0o666 less the umask: the mode open() gives a new file (mkstemp's 0o600 would hide runs from a team)."""
    mask = os.umask(0o022)  # umask can only be read by setting it; done once, at import, before any thread
    os.umask(mask)
    return 0o666 & ~mask


NEW_FILE_MODE = _new_file_mode()


def atomic_write_text(path: Path, text: str) -> None:
    """Write `text` to `path` through a temp file and os.replace."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        os.fchmod(fd, NEW_FILE_MODE)
        with os.fdopen(fd, "w") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def read_status(path: Path) -> dict[str, Any] | None:
    """The status dict, or None when the file is missing or unreadable."""
    try:
        data = json.loads(Path(path).read_text())
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def write_status(path: Path, status: dict[str, Any]) -> None:
    """Replace status.json with `status`."""
    atomic_write_text(Path(path), json.dumps(status, indent=1, sort_keys=True) + "\n")


@contextlib.contextmanager
def status_lock(run_dir: Path) -> Iterator[None]:
    """Hold the run's status lock; FileNotFoundError when the run folder is gone (it is never recreated)."""
    fd = os.open(Path(run_dir) / LOCK_NAME, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def merge_status(path: Path, fields: dict[str, Any], base: dict[str, Any] | None = None) -> dict[str, Any]:
    """Under the status lock: the file's status (or `base` when it is missing or unreadable) updated with
    `fields`, written whole; returns it. A writer that knows the whole status passes it as `base`, so an
    unreadable file is replaced by a full status, never by a stub of `fields`.
    """
    if "state" in fields and fields["state"] not in STATES:
        raise ValueError(f"unknown run state {fields['state']!r}")
    path = Path(path)
    with status_lock(path.parent):
        status = read_status(path)
        if status is None:
            status = dict(base or {})
        status.update(fields)
        write_status(path, status)
    return status


def update_status(path: Path, **fields: Any) -> dict[str, Any]:
    """Merge `fields` into status.json atomically, under the status lock, and return the new status."""
    return merge_status(path, fields)
