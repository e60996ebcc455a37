"""Attack-test helpers: hostile run folders, a read-command driver with a time bound, planted packages, /proc scans.

Run as a script (`python tests/faults/hostile.py SPEC.json`) it is the driver: it runs every read command of
the CLI in-process (typer's CliRunner) and drives the app's model over one runs root, each in a thread with a
join timeout (a FIFO blocks an open() forever), under a memory limit (a link to /dev/zero must not fill the
machine), and writes one JSON record per command. Nothing here imports hypothesis, torch or textual.
"""

from __future__ import annotations

import hashlib
import json
import os
import signal
import socket
import stat
import subprocess
import sys
import threading
import time
import traceback
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
DRIVER = Path(__file__).resolve()
LIMIT_S = 10.0  # no read command may take longer on a hostile root (issue 20: "no hang over 10 s")
MEMORY_CAP = 3 << 30  # the driver's address space: a reader that slurps /dev/zero fails here, not the machine

RUN_FILES = ("config.json", "status.json", "events.jsonl", "worker.log", "checkpoints/last.pt")
LAYOUT = ".simsiam-tui-layout.json"

# The hostile classes, one per file. VALID is first: Hypothesis shrinks towards it, so a failing example keeps
# only the files that matter.
VALID = "valid"
WRONG_TYPES = "wrong-types"  # a well-formed file with some fields of the wrong type ("pid": "abc", ...)
RANDOM_JSON = "random-json"  # any JSON value at the top (a list, a number, a string, an object of junk)
DEEP = "deep"  # '[' * 100000: nesting past every recursion limit
BIG_INT = "big-int"  # integers above 1e308 where numbers belong
TORN = "torn"  # a valid file cut mid-line (a kill or a full disk mid-write)
GARBAGE = "garbage"  # random bytes: invalid UTF-8, NULs, escape sequences
HUGE = "huge"  # one line longer than every size cap (17 MB)
EMPTY = "empty"
CONTROL = "control-chars"  # right types, text full of terminal escape sequences
FIFO = "fifo"  # os.mkfifo: an open() for reading blocks until a writer comes
LINK_OUT = "link-outside"  # a symlink to a file outside the root (that file must not change)
LINK_DANGLING = "link-dangling"  # a symlink to a missing file outside the root (it must not be created)
LINK_ZERO = "link-dev-zero"  # a symlink to /dev/zero (endless)
FOLDER = "folder"  # a folder where a file belongs
CLASSES = (VALID, WRONG_TYPES, RANDOM_JSON, DEEP, BIG_INT, TORN, GARBAGE, HUGE, EMPTY, CONTROL, FIFO, LINK_OUT,
           LINK_DANGLING, LINK_ZERO, FOLDER)  # fmt: skip
HUGE_BYTES = 17 << 20

ESCAPES = "\x1b[2J\x1b[31mRED\x1b]0;pwned\x07\x1b[6n\r\x08\x00\x9b"
WRONG_VALUES: list[Any] = ["abc", "yesterday", ["running", "finished"], {"a": 1}, 1e300, -1, 10**400, None, True,
                           float("nan"), float("inf"), -(10**19), "", [[[]]]]  # fmt: skip
STATUS_KEYS = ("state", "pid", "pgid", "heartbeat", "created", "host", "gpus", "slot", "exit_code", "message",
               "request", "proc", "launched", "queued_at", "resumed", "slurm_job_id", "stop_requested", "name",
               "variant", "ended", "create_time")  # fmt: skip
CONFIG_KEYS = ("variant", "scale", "train", "model", "data", "method", "optim", "monitor", "group", "linear_eval",
               "description")  # fmt: skip
EVENT_KEYS = ("v", "kind", "time", "step", "epoch", "loss", "lr", "z_std", "z_std_ref", "knn_top1", "linear_top1",
              "num_classes", "resumed_from_step", "state", "reason", "effective_rank", "std_quantiles",
              "img_per_s", "total_steps", "gpu_util_pct")  # fmt: skip
LAYOUT_KEYS = ("charts", "x_axis", "smooth")


# ---------------------------------------------------------------- valid contents


