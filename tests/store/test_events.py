"""Writer and tailing reader: a writer process appends while a reader process tails, partial lines included."""

from __future__ import annotations

import json
import math
import subprocess
import sys
import textwrap

from simsiam_tui.store import EventTail, EventWriter, RunHistory, read_events, read_status, update_status

WRITER = textwrap.dedent(
    """
    import sys, time
    path, n = sys.argv[1], int(sys.argv[2])
    with open(path, "ab", buffering=0) as fh:
        for step in range(1, n + 1):
            line = ('{"v":1,"kind":"train","time":%d,"step":%d,"epoch":0.0,"loss":%f}\\n' % (step, step, -step / n)).encode()
            cut = len(line) // 2
            fh.write(line[:cut])   # half a line is visible to the reader for a moment
            time.sleep(0.0005)
            fh.write(line[cut:])
    """
)

READER = textwrap.dedent(
    """
    import json, sys, time
    from simsiam_tui.store import EventTail
    tail, n, seen = EventTail(sys.argv[1]), int(sys.argv[2]), []
    deadline = time.time() + 60
    while len(seen) < n and time.time() < deadline:
        seen += [e["step"] for e in tail.poll()]
        time.sleep(0.001)
    print(json.dumps({"steps": seen, "bad": tail.bad_lines}))
    """
)


def test_writer_and_reader_processes_with_partial_lines(tmp_path):
    path = tmp_path / "events.jsonl"
    path.touch()
    n = 2000
    reader = subprocess.Popen([sys.executable, "-c", READER, str(path), str(n)], stdout=subprocess.PIPE, text=True)
    writer = subprocess.run([sys.executable, "-c", WRITER, str(path), str(n)], check=True)
    assert writer.returncode == 0
    out, _ = reader.communicate(timeout=90)
    result = json.loads(out)
    assert result["steps"] == list(range(1, n + 1))
    assert result["bad"] == 0


def test_partial_line_waits_and_garbage_is_counted(tmp_path):
    path = tmp_path / "events.jsonl"
    tail = EventTail(path)
    assert tail.poll() == []  # missing file: nothing, no error
    path.write_text('{"v":1,"kind":"train","step":1,"epoch":0,"loss":1.0}\n{"v":1,"kind":"tr')
    assert [e["step"] for e in tail.poll()] == [1]
    with path.open("a") as fh:
        fh.write('ain","step":2,"epoch":0,"loss":0.5}\nnot json at all\n{"v":1,"kind":"future_kind","step":3,"epoch":0}\n')
    events = tail.poll()
    assert [e["kind"] for e in events] == ["train", "future_kind"]
    assert tail.bad_lines == 1 and "unreadable" in tail.last_error
    history = RunHistory()
    history.apply(events)  # unknown kinds are tolerated
    assert len(history.series["train"]) == 1


def test_writer_buffers_and_encodes_nan_as_null(tmp_path):
    path = tmp_path / "events.jsonl"
    writer = EventWriter(path, flush_every_s=3600)
    writer.emit("train", step=1, epoch=0.1, loss=float("nan"), z_std=0.04)
    assert path.read_text() == ""  # buffered: no write per step
    writer.flush()
    event = json.loads(path.read_text())
    assert event["v"] == 1 and event["kind"] == "train" and event["loss"] is None and event["step"] == 1
    writer.close()


def _train(step: int, loss: float) -> dict:
    return {"v": 1, "kind": "train", "time": step, "step": step, "epoch": step / 10, "loss": loss}


def test_no_step_twice_after_resume(tmp_path):
    path = tmp_path / "events.jsonl"
    events = [{"v": 1, "kind": "start", "step": 0, "epoch": 0, "resumed_from_step": None}]
    events += [_train(s, 1.0) for s in range(1, 8)]  # checkpoint at 5, killed after 7
    events += [{"v": 1, "kind": "start", "step": 5, "epoch": 0.5, "resumed_from_step": 5}]
    events += [_train(s, 0.5) for s in range(6, 11)]
    path.write_text("".join(json.dumps(e) + "\n" for e in events))
    steps = [e["step"] for e in read_events(path) if e["kind"] == "train"]
    assert steps == list(range(1, 11))
    history = RunHistory()
    history.apply(EventTail(path).poll())
    assert list(history.series["train"].column("step")) == list(range(1, 11))
    assert list(history.series["train"].column("loss"))[5:] == [0.5] * 5


def test_history_columns_fill_missing_fields_with_nan():
    history = RunHistory()
    history.apply([_train(1, 1.0), {**_train(2, 0.9), "z_std": 0.03}])
    z = history.series["train"].column("z_std")
    assert math.isnan(z[0]) and z[1] == 0.03
    assert history.series["train"].last("z_std") == 0.03


def test_status_replaced_atomically(tmp_path):
    path = tmp_path / "status.json"
    update_status(path, state="queued", pid=None)
    update_status(path, state="running", pid=123)
    assert read_status(path) == {"state": "running", "pid": 123}
    # no temp files left (the lock file that serializes writers stays)
    assert sorted(p.name for p in tmp_path.iterdir()) == [".status.lock", "status.json"]
    path.write_text("{half")
    assert read_status(path) is None
