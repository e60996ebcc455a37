"""Hostile runs roots (issue 20, "Tests that attack"): every read command and the app's model hold against them.

Each example builds a runs root whose files are drawn at random from the hostile classes below, then runs, in
a memory-capped subprocess (tests/faults/hostile.py), every read command of the CLI in-process through typer's
CliRunner (`runs ls [--json]`, `runs show ID [--json]`, `runs logs ID [-n 3]`, `runs compare [--json]`,
`runs compare --by variant [--markdown|--json]`, `runs export [ID] --csv|--json FILE`) and the app's model (the
chart layout, `Catalog.scan`, `Poller.poll_once` with its status refresh, `RunModel.poll` and `poll_log`),
each in a thread joined after 10 s. It asserts: no traceback (exit 0, or 2 with one `error:` line), no command
over 10 s, no raw control character in a table or an error line, and nothing outside the root changed (the
folder every symlink points into is snapshotted: mode, size, mtime and hash of each entry, and no new entry).

Hostile classes generated, per file of a run folder (config.json, status.json, events.jsonl, worker.log,
checkpoints/last.pt) and for the root's .simsiam-tui-layout.json: valid; wrong types ("pid": "abc",
"heartbeat": "yesterday", "state": [..], "created": 1e300, "train": "abc", random JSON in any known field);
random JSON at the top; deep nesting ('[' * 100000); integers above 1e308; a torn last line (and a torn line
before a resume's `start`); garbage bytes; a 17 MB line; an empty file; terminal escape sequences in text
fields; a FIFO; a symlink to a file outside the root; a dangling symlink; a symlink to /dev/zero; a folder in
place of the file. Per run folder: checkpoints/ as a file, as a symlink to a folder outside, or missing; a name
with escape sequences. Per root: a run folder that is a symlink to a live-looking run outside, and
.queue.lock / .queue-runner.lock as symlinks to a file outside. test_every_class_once builds each class
deterministically (one root per class); the property test mixes them (20 examples per CI run).
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from tests.faults import hostile as h

# No shrink or explain phase: an example is a whole root of files judged by subprocesses, and shrinking one
# runs for Hypothesis' full five minutes. A failure prints the root it built (every file, what it holds) and
# every problem found on it; test_every_class_once names the class.
SETTINGS = settings(
    max_examples=20,
    deadline=None,
    phases=(Phase.explicit, Phase.reuse, Phase.generate),
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
_PID: list[int] = []


def _pid() -> int:
    if not _PID:
        _PID.append(h.dead_pid())
    return _PID[0]


def _check(tmp_path: Path, build: Callable[[Path, Path], list[str]]) -> None:
    """Build a root with `build(root, outside) -> ids`, run every read command on it, and judge."""
    base = Path(tempfile.mkdtemp(dir=tmp_path))
    root, outside, out = base / "runs", base / "outside", base / "out"
    for folder in (root, outside, out):
        folder.mkdir()
    (outside / "precious").write_bytes(b"not yours\n")
    try:
        ids = build(root, outside)
        before = h.snapshot(outside)
        records = h.run_driver(root, out, ids)
        after = h.snapshot(outside)
        bad = h.problems(records) + [f"WRITE OUTSIDE THE ROOT: {line}" for line in h.changes(before, after)]
        assert not bad, f"{len(bad)} problem(s) on a hostile root ({_describe(root)}):\n" + "\n".join(bad)
    finally:
        shutil.rmtree(base, ignore_errors=True)


def _describe(root: Path) -> str:
    """What the root held, short: each entry and, for each run folder, what each file is."""
    parts = []
    for entry in sorted(root.iterdir()):
        if entry.is_symlink():
            parts.append(f"{entry.name!r} -> {os.readlink(entry)}")
        elif entry.is_dir():
            inner = []
            for rel in (*h.RUN_FILES, "checkpoints"):
                p = entry / rel
                if p.is_symlink():
                    inner.append(f"{rel}->{os.readlink(p)}")
                elif p.exists() and not p.is_file() and not (rel == "checkpoints" and p.is_dir()):
                    inner.append(f"{rel}:{'fifo' if p.is_fifo() else 'folder'}")
                elif p.is_file():
                    head = p.read_bytes()[:40] if p.stat().st_size < (1 << 20) else b"<huge>"
                    inner.append(f"{rel}:{head!r}")
            parts.append(f"{entry.name!r}[{', '.join(inner)}]")
        else:
            parts.append(repr(entry.name))
    return "; ".join(parts)


# ---------------------------------------------------------------- strategies

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3),
    max_leaves=8,
)
SPECIAL = (h.FIFO, h.LINK_OUT, h.LINK_DANGLING, h.LINK_ZERO, h.FOLDER, h.EMPTY, h.BIG_INT, h.HUGE)


def file_case(name: str) -> st.SearchStrategy[tuple[str, Any]]:
    """(class, parameter) of one file; the first branch (valid) is where Hypothesis shrinks to."""
    wrong = st.sampled_from(h.WRONG_VALUES) | json_values
    return st.one_of(
        st.just((h.VALID, None)),
        st.dictionaries(st.sampled_from(h.keys_of(name)), wrong, min_size=1, max_size=4).map(
            lambda d: (h.WRONG_TYPES, d)
        ),
        json_values.map(lambda v: (h.RANDOM_JSON, v)),
        st.sampled_from([100_000, 100_001, 3_000]).map(lambda d: (h.DEEP, d)),
        st.floats(0.05, 0.95).map(lambda f: (h.TORN, f)),
        st.binary(min_size=1, max_size=120).map(lambda b: (h.GARBAGE, b + b"\x1b[2J\xff")),
        st.text(max_size=10).map(lambda t: (h.CONTROL, h.ESCAPES + t)),
        st.sampled_from(SPECIAL).map(lambda c: (c, None)),
    )


run_cases = st.fixed_dictionaries(
    {
        "files": st.fixed_dictionaries({rel: file_case(Path(rel).name) for rel in h.RUN_FILES}),
        "checkpoints": st.sampled_from(["folder", "file", "link-outside", "missing"]),
        "escaped_name": st.booleans(),
    }
)
root_cases = st.fixed_dictionaries(
    {
        "runs": st.lists(run_cases, min_size=1, max_size=3),
        "layout": file_case(h.LAYOUT),
        "linked_folder": st.booleans(),
        "lock_links": st.booleans(),
    }
)


def _name(i: int, escaped: bool = False) -> str:
    return f"20260101-00000{i % 10}-{'esc' + chr(27) + '[2J' if escaped else 'simsiam'}-{i:04x}"


def _root_extras(root: Path, outside: Path, layout: tuple[str, Any] | None, linked: bool, locks: bool) -> list[str]:
    ids = []
    if layout is not None:
        h.plant_file(root / h.LAYOUT, layout[0], layout[1], _pid(), outside)
    if linked:  # a run folder that is a symlink to a live-looking run elsewhere: never followed, never written
        os.symlink(h.outside_run(outside, _pid()), root / _name(90))
        ids.append(_name(90))
    if locks:
        for lock in (".queue.lock", ".queue-runner.lock"):
            os.symlink(outside / "precious", root / lock)
    return ids


@SETTINGS
@given(case=root_cases)
def test_hostile_roots_never_crash_hang_or_write_outside(tmp_path: Path, case: dict[str, Any]) -> None:
    def build(root: Path, outside: Path) -> list[str]:
        ids = []
        for i, run in enumerate(case["runs"]):
            name = _name(i, run["escaped_name"])
            h.build_run(root, outside, name, run["files"], _pid(), run["checkpoints"])
            ids.append(name)
        return ids + _root_extras(root, outside, case["layout"], case["linked_folder"], case["lock_links"])

    _check(tmp_path, build)


# ---------------------------------------------------------------- each class once, named (the catalogue)

# Per class, the parameter each file gets; WRONG_TYPES is one run per field, the issue's own examples.
WRONG_CASES: list[tuple[str, dict[str, Any]]] = [
    ("status.json", {"pid": "abc"}),
    ("status.json", {"heartbeat": "yesterday"}),
    ("status.json", {"state": ["running", "finished"]}),
    ("status.json", {"created": 1e300}),
    ("status.json", {"request": "lots", "gpus": "all", "exit_code": "x", "message": 5, "proc": [1]}),
    ("config.json", {"train": "abc"}),
    ("config.json", {"variant": ["x"], "scale": {"a": 1}, "model": 3, "linear_eval": "y", "monitor": None}),
    ("events.jsonl", {"step": "x", "epoch": "y", "time": "z"}),
    ("events.jsonl", {"kind": 5, "loss": "low", "z_std": [1], "knn_top1": {"a": 1}, "num_classes": "ten"}),
    (h.LAYOUT, {"charts": "abc", "x_axis": [1], "smooth": "no"}),
]
PARAMS: dict[str, Any] = {h.RANDOM_JSON: [1, "a", None], h.DEEP: 100_000, h.TORN: 0.5,
                          h.GARBAGE: b"\xff\xfe\x00\x1b[2J\x80garbage", h.CONTROL: h.ESCAPES}  # fmt: skip


@pytest.mark.parametrize("cls", [c for c in h.CLASSES if c != h.VALID] + ["structure"])
def test_every_class_once(tmp_path: Path, cls: str) -> None:
    def build(root: Path, outside: Path) -> list[str]:
        ids: list[str] = []
        if cls == "structure":  # links and odd shapes around otherwise valid runs
            for i, ckpt in enumerate(["folder", "file", "link-outside", "missing"]):
                h.build_run(root, outside, _name(i, escaped=i == 1), {}, _pid(), ckpt)
                ids.append(_name(i, escaped=i == 1))
            for lock in (".status.lock", ".run.lock"):
                os.symlink(outside / "precious", root / ids[0] / lock)
            return ids + _root_extras(root, outside, None, linked=True, locks=True)
        if cls == h.WRONG_TYPES:
            layout = None
            for i, (rel, fields) in enumerate(WRONG_CASES):
                if rel == h.LAYOUT:
                    layout = (cls, fields)
                    continue
                h.build_run(root, outside, _name(i), {rel: (cls, fields)}, _pid())
                ids.append(_name(i))
            return ids + _root_extras(root, outside, layout, linked=False, locks=False)
        for i, rel in enumerate(h.RUN_FILES):
            h.build_run(root, outside, _name(i), {rel: (cls, PARAMS.get(cls))}, _pid())
            ids.append(_name(i))
        return ids + _root_extras(root, outside, (cls, PARAMS.get(cls)), linked=False, locks=False)

    _check(tmp_path, build)
