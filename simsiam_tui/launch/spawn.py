"""The one way to start a process: an interpreter that imports nothing from a runs folder, started from a safe folder.

A runs root is shared with other users, so nothing in it may ever be on a child's `sys.path`. Every
worker, queue runner and rank starts with `python -P` (no script or working folder prepended to
sys.path), PYTHONSAFEPATH=1 (the same for torchrun's ranks and any Python they start), a PYTHONPATH
with only absolute entries outside the runs roots (a relative one would name the working folder), and
`/` as its working folder, which no other user can write. Paths reach the child as arguments, never
through a shell.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterable
from pathlib import Path

from simsiam_tui.store.files import open_append

SAFE_CWD = Path("/")  # owned by root, writable by no one else; every path a child gets is absolute

_children: dict[int, subprocess.Popen[bytes]] = {}
_children_lock = threading.Lock()
_exit_codes: dict[int, int] = {}


def python_argv(module: str, *args: str) -> list[str]:
    """`python -P -m module args...` with this interpreter."""
    return [sys.executable, "-P", "-m", module, *args]


def _inside(path: Path, roots: Iterable[Path]) -> bool:
    return any(path == root or root in path.parents for root in roots)


def safe_env(env: dict[str, str], roots: Iterable[Path] = ()) -> dict[str, str]:
    """`env` for a child: PYTHONSAFEPATH set, PYTHONPATH cut to absolute folders outside `roots`.

    The user's own absolute PYTHONPATH (a source checkout, a site folder) is kept: it is theirs, not the
    shared folder's. Empty and relative entries go: Python reads them against the working folder.
    """
    out = dict(env)
    out["PYTHONSAFEPATH"] = "1"
    resolved = [Path(r).resolve() for r in roots]
    kept = [
        entry
        for entry in env.get("PYTHONPATH", "").split(os.pathsep)
        if entry and os.path.isabs(entry) and not _inside(Path(entry).resolve(), resolved)
    ]
    if kept:
        out["PYTHONPATH"] = os.pathsep.join(kept)
    else:
        out.pop("PYTHONPATH", None)
    return out


def spawn_detached(argv: list[str], log_path: Path, env: dict[str, str], roots: Iterable[Path] = ()) -> subprocess.Popen[bytes]:
    """Start argv in its own session from SAFE_CWD, stdout+stderr appended to log_path, stdin closed.

    The log is opened by the store's appender: never through a planted symlink, never into a FIFO.
    """
    fd = open_append(log_path)
    with open(fd, "ab", buffering=0) as log:
        log.write(f"--- {time.strftime('%Y-%m-%d %H:%M:%S')} on {os.uname().nodename}: {' '.join(argv)}\n".encode())
        proc = subprocess.Popen(
            argv,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            close_fds=True,
            env=safe_env(env, roots),
            cwd=SAFE_CWD,
        )
    with _children_lock:
        _children[proc.pid] = proc
    reap()
    return proc


def reap() -> dict[int, int]:
    """Collect exit codes of our own finished children (so they never linger as zombies); {pid: code}."""
    done: dict[int, int] = {}
    with _children_lock:
        for pid, proc in list(_children.items()):
            code = proc.poll()
            if code is not None:
                done[pid] = code
                del _children[pid]
                _exit_codes[pid] = code
    return done


def exit_code_of(pid: int) -> int | None:
    """The exit code of a child this process started and reaped, else None."""
    reap()
    return _exit_codes.get(pid)
