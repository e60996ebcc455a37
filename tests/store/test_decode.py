"""The typed msgspec decoder gives the same history as the stdlib reader, line for line, odd lines included."""

from __future__ import annotations

import json
import math
from pathlib import Path

from hypothesis import example, given, settings
from hypothesis import strategies as st

from simsiam_tui.store import EventTail, RunHistory
from simsiam_tui.store.decode import TrainEvent, bulk_apply, decode_chunk, read_span
from simsiam_tui.store.reader import valid_event


def _same(a: RunHistory, b: RunHistory) -> None:
    for kind in a.series:
        ca, cb = a.series[kind].columns, b.series[kind].columns
        assert set(ca) == set(cb), kind
        for name in ca:
            assert len(ca[name]) == len(cb[name]), (kind, name)
            for x, y in zip(ca[name], cb[name], strict=True):
                assert x == y or (math.isnan(x) and math.isnan(y)), (kind, name, x, y)
    assert a.starts == b.starts and a.checkpoints == b.checkpoints and a.end == b.end
    assert a.last == b.last


LINES = [
    {"v": 1, "kind": "start", "time": 1.0, "step": 0, "epoch": 0.0, "host": "h", "total_steps": 100},
    {"v": 1, "kind": "train", "time": 2.0, "step": 10, "epoch": 0.1, "loss": -0.5, "lr": 0.05, "z_std": 0.02},
    {"v": 1, "kind": "train", "time": 3.0, "step": 20, "epoch": 0.2, "loss": None, "lr": 0.05},  # diverged: null
    {"v": 1, "kind": "train", "time": 4.0, "step": 30, "epoch": 0.3, "loss": 1, "ema_momentum": 0.99},  # int loss
    {"v": 1, "kind": "collapse", "time": 4.0, "step": 30, "epoch": 0.3, "std_quantiles": [0.1, 0.2], "effective_rank": 3.5},
    {"v": 1, "kind": "checkpoint", "time": 5.0, "step": 30, "epoch": 0.3, "path": "last.pt", "reason": "epoch"},
    {"v": 1, "kind": "train", "time": 5.5, "step": 40, "epoch": 0.4, "loss": True},  # a bool is not a number
    {"v": 1, "kind": "train", "time": 5.6, "step": 41, "epoch": 0.4, "novel_metric": 2.5},  # unknown field
    {"v": 1, "kind": "mystery", "time": 5.7, "step": 41, "epoch": 0.4},  # unknown kind
    {"v": 1, "kind": "system", "time": 6.0, "step": 41, "epoch": 0.4, "gpu_util_pct": 97, "cpu_pct": 50.0},
    {"v": 1, "kind": "eval", "time": 6.5, "step": 41, "epoch": 0.4, "knn_top1": 0.3, "knn_k": 200, "seconds": 1.5},
    {"v": 1, "kind": "start", "time": 7.0, "step": 30, "epoch": 0.3, "resumed_from_step": 30},
    {"v": 1, "kind": "train", "time": 8.0, "step": 40, "epoch": 0.4, "loss": -0.6},
    {"v": 1, "kind": "end", "time": 9.0, "step": 40, "epoch": 0.4, "state": "finished", "reason": "done"},
]


def _text(lines: list[object]) -> bytes:
    return b"".join((x if isinstance(x, bytes) else json.dumps(x).encode()) + b"\n" for x in lines)


def test_mixed_file_matches_the_reader(tmp_path: Path) -> None:
    data = _text([
        *LINES[:3], b"not json", b"[1, 2]", b'{"no": "kind"}',
        b'{"v":1,"kind":"train","time":3.5,', b'"step":25,"epoch":0.25,"loss":0.5}',  # one value over two lines
        b'{"v":1,"kind":"train","time":3.6,"step":26,"epoch":0.26} {"v":1,"kind":"eval","time":3.6,"step":26,"epoch":0.26}',
        b'{"v":1,"kind":"train","time":3.7,"step":27.0,"epoch":0.27}',  # a step that is not an integer
        b'{"v":1,"kind":"collapse","time":3.8,"step":28,"epoch":0.28,"dim":3.5}',  # dim not an integer
        b'{"v":true,"kind":"train","time":3.9,"step":29,"epoch":0.29}',  # a bool is not an int
        b"   ",  # whitespace only: skipped, not bad
        *LINES[3:],
    ])
    path = tmp_path / "events.jsonl"
    path.write_bytes(data + b'{"v":1,"kind":"train","ti')  # a partial last line waits
    reference = RunHistory()
    ref_tail = EventTail(path)
    reference.apply(ref_tail.poll())
    tail = EventTail(path)
    events = decode_chunk(data, tail)
    assert any(isinstance(e, TrainEvent) for e in events)  # the fast path was taken
    fast = RunHistory()
    bulk_apply(fast, events)
    _same(fast, reference)
    assert tail.bad_lines == ref_tail.bad_lines == 10
    history, offset, bad, _ = read_span(path, 0, path.stat().st_size, block=97)  # blocks split lines
    _same(history, reference)
    assert offset == len(data) and bad == 10


_value = st.one_of(st.none(), st.booleans(), st.integers(-5, 5), st.floats(allow_nan=False), st.text(max_size=3))


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.fixed_dictionaries(
            {"kind": st.sampled_from(["train", "collapse", "eval", "checkpoint", "system", "x"])},
            optional={
                "v": st.just(1),
                "time": st.floats(0, 1e9),
                "step": st.one_of(st.integers(0, 1000), st.floats(0, 10)),
                "epoch": st.floats(0, 10),
                "loss": _value,
                "knn_top1": _value,
                "effective_rank": _value,
                "dim": _value,
                "std_quantiles": st.one_of(st.none(), st.lists(_value, max_size=3)),
                "other": _value,
            },
        ),
        max_size=30,
    )
)
@example([{"kind": "collapse", "epoch": 0.0, "time": 0.0, "std_quantiles": None, "step": 0}])  # no column of it
def test_any_events_match_the_reader(events: list[dict[str, object]]) -> None:
    data = _text(events)
    reference = RunHistory()
    reference.apply([e for e in map(json.loads, data.splitlines()) if valid_event(e)])
    fast = RunHistory()
    bulk_apply(fast, decode_chunk(data))
    _same(fast, reference)
