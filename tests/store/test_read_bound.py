"""The opener's time bound (issue 20, item 2): a read on a hung network filesystem is one clear error, not a hang.

A hung NFS server is played by the opener's read primitive (`files._read`) blocking on an event for the
files a test marks hung; everything else reads for real.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from simsiam_tui.store import bounded, files
from simsiam_tui.store.files import UnsafeFile, open_fd, read_bytes, read_range, read_tail
from simsiam_tui.store.paths import StoreError
from simsiam_tui.store.status import load_status

BOUND = 0.25


def _wait_for(check: Callable[[], bool], timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "timed out waiting"
        time.sleep(0.01)


@dataclass
class Hang:
    """Files whose reads block until release() (a server that stopped answering, then came back)."""

    gate: threading.Event = field(default_factory=threading.Event)
    files: set[tuple[int, int]] = field(default_factory=set)

    def add(self, path: Path) -> Path:
        st = path.stat()
        self.files.add((st.st_dev, st.st_ino))
        return path

    def release(self) -> None:
        self.gate.set()
        _wait_for(lambda: bounded.stats()["stuck"] == 0)


@pytest.fixture
def hang(monkeypatch: pytest.MonkeyPatch) -> Iterator[Hang]:
    state = Hang()
    real = files._read

    def read(fd: int, n: int) -> bytes:
        st = os.fstat(fd)
        if (st.st_dev, st.st_ino) in state.files:
            state.gate.wait(3)  # a broken bound fails the test in seconds, never hangs it
        return real(fd, n)

    monkeypatch.setattr(files, "READ_TIMEOUT_S", BOUND)
    monkeypatch.setattr(files, "_read", read)
    yield state
    state.release()  # no stuck thread outlives its test


def _file(path: Path, data: bytes = b'{"state": "running"}\n') -> Path:
    path.write_bytes(data)
    return path


def _readers() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "simsiam-tui-reader"]


def test_a_hung_read_is_one_clear_error_within_about_the_bound(tmp_path: Path, hang: Hang) -> None:
    status = hang.add(_file(tmp_path / "status.json"))
    for read in (lambda: read_bytes(status), lambda: read_tail(status, 10), lambda: read_range(status, 0, 5)):
        t = time.monotonic()
        with pytest.raises(UnsafeFile) as info:
            read()
        took = time.monotonic() - t
        assert BOUND <= took < BOUND + 1.0
        assert isinstance(info.value, OSError) and isinstance(info.value, StoreError)
        assert str(info.value) == "status.json: did not answer within 0.25 s (a hung network filesystem?)"
        hang.release()  # the next reader sees it answer again
        hang.gate.clear()
    # the caller the CLI and the app use: the run's one `corrupt` line, no exception
    assert load_status(status) == (None, "status.json: did not answer within 0.25 s (a hung network filesystem?)")


def test_a_second_read_of_a_hung_path_fails_fast_without_a_thread(tmp_path: Path, hang: Hang) -> None:
    events = hang.add(_file(tmp_path / "events.jsonl"))
    with pytest.raises(UnsafeFile):
        read_bytes(events)
    threads, alive = bounded.stats()["threads"], threading.active_count()
    assert bounded.stats()["stuck"] == 1
    assert all(t.daemon for t in _readers())  # a stuck one never holds up the interpreter's exit
    for _ in range(50):  # an app polling the run
        t = time.monotonic()
        with pytest.raises(UnsafeFile, match="has not returned") as info:
            read_tail(events, 4096)
        assert time.monotonic() - t < 0.05
        assert "\n" not in str(info.value) and str(info.value).startswith("events.jsonl: did not answer within 0.25 s")
    assert bounded.stats()["threads"] == threads and threading.active_count() == alive


def test_other_files_still_read_while_one_hangs_and_the_hung_one_reads_again_once_it_returns(
    tmp_path: Path, hang: Hang
) -> None:
    hung = hang.add(_file(tmp_path / "config.json"))
    other = _file(tmp_path / "status.json", b"other")
    with pytest.raises(UnsafeFile):
        read_bytes(hung)
    assert read_bytes(other) == b"other"  # a new reader thread took the stuck one's place
    hang.release()
    assert read_bytes(hung) == b'{"state": "running"}\n' and read_range(hung, 2, 5) == (b"state", 21)
    assert bounded.stats()["stuck"] == 0


def test_a_filesystem_with_hung_reads_fails_fast_for_every_path_on_it(
    tmp_path: Path, hang: Hang, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every file on a hung server hangs: past MAX_STUCK_PER_MOUNT outstanding reads, no new thread for any."""
    monkeypatch.setattr(bounded, "MAX_STUCK_PER_MOUNT", 2)
    runs = [hang.add(_file(tmp_path / f"run{i}.json")) for i in range(3)]
    for path in runs[:2]:
        with pytest.raises(UnsafeFile, match="did not answer within"):
            read_bytes(path)
    threads = bounded.stats()["threads"]
    t = time.monotonic()
    with pytest.raises(UnsafeFile, match=r"not read: 2 reads on .* have not returned \(a hung network filesystem\?\)"):
        read_bytes(runs[2])
    assert time.monotonic() - t < 0.05 and bounded.stats()["threads"] == threads
    hang.release()
    assert [read_bytes(p) for p in runs] == [b'{"state": "running"}\n'] * 3