def dead_pid() -> int:
    """A pid that existed a moment ago and is gone now (bait: a reader that writes `lost` for it writes)."""
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


_CONFIG: dict[str, Any] | None = None


def valid_config() -> dict[str, Any]:
    """A real resolved config (simsiam at the digits scale), as config.json holds it."""
    global _CONFIG
    if _CONFIG is None:
        from simsiam_tui.config import resolve_config

        _CONFIG = resolve_config("simsiam", "digits").to_dict()
    return json.loads(json.dumps(_CONFIG))


def valid_status(pid: int, state: str = "running") -> dict[str, Any]:
    """A status.json of a run on this host whose worker is gone: a careless reader marks it `lost`, i.e. writes."""
    now = time.time()
    return {
        "state": state, "name": "simsiam", "variant": "simsiam", "created": now - 100, "host": socket.gethostname(),
        "pid": pid, "pgid": pid, "heartbeat": now - 50, "launched": now - 90, "gpus": [], "slot": None,
        "request": {"gpus": [], "per_gpu": 1, "threads": 1}, "message": "", "exit_code": None,
    }  # fmt: skip


def valid_events(n: int = 6) -> list[dict[str, Any]]:
    t0 = time.time() - 100
    out: list[dict[str, Any]] = [{"v": 1, "kind": "start", "time": t0, "step": 0, "epoch": 0.0, "num_classes": 10,
                                  "resumed_from_step": 0, "total_steps": 100, "pid": 1, "host": "h", "seed": 0}]  # fmt: skip
    for s in range(1, n + 1):
        out.append({"v": 1, "kind": "train", "time": t0 + s, "step": s, "epoch": s / 10, "loss": -s / n, "lr": 0.03,
                    "z_std": 0.08, "z_std_ref": 0.088, "img_per_s": 100.0, "data_wait": 0.1})  # fmt: skip
    out.append({"v": 1, "kind": "eval", "time": t0 + n + 1, "step": n, "epoch": n / 10, "knn_top1": 0.5, "seconds": 1})
    out.append({"v": 1, "kind": "collapse", "time": t0 + n + 2, "step": n, "epoch": n / 10, "effective_rank": 20.0,
                "std_quantiles": [0.01] * 16})  # fmt: skip
    return out


def valid_layout() -> dict[str, Any]:
    return {"charts": [{"metric": "loss"}, {"metric": "z_ratio", "log_y": True}], "x_axis": "step", "smooth": True}


def dumps(value: Any) -> bytes:
    """JSON as Python writes it (NaN and Infinity included, integers of any size)."""
    return json.dumps(value).encode()


def jsonl(events: Iterable[Any]) -> bytes:
    return b"".join(dumps(e) + b"\n" for e in events)


def valid_bytes(name: str, pid: int) -> bytes:
    if name == "config.json":
        return dumps(valid_config())
    if name == "status.json":
        return dumps(valid_status(pid))
    if name == "events.jsonl":
        return jsonl(valid_events())
    if name == "worker.log":
        return b"--- started\nepoch 1 loss -0.5\nepoch 2 loss -0.7\n"
    if name == LAYOUT:
        return dumps(valid_layout())
    return b"PK\x03\x04" + bytes(range(256)) * 4  # checkpoints/last.pt: nothing reads it as tensors here


def _base_object(name: str, pid: int) -> dict[str, Any]:
    if name == "config.json":
        return valid_config()
    if name == "status.json":
        return valid_status(pid)
    if name == LAYOUT:
        return valid_layout()
    return dict(valid_events()[1])  # events, log, checkpoint: one event-shaped object


def keys_of(name: str) -> tuple[str, ...]:
    return {"config.json": CONFIG_KEYS, "status.json": STATUS_KEYS, LAYOUT: LAYOUT_KEYS}.get(name, EVENT_KEYS)


# ---------------------------------------------------------------- hostile contents


