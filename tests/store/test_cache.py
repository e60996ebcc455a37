"""events.cache: an appended file decodes only its tail; a truncated, replaced, corrupt or hostile cache is ignored."""

from __future__ import annotations

import json
import os
import pickle
from pathlib import Path

import msgspec
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from simsiam_tui.store import RunHistory, encode_event
from simsiam_tui.store import cache as cache_module
from simsiam_tui.store import decode as decode_module
from simsiam_tui.store.cache import CACHE_NAME, MAGIC, read_cache, write_cache
from simsiam_tui.store.decode import load_history, read_span
from tests.store.test_decode import _same

ROWS = 100_000  # more rows than the files have: the cached history is the whole one, comparable row for row


def _events(first: int, last: int, resumed: int | None = None) -> str:
    lines = []
    if resumed is not None or first == 0:
        lines.append(encode_event("start", first, 0.0, {"resumed_from_step": resumed, "num_classes": 10}, now=1e9))
    for s in range(first + 1, last + 1):
        lines.append(
            encode_event("train", s, s / 100, {"loss": -s / 1000, "z_std": 0.04, "z_std_ref": 0.044}, now=1e9 + s)
        )
        if s % 10 == 0:
            lines.append(
                encode_event(
                    "collapse", s, s / 100, {"effective_rank": 30 - s / 100, "std_quantiles": [0.1, 0.2]}, now=1e9 + s
                )
            )
        if s % 50 == 0:
            lines.append(encode_event("eval", s, s / 100, {"knn_top1": s / 1000}, now=1e9 + s))
            lines.append(encode_event("checkpoint", s, s / 100, {"path": "last.pt", "reason": "epoch"}, now=1e9 + s))
    return "".join(lines)


@pytest.fixture
def events(tmp_path: Path) -> Path:
    run = tmp_path / "runs" / "20260101-000000-simsiam-0000"
    run.mkdir(parents=True)
    path = run / "events.jsonl"
    path.write_text(_events(0, 500) + "not json\n")  # one bad line: its count survives the cache
    return path


def _full(path: Path) -> RunHistory:
    return read_span(path, 0, path.stat().st_size)[0]