def test_an_open_that_answers_after_the_bound_has_its_fd_closed(
    tmp_path: Path, hang: Hang, monkeypatch: pytest.MonkeyPatch
) -> None:
    """open_fd bounds the open and its checks (the root's resolution included); a late fd is not leaked."""
    path = _file(tmp_path / "last.pt")
    gate = threading.Event()
    real = files.inside_root

    def slow_inside_root(root: Path, p: Path) -> bool:
        gate.wait(3)
        return real(root, p)

    monkeypatch.setattr(files, "inside_root", slow_inside_root)
    before = len(os.listdir("/proc/self/fd"))
    with pytest.raises(UnsafeFile, match="did not answer within 0.25 s"):
        open_fd(path, tmp_path)
    gate.set()
    _wait_for(lambda: bounded.stats()["stuck"] == 0)
    assert len(os.listdir("/proc/self/fd")) == before
    fd = open_fd(path, tmp_path)
    try:
        assert os.read(fd, 100) == b'{"state": "running"}\n'
    finally:
        os.close(fd)


def test_reads_that_answer_are_unchanged_under_the_bound(tmp_path: Path, hang: Hang) -> None:
    """Content, caps, tails and every refusal as before: the bound changes nothing for a file that answers."""
    text = b"".join(b"line %d\n" % i for i in range(1000))
    log = _file(tmp_path / "worker.log", text)
    assert read_bytes(log) == text and read_bytes(log, cap=len(text)) == text
    with pytest.raises(UnsafeFile, match="is larger than 0 MB; not read"):
        read_bytes(log, cap=len(text) - 1)
    assert read_tail(log, 20) == b"line 998\nline 999\n" and read_tail(log, 1 << 20) == text
    assert read_range(log, 7, 7) == (b"line 1\n", len(text)) and read_range(log, len(text) + 5, 10) == (b"", len(text))
    os.mkfifo(tmp_path / "fifo")
    os.symlink(log, tmp_path / "link")
    os.symlink("/dev/zero", tmp_path / "zero")
    sock = socket.socket(socket.AF_UNIX)
    sock.bind(str(tmp_path / "sock"))
    try:
        for name, why in (("fifo", "is a FIFO, not a file"), ("link", "is a symbolic link"),
                          ("zero", "is a symbolic link"), ("sock", "is a socket"), (".", "is a folder")):  # fmt: skip
            with pytest.raises(UnsafeFile, match=why):
                read_bytes(tmp_path / name)
    finally:
        sock.close()
    with pytest.raises(FileNotFoundError):
        read_tail(tmp_path / "missing", 10)
    with pytest.raises(UnsafeFile, match="resolves outside the runs folder"):
        read_bytes(log, root=tmp_path / "elsewhere")
    assert bounded.stats()["stuck"] == 0