def hostile_bytes(name: str, cls: str, param: Any, pid: int) -> bytes:
    """The bytes of file `name` of class `cls` (a content class; links, FIFOs and folders are made elsewhere).

    param: for WRONG_TYPES a dict of field overrides; RANDOM_JSON any JSON value; DEEP a depth; TORN a cut
    fraction in [0, 1); GARBAGE bytes; CONTROL a string with escapes; others None.
    """
    events = name == "events.jsonl"
    if cls == VALID:
        return valid_bytes(name, pid)
    if cls == WRONG_TYPES:
        if events:  # good lines around bad ones: only the bad ones may be lost
            bad = [{**e, **param} for e in valid_events(3)]
            return jsonl([*valid_events(2), *bad, *valid_events(2)[1:]])
        return dumps({**_base_object(name, pid), **param})
    if cls == RANDOM_JSON:
        return jsonl([param, param]) if events else dumps(param)
    if cls == DEEP:
        depth = int(param or 100_000)
        nested = b'{"step":' + b"[" * depth + b"]" * depth + b"}" if depth % 2 else b"[" * depth
        return jsonl(valid_events(2)) + nested + b"\n" + jsonl(valid_events(2)[1:]) if events else nested
    if cls == BIG_INT:
        big = 10**400
        if events:
            return jsonl([*valid_events(2), {**valid_events(3)[2], "step": big, "time": big, "loss": big},
                          {**valid_events(3)[3], "epoch": -big}])  # fmt: skip
        obj = _base_object(name, pid)
        for key in keys_of(name)[:6]:
            obj[key] = big
        return dumps(obj)
    if cls == TORN:
        good = valid_bytes(name, pid)
        cut = max(1, int(len(good) * float(param or 0.5)))
        if events:  # a torn line in the middle, then a resume's start: the start must survive the tear
            resume = {"v": 1, "kind": "start", "time": time.time(), "step": 3, "epoch": 0.3, "resumed_from_step": 3}
            return good[:cut] + jsonl([resume, *valid_events(6)[4:]]) + good[: cut // 2]
        return good[:cut]
    if cls == GARBAGE:
        data = bytes(param or b"\xff\xfe\x00\x1b[2J\x80")
        return data + b"\n" + data if events else data
    if cls == HUGE:
        blob = b'{"v":1,"kind":"train","step":1,"epoch":0.1,"message":"' + b"x" * HUGE_BYTES + b'"}\n'
        return jsonl(valid_events(2)) + blob + jsonl(valid_events(2)[1:]) if events else blob
    if cls == EMPTY:
        return b""
    if cls == CONTROL:
        text = str(param or ESCAPES)
        obj = _base_object(name, pid)
        for key in ("message", "name", "variant", "host", "scale", "reason", "state", "description"):
            if key in obj or name == "status.json":
                obj[key] = text
        if events:
            return jsonl([*valid_events(2), {"v": 1, "kind": "end", "time": time.time(), "step": 2, "epoch": 0.2,
                                             "state": "failed", "reason": text}])  # fmt: skip
        if name == "worker.log":
            return ("epoch 1 " + text + "\n").encode()
        return dumps(obj)
    raise ValueError(f"not a content class: {cls}")


def plant_file(path: Path, cls: str, param: Any, pid: int, outside: Path) -> None:
    """Make `path` a file of class `cls`; links point into `outside` (made here, beside the root)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    token = f"{path.parent.name}-{path.name}".replace("/", "_")
    if cls == FIFO:
        os.mkfifo(path)
    elif cls == FOLDER:
        path.mkdir()
        (path / "inside").write_bytes(b"{}")
    elif cls == LINK_OUT:
        target = outside / f"target-{token}"
        target.write_bytes(valid_bytes(path.name, pid))  # a valid file: following the link would "work"
        os.symlink(target, path)
    elif cls == LINK_DANGLING:
        os.symlink(outside / f"missing-{token}", path)
    elif cls == LINK_ZERO:
        os.symlink("/dev/zero", path)
    else:
        path.write_bytes(hostile_bytes(path.name, cls, param, pid))


def build_run(root: Path, outside: Path, name: str, files: dict[str, tuple[str, Any]], pid: int,
              checkpoints: str = "folder") -> Path:  # fmt: skip
    """A run folder `root/name` whose files are of the given classes (a file not named is valid).

    checkpoints: "folder" (normal), "file" (a file where the folder belongs), "link-outside" (a symlink to a
    folder outside), "missing".
    """
    run = root / name
    run.mkdir()
    if checkpoints == "file":
        (run / "checkpoints").write_bytes(b"not a folder")
    elif checkpoints == "link-outside":
        target = outside / f"ckpt-{len(list(outside.iterdir()))}"
        target.mkdir()
        (target / "last.pt").write_bytes(valid_bytes("last.pt", pid))
        os.symlink(target, run / "checkpoints")
    elif checkpoints == "folder":
        (run / "checkpoints").mkdir()
    for rel in RUN_FILES:
        if rel.startswith("checkpoints/") and checkpoints != "folder":
            continue
        cls, param = files.get(rel, (VALID, None))
        plant_file(run / rel, cls, param, pid, outside)
    return run


def outside_run(outside: Path, pid: int) -> Path:
    """A valid-looking live run outside the root (the target of a symlinked run folder): bait for writes."""
    run = outside / "victim-run"
    (run / "checkpoints").mkdir(parents=True)
    for rel in RUN_FILES:
        (run / rel).write_bytes(valid_bytes(Path(rel).name, pid))
    return run


# ---------------------------------------------------------------- what changed


def snapshot(folder: Path) -> dict[str, tuple[Any, ...]]:
    """Every entry under `folder` (links not followed): kind, mode, size, mtime and a hash of regular files."""
    out: dict[str, tuple[Any, ...]] = {}
    for dirpath, dirnames, filenames in os.walk(folder, followlinks=False):
        for entry in [*dirnames, *filenames]:
            path = Path(dirpath) / entry
            st = os.lstat(path)
            rel = str(path.relative_to(folder))
            if stat.S_ISLNK(st.st_mode):
                out[rel] = ("link", os.readlink(path))
            elif stat.S_ISREG(st.st_mode):
                digest = hashlib.sha256(path.read_bytes()).hexdigest()
                out[rel] = ("file", st.st_mode, st.st_size, st.st_mtime_ns, digest)
            elif stat.S_ISDIR(st.st_mode):
                out[rel] = ("dir", st.st_mode)
            else:
                out[rel] = ("other", st.st_mode, st.st_mtime_ns)
    return out


def changes(before: dict[str, tuple[Any, ...]], after: dict[str, tuple[Any, ...]]) -> list[str]:
    """What differs between two snapshots, one line per path."""
    lines = [f"created {p}" for p in sorted(set(after) - set(before))]
    lines += [f"removed {p}" for p in sorted(set(before) - set(after))]
    lines += [
        f"changed {p}: {before[p]} -> {after[p]}" for p in sorted(set(before) & set(after)) if before[p] != after[p]
    ]
    return lines


# ---------------------------------------------------------------- processes


def cmdlines() -> Iterable[tuple[int, list[str]]]:
    """(pid, argv) of every process we can see."""
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            raw = Path(f"/proc/{entry}/cmdline").read_bytes()
        except OSError:
            continue
        if raw:
            yield int(entry), [a.decode(errors="replace") for a in raw.rstrip(b"\0").split(b"\0")]


def processes_naming(path: Path | str) -> list[tuple[int, list[str]]]:
    """Processes (not this one) whose command line names `path` or something under it."""
    text = str(path).rstrip("/")
    me = os.getpid()
    return [(pid, argv) for pid, argv in cmdlines() if pid != me and any(text in arg for arg in argv)]


def kill_processes_naming(path: Path | str) -> None:
    """SIGKILL every process that names `path` (workers and runners a test started there), and its group."""
    for pid, _ in processes_naming(path):
        for kill in (lambda p: os.killpg(os.getpgid(p), signal.SIGKILL), lambda p: os.kill(p, signal.SIGKILL)):
            try:
                if pid != os.getpid() and os.getpgid(pid) != os.getpgrp():
                    kill(pid)
            except (ProcessLookupError, PermissionError, OSError):
                pass


# ---------------------------------------------------------------- the CLI as a user runs it

# A console script's sys.path[0] is its bin folder, never the working folder: `python -c` would put '' (the
# working folder) first and import a planted package itself, which is no fault of the product. So drop it.
CLI_CODE = "import sys; del sys.path[0]; from simsiam_tui.cli.main import main; sys.argv[0] = 'simsiam-tui'; main()"


def cli_argv(*args: str) -> list[str]:
    return [sys.executable, "-c", CLI_CODE, *args]


def cli_env(**extra: str) -> dict[str, str]:
    """The caller's environment with this tree first on the path (as the other launcher tests run the CLI)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SIMSIAM_TUI_")}  # no inherited worker or root
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO), os.environ.get("PYTHONPATH", "")) if p)
    env.setdefault("OMP_NUM_THREADS", "1")
    env.update(extra)
    return env


