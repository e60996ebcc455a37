"""status.json: a run's current state, decoded through the protocol's Status Struct and replaced atomically."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import msgspec

from simsiam_tui.store.files import NEW_FILE_MODE as NEW_FILE_MODE  # re-exported: one umask reading
from simsiam_tui.store.files import atomic_write, file_lock, read_bytes
from simsiam_tui.store.files import atomic_write_text as atomic_write_text  # re-exported for older callers
from simsiam_tui.store.schema import LIVE_STATES as LIVE_STATES  # re-exported: the states live in store/schema.py
from simsiam_tui.store.schema import RESUMABLE_STATES as RESUMABLE_STATES
from simsiam_tui.store.schema import STATES as STATES
from simsiam_tui.store.schema import TERMINAL_STATES as TERMINAL_STATES
from simsiam_tui.store.schema import Status

LOCK_NAME = ".status.lock"  # flock'ed around every read-merge-write of status.json, by every process
RUN_LOCK_NAME = ".run.lock"  # held by the one actor (stop, resume, rm, eval) working on a run
STATUS_CAP = 1 << 20  # a status is a few hundred bytes
_DECODER = msgspec.json.Decoder(Status)


def decode_problem(exc: BaseException) -> str:
    """Why a file did not decode, in one line (msgspec's message names the field: `... - at $.pid`)."""
    if isinstance(exc, RecursionError):
        return "nested too deeply"
    return str(exc).splitlines()[0] if str(exc) else type(exc).__name__


def load_status(path: Path) -> tuple[dict[str, Any] | None, str | None]:
    """(status, problem): the decoded status.json as a dict of typed fields, or None and why not.

    A missing file is (None, None); a FIFO, a link, a huge file or a file of the wrong shape is
    (None, "status.json: <why>"), the run's `corrupt` line.
    """
    try:
        data = read_bytes(path, STATUS_CAP)
    except FileNotFoundError:
        return None, None
    except OSError as exc:
        return None, f"status.json: {getattr(exc, 'why', None) or exc.strerror or exc}"
    try:
        _DECODER.decode(data)  # the protocol's check: every field it names has its type and range
        status = msgspec.json.decode(data, type=dict[str, Any])  # kept whole: a newer writer's fields survive a merge
    except (msgspec.DecodeError, msgspec.ValidationError, RecursionError) as exc:
        return None, f"status.json: {decode_problem(exc)}"
    return status, None


def read_status(path: Path) -> dict[str, Any] | None:
    """The status dict (every field of its protocol type), or None when missing, unreadable or corrupt."""
    return load_status(Path(path))[0]


def encode_status(status: dict[str, Any]) -> bytes:
    """status.json's bytes: the dict checked against the Status Struct (a writer's own bug raises ValueError)."""
    try:
        msgspec.convert(status, Status)
    except msgspec.ValidationError as exc:
        raise ValueError(f"status.json would not decode: {exc}") from None
    return msgspec.json.format(msgspec.json.encode(status), indent=1) + b"\n"


def write_status(path: Path, status: dict[str, Any]) -> None:
    """Replace status.json with `status`, atomically, never through a symlink."""
    atomic_write(Path(path), encode_status(status))


@contextlib.contextmanager
def status_lock(run_dir: Path) -> Iterator[None]:
    """Hold the run's status lock; FileNotFoundError when the run folder is gone (it is never recreated)."""
    with file_lock(Path(run_dir) / LOCK_NAME):
        yield


@contextlib.contextmanager
def run_lock(run_dir: Path, blocking: bool = False) -> Iterator[bool]:
    """Hold the run's actor lock (stop, resume, rm, eval: one at a time); yields False when another holds it."""
    with file_lock(Path(run_dir) / RUN_LOCK_NAME, blocking=blocking) as fd:
        yield fd is not None


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
