"""status.json: a run's current state, replaced atomically so readers never see half a file."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

from simsiam_tui.store.schema import LIVE_STATES, RESUMABLE_STATES, STATES, TERMINAL_STATES

__all__ = [
    "LIVE_STATES",
    "RESUMABLE_STATES",
    "STATES",
    "TERMINAL_STATES",
    "atomic_write_text",
    "read_status",
    "update_status",
    "write_status",
]


def atomic_write_text(path: Path, text: str) -> None:
    """Write `text` to `path` through a temp file and os.replace."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
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


def update_status(path: Path, **fields: Any) -> dict[str, Any]:
    """Merge `fields` into status.json atomically and return the new status."""
    status = read_status(path) or {}
    if "state" in fields and fields["state"] not in STATES:
        raise ValueError(f"unknown run state {fields['state']!r}")
    status.update(fields)
    write_status(path, status)
    return status