def run_cli(*args: str, cwd: Path, env: dict[str, str] | None = None, timeout: float = 60,
            user: str | None = None) -> subprocess.CompletedProcess[str]:  # fmt: skip
    """`simsiam-tui ARGS` from `cwd` (umask 022, so the modes are what a usual shell gives)."""
    return subprocess.run(cli_argv(*args), cwd=cwd, env=env or cli_env(), capture_output=True, text=True,
                          timeout=timeout, umask=0o022, user=user)  # fmt: skip


def plant_package(root: Path, marker: Path) -> Path:
    """`root/simsiam_tui/__init__.py` that appends who imported it to `marker` (it must never run)."""
    pkg = root / "simsiam_tui"
    pkg.mkdir(parents=True, exist_ok=True)
    (pkg / "__init__.py").write_text(planted_source(marker))
    return pkg


def planted_source(marker: Path) -> str:
    return (
        "import os, sys\n"
        f"with open({str(marker)!r}, 'a') as fh:\n"
        "    fh.write(f'uid={os.getuid()} pid={os.getpid()} cwd={os.getcwd()} argv={sys.argv!r}\\n')\n"
    )


def stand_in_worker(importing: bool = True) -> str:
    """$SIMSIAM_TUI_WORKER: imports simsiam_tui (as the real worker would) when asked, says so in the run folder,
    then sleeps until killed. `python -c` puts the working folder first on sys.path, as `-m` does."""
    code = 'import sys, time, pathlib; pathlib.Path(sys.argv[1], "stand-in.started").write_text("x"); time.sleep(300)'
    if importing:
        code = "import simsiam_tui; " + code
    return f"{sys.executable} -c '{code}' {{run_dir}}"


