"""A skim (the thin read of runs off the charts) keeps every kind but train exact, and the first and last train rows."""

from __future__ import annotations

import json
from pathlib import Path

from simsiam_tui.store import encode_event
from simsiam_tui.store.decode import read_span, skim_span, thin_history
from tests.store.test_decode import _same

ROWS = 300  # thin_history keeps 16 + up to 28 + 256 rows


def _write(path: Path, n: int, resume_at: int | None = None) -> None:
    lines = [encode_event("start", 0, 0.0, {"num_classes": 10}, now=1e9)]
    for s in range(1, n + 1):
        lines.append(
            encode_event("train", s, s / 100, {"loss": -s / n, "z_std": 0.04, "z_std_ref": 0.044}, now=1e9 + s)
        )
        if s % 25 == 0:
            lines.append(encode_event("collapse", s, s / 100, {"effective_rank": 30 - s / n}, now=1e9 + s))
        if s % 500 == 0:
            lines.append(encode_event("checkpoint", s, s / 100, {"path": "last.pt", "reason": "epoch"}, now=1e9 + s))
        if s == n // 3:
            lines.append("{not json\n")  # a bad line that is no train line: counted by a skim too
            lines.append(
                json.dumps({"v": 1, "kind": "eval", "time": 1e9, "step": s, "epoch": 1.0, "knn_top1": 0.5}) + "\n"
            )
        if resume_at is not None and s == 2 * n // 3:  # the run crashed and resumed from an earlier step
            lines.append(encode_event("start", resume_at, resume_at / 100, {"resumed_from_step": resume_at}, now=2e9))
            lines += [
                encode_event("train", t, t / 100, {"loss": 5.0, "z_std": 0.04, "z_std_ref": 0.044}, now=2e9 + t)
                for t in range(resume_at + 1, s + 1)
            ]
    path.write_text("".join(lines))


def _check(path: Path) -> None:
    size = path.stat().st_size
    full, offset, bad, _ = read_span(path, 0, size)
    skim, skim_offset, skim_bad, _ = skim_span(path, 0, size, ROWS, block=64 << 10)  # many blocks
    assert skim_offset == offset == size and skim_bad == bad == 1
    train, skim_train = list(full.series["train"].column("step")), list(skim.series["train"].column("step"))
    assert len(skim_train) < len(train) / 4  # a skim, not a whole read
    assert set(skim_train) <= set(train) and skim_train == sorted(set(skim_train))  # no step twice after a resume
    for kind in ("collapse", "eval", "system"):  # every other kind exact
        assert skim.series[kind].columns == full.series[kind].columns, kind
    assert (skim.starts, skim.checkpoints, skim.end, skim.last) == (full.starts, full.checkpoints, full.end, full.last)
    thin_history(full, ROWS)
    thin_history(skim, ROWS)
    train, skim_train = list(full.series["train"].column("step")), list(skim.series["train"].column("step"))
    assert skim_train[:16] == train[:16] and skim_train[-256:] == train[-256:]  # the verdict's and the table's rows
    assert skim.series["train"].last("loss") == full.series["train"].last("loss")


def test_skim_keeps_what_a_thin_history_shows(tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl"
    _write(path, 20_000)
    _check(path)


def test_skim_of_a_resumed_run_shows_no_step_twice(tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl"
    _write(path, 20_000, resume_at=9_000)
    _check(path)
    full = read_span(path, 0, path.stat().st_size)[0]
    assert full.series["train"].last("loss") == -1.0 and len(full.starts) == 2


def test_skim_of_a_short_file_is_a_whole_read(tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl"
    _write(path, 300)
    size = path.stat().st_size
    _same(skim_span(path, 0, size, ROWS)[0], read_span(path, 0, size)[0])