def _spans(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The start offsets load_history decodes from (the cache's offset when it stood in for the bytes before)."""
    starts: list[int] = []
    real = decode_module.read_span

    def spy(path, start, end, *args, **kwargs):  # type: ignore[no-untyped-def]
        starts.append(start)
        return real(path, start, end, *args, **kwargs)

    monkeypatch.setattr(decode_module, "read_span", spy)
    return starts


def test_written_beside_the_events_and_read_back_whole(events: Path) -> None:
    history, offset, bad, _ = load_history(str(events), events.stat().st_size, None, use_cache=True)
    assert offset == events.stat().st_size and bad == 1
    assert sorted(p.name for p in events.parent.iterdir()) == [CACHE_NAME, "events.jsonl"]  # no temp file left
    cached = read_cache(events)
    assert cached is not None and cached.offset == offset and cached.bad_lines == 1
    _same(cached.history, _full(events))
    assert cached.history.last["train"]["loss"] == -0.5 and cached.history.checkpoints[-1]["step"] == 500


def test_an_appended_file_decodes_only_its_tail(events: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    load_history(str(events), events.stat().st_size, ROWS, use_cache=True)
    covered = events.stat().st_size
    with events.open("a") as fh:  # the run went on, then resumed from step 480 (its steps after 480 redone)
        fh.write(_events(500, 520) + _events(480, 530, resumed=480))
    starts = _spans(monkeypatch)
    history, offset, bad, _ = load_history(str(events), events.stat().st_size, ROWS, use_cache=True)
    assert min(starts) == covered and offset == events.stat().st_size and bad == 1
    _same(history, _full(events))
    steps = list(history.series["train"].column("step"))
    assert steps == sorted(set(steps)) and steps[-1] == 530  # no step twice after the resume
    assert read_cache(events).offset == offset  # the cache moved on with the file


def test_thin_cache_keeps_first_and_last_rows(events: Path) -> None:
    full = _full(events)
    history, _, _, _ = load_history(str(events), events.stat().st_size, 300, use_cache=True)  # 16 + 28 + 256 rows
    cached = read_cache(events)
    assert cached is not None and cached.rows == 300
    steps, thin = list(full.series["train"].column("step")), list(cached.history.series["train"].column("step"))
    assert len(steps) == 500 and len(thin) <= 300 and thin == list(history.series["train"].column("step"))
    assert thin[:16] == steps[:16] and thin[-256:] == steps[-256:]  # the verdict's first and last rows stay exact
    assert set(thin) <= set(steps) and thin == sorted(thin)
    assert cached.history.series["train"].last("loss") == -0.5  # the table's last value too


def test_a_whole_read_never_starts_from_a_thin_cache(events: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    load_history(str(events), events.stat().st_size, 300, use_cache=True)
    with events.open("a") as fh:
        fh.write(_events(500, 510))
    starts = _spans(monkeypatch)
    history, _, _, _ = load_history(str(events), events.stat().st_size, None, use_cache=True)
    assert starts == [0]
    _same(history, _full(events))
    cached = read_cache(events)  # written whole now: the run opens whole next time, from its tail
    assert cached is not None and cached.rows is None
    _same(cached.history, history)


def test_truncated_file_is_read_again(events: Path) -> None:
    load_history(str(events), events.stat().st_size, ROWS, use_cache=True)
    events.write_text(_events(0, 40))  # same inode, shorter than the cache's offset
    assert read_cache(events) is None
    history, offset, bad, _ = load_history(str(events), events.stat().st_size, ROWS, use_cache=True)
    assert offset == events.stat().st_size and bad == 0
    _same(history, _full(events))


def test_replaced_file_is_read_again(events: Path, tmp_path: Path) -> None:
    load_history(str(events), events.stat().st_size, ROWS, use_cache=True)
    other = tmp_path / "other.jsonl"
    other.write_text(events.read_text() + _events(500, 510))  # a longer file with the same beginning
    os.replace(other, events)  # another inode
    assert read_cache(events) is None


def test_rewritten_in_place_is_read_again(events: Path) -> None:
    load_history(str(events), events.stat().st_size, ROWS, use_cache=True)
    data = bytearray(events.read_bytes())
    data[-30:-29] = b"7" if data[-30:-29] != b"7" else b"8"  # one byte before the cache's offset, same inode
    with events.open("r+b") as fh:
        fh.write(bytes(data))
        fh.write(_events(500, 505).encode())
    assert read_cache(events) is None


class _Boom:
    def __reduce__(self):  # type: ignore[no-untyped-def]
        return (os.system, ("touch PWNED",))


def _hostile_blobs(events: Path) -> dict[str, bytes]:
    """Cache files a broken disk or a hostile user could leave; each must be ignored."""
    load_history(str(events), events.stat().st_size, ROWS, use_cache=True)
    good = (events.parent / CACHE_NAME).read_bytes()
    size = int.from_bytes(good[len(MAGIC) : len(MAGIC) + 8], "little")
    header = json.loads(good[len(MAGIC) + 8 : len(MAGIC) + 8 + size])
    data = good[len(MAGIC) + 8 + size :]

    def blob(**changes: object) -> bytes:
        h = msgspec.json.encode({**header, **changes})
        return MAGIC + len(h).to_bytes(8, "little") + h + data

    bad_start = dict(header["starts"][0], step="0")
    return {
        "pickle": pickle.dumps(_Boom()),
        "empty": b"",
        "garbage": os.urandom(4096),
        "magic only": MAGIC,
        "huge header length": MAGIC + (1 << 62).to_bytes(8, "little") + b"{}",
        "header not json": MAGIC + (5).to_bytes(8, "little") + b"{{{{{" + data,
        "truncated data": good[:-8],
        "extra data": good + b"\0" * 8,
        "wrong field type": blob(offset="all"),
        "unknown header field": blob(exec="os.system('touch PWNED')"),
        "unknown kind": blob(columns=[["shell", c[1], c[2]] if i == 0 else c for i, c in enumerate(header["columns"])]),
        "rows beyond data": blob(columns=[[c[0], c[1], c[2] + 1000] for c in header["columns"]]),
        "ragged columns": blob(
            columns=[[c[0], c[1], c[2] + {3: 1, 4: -1}.get(i, 0)] for i, c in enumerate(header["columns"])]
        ),
        "start with a string step": blob(starts=[bad_start]),
        "end of another kind": blob(end=header["starts"][0]),
        "negative rows": blob(rows=-1),
        "deep nesting": MAGIC + (20_001).to_bytes(8, "little") + b"[" * 10_000 + b"]" * 10_000 + b"{",
    }


def test_corrupt_or_hostile_cache_is_ignored(events: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    want = _full(events)
    for name, blob in _hostile_blobs(events).items():
        (events.parent / CACHE_NAME).write_bytes(blob)
        assert read_cache(events) is None, name
        history, offset, bad, _ = load_history(str(events), events.stat().st_size, ROWS, use_cache=True)
        _same(history, want)
        assert offset == events.stat().st_size and bad == 1, name
        assert read_cache(events) is not None, name  # rebuilt from the events
    assert not (tmp_path / "PWNED").exists() and not (events.parent / "PWNED").exists()


def test_cache_that_is_not_a_regular_file_is_ignored(events: Path, tmp_path: Path) -> None:
    target = events.parent / CACHE_NAME
    target.symlink_to("/dev/zero")
    assert read_cache(events) is None
    target.unlink()
    os.mkfifo(target)  # a reader would block on it forever
    assert read_cache(events) is None
    target.unlink()
    target.mkdir()  # cannot be replaced by a file: the events are read, nothing else happens
    history, _, _, _ = load_history(str(events), events.stat().st_size, ROWS, use_cache=True)
    _same(history, _full(events))
    assert target.is_dir() and sorted(p.name for p in events.parent.iterdir()) == [CACHE_NAME, "events.jsonl"]


def test_never_written_outside_the_run_folder(events: Path, tmp_path: Path) -> None:
    outside = tmp_path / "outside.txt"
    outside.write_text("keep me")
    (events.parent / CACHE_NAME).symlink_to(outside)  # a hostile link where the cache goes
    load_history(str(events), events.stat().st_size, ROWS, use_cache=True)
    assert outside.read_text() == "keep me"
    assert not (events.parent / CACHE_NAME).is_symlink() and read_cache(events) is not None
    assert sorted(p.name for p in tmp_path.iterdir()) == ["outside.txt", "runs"]
    assert sorted(p.name for p in events.parent.iterdir()) == [CACHE_NAME, "events.jsonl"]


def test_unwritable_folder_only_costs_a_full_read(events: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: object, **kwargs: object) -> int:
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(cache_module.os, "open", refuse)
    assert write_cache(events, _full(events), events.stat().st_size, ROWS) is False
    history, _, _, _ = load_history(str(events), events.stat().st_size, ROWS, use_cache=True)
    _same(history, _full(events))


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=512))
def test_any_bytes_after_the_magic_never_raise(tmp_path_factory: pytest.TempPathFactory, tail: bytes) -> None:
    run = tmp_path_factory.mktemp("run")
    events = run / "events.jsonl"
    events.write_text(_events(0, 3))
    (run / CACHE_NAME).write_bytes(MAGIC + tail)
    assert read_cache(events) is None


def test_reading_commands_never_write_a_cache(events: Path) -> None:
    from simsiam_tui.store import read_events, read_history

    read_history(events)
    read_events(events)
    load_history(str(events), events.stat().st_size, ROWS)  # without use_cache: the CLI's way
    assert sorted(p.name for p in events.parent.iterdir()) == ["events.jsonl"]


def test_temporary_files_of_killed_writers_are_removed(events: Path) -> None:
    stale, fresh = events.parent / f".{CACHE_NAME}.111.dead.tmp", events.parent / f".{CACHE_NAME}.222.live.tmp"
    stale.write_bytes(b"half a cache")
    fresh.write_bytes(b"another writer, now")
    os.utime(stale, (1e9, 1e9))
    load_history(str(events), events.stat().st_size, ROWS, use_cache=True)
    assert not stale.exists() and fresh.exists() and read_cache(events) is not None