def status_of(run_dir: Path) -> dict[str, Any]:
    try:
        data = json.loads((run_dir / "status.json").read_text())
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


# ---------------------------------------------------------------- the driver (runs in a subprocess)


def read_commands(root: Path, out: Path, ids: list[str]) -> list[list[str]]:
    """Every read command of the CLI on `root`: the lists, compare, export, and per run show and logs."""
    r = ["--runs", str(root)]
    cmds = [
        ["runs", "ls", *r], ["runs", "ls", "--json", *r], ["runs", "compare", *r], ["runs", "compare", "--json", *r],
        ["runs", "compare", "--by", "variant", *r], ["runs", "compare", "--by", "variant", "--markdown", *r],
        ["runs", "compare", "--by", "variant", "--json", *r],
        ["runs", "export", "--csv", str(out / "all.csv"), *r], ["runs", "export", "--json", str(out / "all.json"), *r],
    ]  # fmt: skip
    for i, run_id in enumerate(ids):
        cmds += [
            ["runs", "show", run_id, *r], ["runs", "show", run_id, "--json", *r], ["runs", "logs", run_id, *r],
            ["runs", "logs", run_id, "-n", "3", *r],
            ["runs", "export", run_id, "--csv", str(out / f"run{i}.csv"), *r],
        ]  # fmt: skip
    return cmds


def _release_fifos(root: Path) -> None:
    """Open every FIFO under root from the other end and close it: a reader blocked in open() gets EOF."""
    for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
        for entry in [*dirnames, *filenames]:
            path = Path(dirpath) / entry
            try:
                if not stat.S_ISFIFO(os.lstat(path).st_mode):
                    continue
                rd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
                wr = os.open(path, os.O_WRONLY | os.O_NONBLOCK)
                os.close(wr)
                os.close(rd)
            except OSError:
                pass


