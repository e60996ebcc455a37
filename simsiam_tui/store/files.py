"""The one way in and out of a run folder: a safe opener, an atomic writer, an appender and a lock.

Everything under a runs root may have been planted by someone else (a shared cluster filesystem). So
every read opens without following a final symlink and without blocking (a FIFO never hangs a
reader), accepts regular files only, reads at most a size cap (a link to /dev/zero or a 10 GB file
never fills memory), given the root, refuses a path that resolves outside it, and answers within a time
bound (READ_TIMEOUT_S: a hung network filesystem is one clear error, not a hang). Every write goes
to a temporary file created with O_EXCL and is renamed over its target (a rename replaces a symlink,
it never writes through one); appends and locks open with O_NOFOLLOW and refuse anything but a
regular file.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import secrets
import stat
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import TypeVar

from simsiam_tui.store import bounded
from simsiam_tui.store.paths import StoreError, inside_root

MAX_READ_BYTES = 16 << 20  # config.json, status.json, the layout: a few KB each
TO_END = 1 << 62  # a read_range size that reads to the end of the file
# The time bound on every read below (open, fstat, read): past it, UnsafeFile instead of a thread blocked
# for good on a hung NFS/Lustre server (store/bounded.py). None or 0: unbounded, on the caller's thread.
# Writes, appends and locks are not bounded: they go to the writer's own run folder or to private_dir(),
# and a worker whose filesystem hangs cannot make progress anyway; a reader must never hang on one.
READ_TIMEOUT_S: float | None = 10.0
_CHUNK = 1 << 20
_read = os.read  # the one read primitive of the bounded reads (a seam for the tests that hang it)
_WRITE_FLAGS = os.O_NOFOLLOW | os.O_CLOEXEC
T = TypeVar("T")


def _new_file_mode() -> int:
    """0o666 less the umask: the mode open() gives a new file (a team shares a runs folder by its umask)."""
    mask = os.umask(0o022)  # umask can only be read by setting it; done once, at import, before any thread
    os.umask(mask)
    return 0o666 & ~mask


NEW_FILE_MODE = _new_file_mode()


class UnsafeFile(StoreError, OSError):
    """A file in a run folder that is not a plain file of a sane size inside the root; one line says which and why.

    An OSError too, so every reader that already treats an unreadable file as missing does so for these.
    """

    def __init__(self, path: Path | str, why: str) -> None:
        OSError.__init__(self, errno.EINVAL, why, str(path))
        self.why = why

    def __str__(self) -> str:
        return f"{Path(str(self.filename)).name}: {self.why}"


def _kind(mode: int) -> str:
    for test, name in ((stat.S_ISDIR, "a folder"), (stat.S_ISFIFO, "a FIFO"), (stat.S_ISSOCK, "a socket"),
                       (stat.S_ISCHR, "a device"), (stat.S_ISBLK, "a device")):  # fmt: skip
        if test(mode):
            return name
    return "not a regular file"


def open_fd(path: Path | str, root: Path | None = None) -> int:
    """A read-only fd on a regular file: no final symlink, no FIFO or device, inside `root` when given.

    FileNotFoundError when it is missing; UnsafeFile when it is there but not a file to read, or when the
    open does not answer within READ_TIMEOUT_S. Only the open and its checks are bounded: reads on the fd
    are the caller's.
    """
    path = Path(path)
    return _bounded(lambda: _open_read(path, root), path, os.close)


def read_bytes(path: Path | str, cap: int = MAX_READ_BYTES, root: Path | None = None) -> bytes:
    """The whole file, when it is a regular file of at most `cap` bytes (UnsafeFile otherwise, or past the bound)."""
    path = Path(path)
    return _bounded(lambda: _read_whole(path, cap, root), path)


def read_range(path: Path | str, start: int, size: int, root: Path | None = None) -> tuple[bytes, int]:
    """(at most `size` bytes from offset `start`, the file's size now) of a regular file; `size` TO_END: all."""
    blocks, length = read_ranges(path, [(start, size)], root)
    return blocks[0], length


def read_ranges(
    path: Path | str, ranges: Sequence[tuple[int, int]], root: Path | None = None
) -> tuple[list[bytes], int]:
    """(at most `size` bytes from each `start` of (start, size) ranges, the file's size now): one open and
    one bounded call for them all (a sample of a long file is many short reads)."""
    path = Path(path)
    return _bounded(lambda: _read_ranges(path, list(ranges), root), path)


def read_tail(path: Path | str, size: int, root: Path | None = None) -> bytes:
    """The last `size` bytes of a regular file, starting on a line boundary when the file is longer."""
    path = Path(path)
    return _bounded(lambda: _read_tail(path, size, root), path)


def _bounded(fn: Callable[[], T], path: Path, discard: Callable[[T], object] | None = None) -> T:
    """fn() on a reader thread within READ_TIMEOUT_S, or UnsafeFile saying it did not answer."""
    try:
        return bounded.call(fn, path, READ_TIMEOUT_S, discard)
    except bounded.NoAnswer as exc:
        raise UnsafeFile(path, exc.why) from None


# What the bounded calls above run on a reader thread: every syscall that can hang on a network
# filesystem (resolving the root, open, fstat, read) happens in here, never on the caller's thread.


def _open_read(path: Path, root: Path | None) -> int:
    if root is not None and not inside_root(root, path):
        raise UnsafeFile(path, f"resolves outside the runs folder '{root}'")
    return _regular_fd(path, os.O_RDONLY | os.O_NONBLOCK)


def _read_upto(fd: int, limit: int) -> bytes:
    """Up to `limit` bytes from fd's offset, reading until end of file (a network filesystem may read short)."""
    parts = []
    while limit > 0:
        chunk = _read(fd, min(limit, _CHUNK))
        if not chunk:
            break
        parts.append(chunk)
        limit -= len(chunk)
    return parts[0] if len(parts) == 1 else b"".join(parts)


def _read_whole(path: Path, cap: int, root: Path | None) -> bytes:
    fd = _open_read(path, root)
    try:
        data = _read_upto(fd, cap + 1)
    finally:
        os.close(fd)
    if len(data) > cap:
        raise UnsafeFile(path, f"is larger than {cap >> 20} MB; not read")
    return data


def _read_ranges(path: Path, ranges: list[tuple[int, int]], root: Path | None) -> tuple[list[bytes], int]:
    fd = _open_read(path, root)
    try:
        length = os.fstat(fd).st_size
        blocks = []
        for start, size in ranges:
            os.lseek(fd, start, os.SEEK_SET)
            blocks.append(_read_upto(fd, size))
        return blocks, length
    finally:
        os.close(fd)


def _read_tail(path: Path, size: int, root: Path | None) -> bytes:
    fd = _open_read(path, root)
    try:
        length = os.fstat(fd).st_size
        if length <= size:
            return _read_upto(fd, size)
        os.lseek(fd, length - size - 1, os.SEEK_SET)
        data = _read_upto(fd, size + 1)
    finally:
        os.close(fd)
    newline = data.find(b"\n")
    return data[newline + 1 :] if newline >= 0 else data[1:]


def atomic_write(path: Path | str, data: bytes, mode: int | None = None, fsync: bool = True) -> None:
    """Replace `path` with `data`: a fresh temporary file (O_EXCL, O_NOFOLLOW) beside it, then os.replace."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | _WRITE_FLAGS, NEW_FILE_MODE if mode is None else mode)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            if fsync:
                os.fsync(fh.fileno())
        os.replace(tmp, path)  # a symlink named `path` is replaced, never written through
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def _regular_fd(path: Path, flags: int, mode: int = 0o600) -> int:
    """os.open with O_NOFOLLOW, then fstat: a regular file's fd, or UnsafeFile saying what is there instead."""
    try:
        fd = os.open(path, flags | os.O_NOFOLLOW | os.O_CLOEXEC, mode)
    except OSError as exc:
        if exc.errno == errno.ELOOP:  # O_NOFOLLOW met a symlink
            raise UnsafeFile(path, "is a symbolic link; run files are never followed") from None
        if exc.errno == errno.ENXIO:  # a socket
            raise UnsafeFile(path, "is a socket, not a file") from None
        raise
    st = os.fstat(fd)
    if not stat.S_ISREG(st.st_mode):
        os.close(fd)
        raise UnsafeFile(path, f"is {_kind(st.st_mode)}, not a file")
    return fd


def open_append(path: Path | str) -> int:
    """An fd appending to a regular file (created if missing); never through a symlink, never to a FIFO."""
    return _regular_fd(Path(path), os.O_RDWR | os.O_APPEND | os.O_CREAT | os.O_NONBLOCK, NEW_FILE_MODE)


def open_lock_file(path: Path | str) -> int:
    """An fd to flock: `path` opened read-write (created if missing), never through a symlink, a regular file."""
    return _regular_fd(Path(path), os.O_RDWR | os.O_CREAT | os.O_NONBLOCK, NEW_FILE_MODE)


@contextlib.contextmanager
def file_lock(path: Path | str, blocking: bool = True) -> Iterator[int | None]:
    """An exclusive flock on `path` (created if missing, never through a symlink); yields its fd, or None
    when non-blocking and another process holds it."""
    fd = open_lock_file(path)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | (0 if blocking else fcntl.LOCK_NB))
        except BlockingIOError:
            yield None
            return
        yield fd
    finally:
        os.close(fd)


