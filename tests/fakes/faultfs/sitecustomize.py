"""Test-only: make writes under $FAULTFS_DIR fail with $FAULTFS_ERRNO, as a full (ENOSPC) or read-only (EROFS) disk would.

Python imports `sitecustomize` at start-up from the path, so a subprocess whose PYTHONPATH begins with this
folder gets the fault without privileges (no tmpfs, no mount). ENOSPC: creating, truncating or appending to
files and making folders fail; renames and deletes work (they need no space). EROFS: every change fails.
"""

from __future__ import annotations

import builtins
import errno
import io
import os

_DIR = os.environ.get("FAULTFS_DIR")
_ERRNO = getattr(errno, os.environ.get("FAULTFS_ERRNO", "ENOSPC"))
_WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_TRUNC | os.O_APPEND


def _inside(path, dir_fd=None) -> bool:  # type: ignore[no-untyped-def]
    if isinstance(path, int):
        return False
    text = os.fsdecode(path)
    if dir_fd is not None and not os.path.isabs(text):
        text = os.path.join(os.readlink(f"/proc/self/fd/{dir_fd}"), text)
    full = os.path.abspath(text)
    return full == _DIR or full.startswith(_DIR + os.sep)


def _fail(path) -> OSError:  # type: ignore[no-untyped-def]
    return OSError(_ERRNO, os.strerror(_ERRNO), os.fsdecode(path))


def _blocks(flags: int, path, dir_fd=None) -> bool:  # type: ignore[no-untyped-def]
    if not _inside(path, dir_fd):
        return False
    if _ERRNO == errno.ENOSPC:  # opening an existing file (a lock) needs no space; creating or growing one does
        creates = flags & os.O_CREAT and not os.path.exists(path)
        return bool(creates or flags & (os.O_TRUNC | os.O_APPEND))
    return bool(flags & _WRITE_FLAGS)


if _DIR:
    _open, _io_open, _mkdir = os.open, io.open, os.mkdir
    _replace, _rename, _unlink, _rmdir = os.replace, os.rename, os.unlink, os.rmdir

    def fault_open(path, flags, mode=0o777, *, dir_fd=None):  # type: ignore[no-untyped-def]
        if _blocks(flags, path, dir_fd):
            raise _fail(path)
        return _open(path, flags, mode, dir_fd=dir_fd)

    def fault_io_open(file, mode="r", *args, **kwargs):  # type: ignore[no-untyped-def]
        flags = 0
        if "w" in mode:
            flags |= os.O_CREAT | os.O_TRUNC
        if "a" in mode:
            flags |= os.O_CREAT | os.O_APPEND
        if "x" in mode:
            flags |= os.O_CREAT
        if "+" in mode:
            flags |= os.O_RDWR
        if flags and _blocks(flags, file):
            raise _fail(file)
        return _io_open(file, mode, *args, **kwargs)

    def fault_mkdir(path, mode=0o777, *, dir_fd=None):  # type: ignore[no-untyped-def]
        if _inside(path, dir_fd) and not os.path.isdir(path):
            raise _fail(path)
        return _mkdir(path, mode, dir_fd=dir_fd)

    def _guard(real):  # type: ignore[no-untyped-def]
        def wrapped(*args, **kwargs):  # type: ignore[no-untyped-def]
            if _ERRNO != errno.ENOSPC and any(
                _inside(a, kwargs.get("dir_fd", kwargs.get("src_dir_fd"))) for a in args[:2]
            ):
                raise _fail(args[0])
            return real(*args, **kwargs)

        return wrapped

    os.open = fault_open
    io.open = builtins.open = fault_io_open
    os.mkdir = fault_mkdir
    os.replace, os.rename, os.unlink, os.remove, os.rmdir = (
        _guard(_replace),
        _guard(_rename),
        _guard(_unlink),
        _guard(_unlink),
        _guard(_rmdir),
    )