def _timed(fn: Callable[[], dict[str, Any]], limit: float) -> dict[str, Any]:
    box: dict[str, Any] = {}

    def target() -> None:
        try:
            box.update(fn())
        except BaseException as exc:  # recorded, judged by the test
            box.update(exception=type(exc).__name__, traceback="".join(traceback.format_exception(exc))[-6000:])

    start = time.monotonic()
    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    thread.join(limit)
    box["seconds"] = round(time.monotonic() - start, 3)
    box["hung"] = thread.is_alive()
    return box


def _cli(args: list[str]) -> dict[str, Any]:
    from typer.testing import CliRunner

    from simsiam_tui.cli.main import app

    result = CliRunner().invoke(app, args, catch_exceptions=True)
    record: dict[str, Any] = {"exit_code": result.exit_code, "stdout": result.stdout[-4000:],
                              "stderr": result.stderr[-4000:]}  # fmt: skip
    if result.exit_code == 0 and "--json" in args and args[1] in ("ls", "show", "compare"):  # JSON on stdout
        try:
            json.loads(result.stdout)
        except ValueError as err:
            record["json_error"] = str(err)[:200]
    exc = result.exception
    if exc is not None and not isinstance(exc, SystemExit):
        record["exception"] = type(exc).__name__
        record["traceback"] = (
            "".join(traceback.format_exception(*result.exc_info))[-6000:] if result.exc_info else repr(exc)
        )
    return record


class _QuietBackend:
    """The app's backend with the GPU probe left out (refresh is the real one: the app's own write path)."""

    def __init__(self) -> None:
        from simsiam_tui.ui.actions import Backend

        self._real = Backend()

    def refresh(self, paths: Any) -> None:
        self._real.refresh(paths)

    def gpus(self) -> tuple[list[dict[str, Any]], str | None]:
        return [], "no probe in this test"


def _app_model(root: Path) -> dict[str, Any]:
    """What the app does on a root: load the chart layout, then poll passes (scan, status, events, log) of its model."""
    from simsiam_tui.ui import fastread
    from simsiam_tui.ui.layout import load_layout
    from simsiam_tui.ui.model import Catalog
    from simsiam_tui.ui.poller import Poller

    _, notice = load_layout(root)
    catalog = Catalog([root])
    poller = Poller(catalog, _QuietBackend(), notify=lambda changes: None, scan_every=0.0, refresh_every=0.0)  # type: ignore[arg-type]
    deadline = time.monotonic() + 5.0
    try:
        for _ in range(8):
            poller.poll_once()
            for model in catalog.models():
                poller.focus = model.key
                poller.poll_once()  # the focused run's log too
            if all(m.caught_up for m in catalog.models()) or time.monotonic() > deadline:
                break
            time.sleep(0.05)
        summaries = [repr(m.summary)[:300] for m in catalog.models()]
    finally:
        fastread.shutdown_pool()
    return {"exit_code": 0, "stdout": f"layout notice: {notice}\n" + "\n".join(summaries), "stderr": ""}


def drive(spec: dict[str, Any]) -> list[dict[str, Any]]:
    """Run each read command and the app's model on spec['root']; stop at the first hang when asked."""
    root, out = Path(spec["root"]), Path(spec["out"])
    limit = float(spec.get("limit_s", LIMIT_S))
    records: list[dict[str, Any]] = []
    steps: list[tuple[str, Callable[[], dict[str, Any]]]] = [
        (" ".join(cmd), (lambda cmd=cmd: _cli(cmd))) for cmd in read_commands(root, out, spec["ids"])
    ]
    steps.append(
        ("app model: load_layout, Catalog.scan, Poller.poll_once, RunModel.poll/poll_log", lambda: _app_model(root))
    )
    for name, step in steps:
        record = _timed(step, limit)
        record["command"] = name
        records.append(record)
        if record["hung"]:
            _release_fifos(root)  # unblock the reader so the next command is not stuck behind it
            if spec.get("stop_at_hang", True):
                break
    return records