def test_without_a_bound_reads_run_on_the_callers_thread(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(files, "READ_TIMEOUT_S", None)
    seen = []
    real = files._read
    monkeypatch.setattr(files, "_read", lambda fd, n: seen.append(threading.current_thread()) or real(fd, n))
    assert read_bytes(_file(tmp_path / "a", b"x")) == b"x" and set(seen) == {threading.current_thread()}


def test_a_forked_child_reads_with_a_fresh_pool(tmp_path: Path) -> None:
    """A DataLoader worker or a daemonised runner forks: the parent's reader threads are not there."""
    path = _file(tmp_path / "status.json", b"fork")
    assert read_bytes(path) == b"fork" and bounded.stats()["threads"] >= 1  # the parent has a reader thread
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child
        ok = False
        try:
            ok = bounded.stats()["threads"] == 0 and read_bytes(path) == b"fork"
        finally:
            os._exit(0 if ok else 1)
    _, code = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(code) == 0


def test_callers_on_many_threads_each_get_their_own_file_and_idle_readers_are_capped(tmp_path: Path) -> None:
    """The app's poller, the quantile thread and the CLI at once: no answer goes to the wrong caller."""
    paths = [_file(tmp_path / f"s{i}.json", b"run %d" % i) for i in range(8)]
    wrong: list[int] = []

    def poll(i: int) -> None:
        for _ in range(200):
            if read_bytes(paths[i]) != b"run %d" % i or read_tail(paths[i], 3) != b"n %d" % i:
                wrong.append(i)

    callers = [threading.Thread(target=poll, args=(i,)) for i in range(8)]
    for t in callers:
        t.start()
    for t in callers:
        t.join()
    assert wrong == []
    _wait_for(lambda: bounded.stats()["idle"] == bounded.stats()["threads"] == len(_readers()) <= bounded.MAX_IDLE)


def test_a_process_with_a_stuck_read_exits_at_once(tmp_path: Path) -> None:
    """The stuck reader thread is a daemon: `runs ls` on a hung server prints its line and exits, it does not wait."""
    path = _file(tmp_path / "status.json")
    script = (
        "import sys, time\n"
        "from simsiam_tui.store import files\n"
        "files.READ_TIMEOUT_S = 0.2\n"
        "files._read = lambda fd, n: time.sleep(60)\n"
        "try:\n    files.read_bytes(sys.argv[1])\n"
        "except files.UnsafeFile as exc:\n    print(exc)\n"
    )
    t = time.monotonic()
    proc = subprocess.run([sys.executable, "-c", script, str(path)], capture_output=True, text=True, timeout=30)
    assert time.monotonic() - t < 10
    assert (proc.returncode, proc.stdout) == (
        0,
        "status.json: did not answer within 0.2 s (a hung network filesystem?)\n",
    )


def test_the_event_readers_are_bounded_too(tmp_path: Path, hang: Hang) -> None:
    """The app's tail and the CLI's history read events.jsonl through the bounded opener: a hung file is the
    run's one-line error, and it reads again once the filesystem answers."""
    from simsiam_tui.store.decode import read_span
    from simsiam_tui.store.reader import EventTail

    events = hang.add(_file(tmp_path / "events.jsonl", b'{"v": 1, "kind": "train", "time": 1.0, "step": 1}\n'))
    tail = EventTail(events)
    started = time.monotonic()
    assert tail.poll() == [] and "did not answer" in str(tail.last_error)
    _, _, _, error = read_span(events, 0, events.stat().st_size)
    assert "did not answer" in str(error)
    assert time.monotonic() - started < 2 * BOUND + 1
    hang.release()
    hang.files.clear()
    assert [e["step"] for e in EventTail(events).poll()] == [1]