def atomic_write_text(path: Path | str, text: str) -> None:
    """atomic_write of UTF-8 text."""
    atomic_write(path, text.encode())


def private_dir() -> Path:
    """A folder only this user can write, outside every runs root: where locks live that nobody may plant.

    A lock file in a shared runs root can be pre-created by anyone (a link, another user's file), which
    would lock its owner out for good in a sticky folder. ~/.cache/simsiam-tui, else $XDG_RUNTIME_DIR, else
    a folder of ours in the temp folder; each used only when it is a real folder, ours, writable by no one else.
    """
    import tempfile

    bases = [Path.home() / ".cache" / "simsiam-tui"]
    if os.environ.get("XDG_RUNTIME_DIR"):
        bases.append(Path(os.environ["XDG_RUNTIME_DIR"]) / "simsiam-tui")
    bases.append(Path(tempfile.gettempdir()) / f"simsiam-tui-{os.geteuid()}")
    for base in bases:
        try:
            base.mkdir(mode=0o700, parents=True, exist_ok=True)
            st = base.lstat()
        except OSError:
            continue
        if stat.S_ISDIR(st.st_mode) and st.st_uid == os.geteuid() and not st.st_mode & 0o022:
            return base
    raise StoreError(f"no private folder for simsiam-tui's locks: none of {', '.join(map(str, bases))} is ours alone")