def run_driver(root: Path, out: Path, ids: list[str], stop_at_hang: bool = True) -> list[dict[str, Any]]:
    """The driver in a subprocess (memory-capped, killed if it outlives every command's bound)."""
    spec_path = out / "driver-spec.json"
    result_path = out / "driver-result.json"
    spec = {"root": str(root), "out": str(out), "ids": ids, "stop_at_hang": stop_at_hang, "result": str(result_path)}
    spec_path.write_text(json.dumps(spec))
    n = len(read_commands(root, out, ids)) + 1
    proc = subprocess.Popen([sys.executable, str(DRIVER), str(spec_path)], cwd=out, env=cli_env(COLUMNS="160"),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)  # fmt: skip
    try:
        _, err = proc.communicate(timeout=LIMIT_S * (3 if stop_at_hang else n) + 60)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()
        raise AssertionError(f"the read-command driver did not finish on {root}") from None
    finally:
        _kill_group(proc.pid)
    if not result_path.exists():
        raise AssertionError(f"the driver died (exit {proc.returncode}) on {root}: {err[-3000:]}")
    records: list[dict[str, Any]] = json.loads(result_path.read_text())
    return records


def _kill_group(pgid: int) -> None:
    try:
        os.killpg(pgid, signal.SIGKILL)  # a reader thread of the driver's process pool may still be blocked
    except (ProcessLookupError, PermissionError):
        pass


_CONTROL = {chr(c) for c in (*range(0x00, 0x09), *range(0x0B, 0x20), 0x7F)}


def problems(records: list[dict[str, Any]]) -> list[str]:
    """Each way a record breaks the trust boundary: a hang, a traceback, an exit code other than 0 or 2, an
    exit 2 without exactly one `error:` line, raw control characters in a table or an error line."""
    out = []
    for rec in records:
        cmd = rec["command"]
        if rec.get("hung"):
            out.append(f"HANG (> {LIMIT_S:.0f} s): {cmd}")
            continue
        if rec.get("exception"):
            last = rec.get("traceback", "").strip().splitlines()[-1:] or [rec["exception"]]
            out.append(f"TRACEBACK {rec['exception']}: {cmd}\n    {last[0]}\n" + _indent(rec.get("traceback", "")))
            continue
        code = rec.get("exit_code")
        lines = [ln for ln in rec.get("stderr", "").splitlines() if ln.strip()]
        if code not in (0, 2):
            out.append(f"EXIT {code}: {cmd}: {rec.get('stderr', '')[-500:]}")
        elif code == 2 and not (len(lines) == 1 and lines[0].startswith("error: ")):
            out.append(f"EXIT 2 without one error line: {cmd}: {rec.get('stderr', '')[-500:]!r}")
        elif "Traceback" in rec.get("stderr", ""):
            out.append(f"TRACEBACK on stderr: {cmd}: {rec['stderr'][-800:]}")
        if rec.get("json_error"):
            out.append(f"INVALID JSON on stdout ({rec['json_error']}): {cmd}")
        shown = rec.get("stderr", "") + ("" if " logs " in cmd or "--json" in cmd else rec.get("stdout", ""))
        raw = sorted({repr(c) for c in shown if c in _CONTROL})
        if raw:
            out.append(f"RAW CONTROL CHARACTERS {', '.join(raw)}: {cmd}")
    return out


def _indent(text: str) -> str:
    return "".join("      " + ln + "\n" for ln in text.strip().splitlines()[-8:])


def _main(spec_path: str) -> None:
    import resource

    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_CAP, MEMORY_CAP))
    spec = json.loads(Path(spec_path).read_text())
    try:
        records = drive(spec)
    except BaseException as exc:
        records = [{"command": "driver", "exception": type(exc).__name__, "traceback": traceback.format_exc()[-6000:]}]
    Path(spec["result"]).write_text(json.dumps(records))
    sys.stdout.flush()
    os._exit(0)  # a reader thread blocked on a FIFO must not keep the driver alive


if __name__ == "__main__":
    sys.path[0:1] = []  # this folder (tests/faults) is no package root; the tree comes from PYTHONPATH
    _main(sys.argv[1])
