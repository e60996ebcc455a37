"""End to end through the real CLI in subprocesses: detached suites, stop/resume, kill -9 -> lost -> resume, the queue."""

from __future__ import annotations

import json
import os
import signal
import sys
import time
from pathlib import Path

import pytest

from tests.launch.conftest import TINY, events_of, run_cli, status_of, wait_until

pytestmark = pytest.mark.slow

LIVE = ("queued", "starting", "running")


def _launch(root: Path, *args: str, env: dict[str, str] | None = None) -> list[dict]:
    started = time.monotonic()
    result = run_cli("launch", *args, *TINY, "--runs", str(root), "--json", env=env)
    assert result.returncode == 0, result.stderr
    assert time.monotonic() - started < 30, "launch must return at once, not wait for the runs"
    return json.loads(result.stdout)


def _states(root: Path) -> dict[str, str]:
    result = run_cli("runs", "ls", "--runs", str(root), "--json")
    assert result.returncode == 0, result.stderr
    return {row["id"]: row["state"] for row in json.loads(result.stdout)}


def _wait_all_ended(root: Path, timeout: float) -> dict[str, str]:
    return wait_until(
        lambda: (s := _states(root)) and all(v not in LIVE for v in s.values()) and s, timeout, "runs to end"
    )


def _train_steps(run_dir: Path) -> list[int]:
    return [e["step"] for e in events_of(run_dir) if e["kind"] == "train"]


def test_stop_grad_suite_detached_and_compared(root: Path) -> None:
    launched = _launch(root, "--suite", "stop-grad", "--set", "train.epochs=6", "--per-gpu", "2")
    assert len(launched) == 2 and all(Path(r["dir"]).is_dir() for r in launched)
    assert {r["state"] for r in launched} <= {"starting", "running", "queued"}
    states = _wait_all_ended(root, 240)
    assert set(states.values()) == {"finished"}, states
    result = run_cli("runs", "compare", "--runs", str(root), "--json")
    rows = {r["variant"]: r for r in json.loads(result.stdout)}
    assert set(rows) == {"simsiam", "no-stop-grad"}
    assert rows["no-stop-grad"]["verdict"] in ("collapsing", "collapsed"), rows["no-stop-grad"]
    assert rows["simsiam"]["verdict"] == "healthy", rows["simsiam"]
    assert rows["simsiam"]["knn_top1_last"] > 0.3
    table = run_cli("runs", "compare", *[r["id"] for r in launched], "--runs", str(root))
    assert table.returncode == 0, table.stderr
    for r in launched:
        assert r["id"] in table.stdout
    assert "collaps" in table.stdout and "healthy" in table.stdout
    out = root.parent / "series.csv"
    export = run_cli("runs", "export", "--runs", str(root), "--csv", str(out))
    assert export.returncode == 0, export.stderr
    header, *lines = out.read_text().splitlines()
    assert header.startswith("run_id,variant,kind,step,epoch,time") and "z_std" in header and "knn_top1" in header
    assert len(lines) > 20
    shown = run_cli("runs", "show", launched[0]["id"][:20], "--runs", str(root), "--json")
    assert json.loads(shown.stdout)["summary"]["state"] == "finished"
    logs = run_cli("runs", "logs", launched[0]["id"], "--runs", str(root))
    assert "simsiam_tui.train" in logs.stdout


def test_stop_mid_run_then_resume_logs_no_step_twice(root: Path) -> None:
    (run,) = _launch(
        root, "--preset", "simsiam", "--set", "train.epochs=2", env={"SIMSIAM_TUI_FAULT": "hold_at_step=12"}
    )
    run_dir = Path(run["dir"])
    wait_until(lambda: 12 in _train_steps(run_dir), 120, "the worker to reach step 12")
    stop = run_cli("runs", "stop", run["id"], "--wait", "--runs", str(root), "--json")
    assert stop.returncode == 0, stop.stderr
    assert json.loads(stop.stdout)[0]["state"] == "stopped"
    status = status_of(run_dir)
    assert status["state"] == "stopped"
    assert (run_dir / "checkpoints" / "last.pt").exists()
    assert any(e["kind"] == "end" and e["state"] == "stopped" for e in events_of(run_dir))

    resume = run_cli("runs", "resume", run["id"][:22], "--runs", str(root), "--json")
    assert resume.returncode == 0, resume.stderr
    assert json.loads(resume.stdout)[0]["action"] == "resumed from step 12"  # said once the worker had loaded it
    _wait_all_ended(root, 120)
    assert status_of(run_dir)["state"] == "finished"
    steps = _train_steps(run_dir)
    assert len(steps) == len(set(steps)), "a step was logged twice"
    assert steps == sorted(steps)
    starts = [e for e in events_of(run_dir) if e["kind"] == "start"]
    assert len(starts) == 2 and starts[1]["resumed_from_step"] == 12
    assert max(steps) > 12


def test_kill_9_gives_lost_then_resume_finishes(root: Path) -> None:
    (run,) = _launch(
        root, "--preset", "simsiam", "--set", "train.epochs=2", env={"SIMSIAM_TUI_FAULT": "hold_after_epoch=1"}
    )
    run_dir = Path(run["dir"])
    wait_until(lambda: any(e["kind"] == "checkpoint" for e in events_of(run_dir)), 120, "the first epoch's checkpoint")
    status = wait_until(lambda: (s := status_of(run_dir)).get("state") == "running" and s, 30, "running")
    os.killpg(status["pgid"], signal.SIGKILL)
    states = wait_until(lambda: (s := _states(root))[run["id"]] == "lost" and s, 30, "the run to show lost")
    assert states[run["id"]] == "lost"
    # `runs ls` reads only (status.json keeps `running` until a writing command); its row says why it is lost
    rows = json.loads(run_cli("runs", "ls", "--runs", str(root), "--json").stdout)
    assert "gone" in rows[0]["message"]
    resume = run_cli("runs", "resume", run["id"], "--runs", str(root))
    assert resume.returncode == 0, resume.stderr
    assert _wait_all_ended(root, 120)[run["id"]] == "finished"
    compare = json.loads(run_cli("runs", "compare", run["id"], "--runs", str(root), "--json").stdout)
    assert compare[0]["epoch"] == 2.0


def test_queue_never_exceeds_slots_and_finishes_after_launcher_exits(root: Path) -> None:
    launched = _launch(
        root,
        "--preset",
        "simsiam",
        "--preset",
        "no-predictor",
        "--preset",
        "simsiam",
        "--set",
        "train.epochs=1",
        "--per-gpu",
        "2",
    )
    assert [r["state"] for r in launched].count("queued") == 1  # two slots: the third waits
    states = _wait_all_ended(root, 240)
    assert set(states.values()) == {"finished"}, states
    spans = []
    for r in launched:
        status = status_of(Path(r["dir"]))
        spans.append((status["launched"], status["ended"]))
    events = sorted([(a, 1) for a, _ in spans] + [(b, -1) for _, b in spans])
    running = peak = 0
    for _, delta in events:
        running += delta
        peak = max(peak, running)
    assert peak == 2, spans
    # the runner leaves once the queue is empty
    from simsiam_tui.launch import runner_alive

    wait_until(lambda: not runner_alive(root), 10, "the queue runner to exit")


def _sigint_default() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def test_follow_shows_live_table_and_ctrl_c_detaches(root: Path) -> None:
    import subprocess

    from tests.launch.conftest import CLI

    # TTY_COMPATIBLE: rich draws every refresh into the file as on a terminal (piped, it draws only the last)
    env = dict(os.environ, OMP_NUM_THREADS="1", SIMSIAM_TUI_FAULT="hold_at_step=4", TTY_COMPATIBLE="1", TERM="xterm")
    env["COLUMNS"] = "220"  # run ids are never cut
    args = [*CLI, "launch", "--preset", "simsiam", *TINY, "--set", "train.epochs=1", "--runs", str(root), "--follow"]
    table = root.parent / "follow.out"  # a file, not a pipe: the test reads the table while --follow runs
    with table.open("w") as out_fh:
        # Ctrl-C as a terminal delivers it: a test run started in the background (`cmd &` in a script) passes
        # SIGINT down ignored, and Python then installs no KeyboardInterrupt handler at all
        proc = subprocess.Popen(
            args, stdout=out_fh, stderr=subprocess.PIPE, text=True, env=env, preexec_fn=_sigint_default
        )
    try:
        run_dir = wait_until(lambda: next(iter(root.glob("*/status.json")), None), 30, "the run directory").parent
        wait_until(lambda: 4 in _train_steps(run_dir), 120, "the worker to reach step 4")
        wait_until(lambda: "running" in table.read_text(), 60, "a table refresh that shows the run running")
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=30)
        out = table.read_text()
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, err
    assert "detached" in err
    assert run_dir.name in out and "running" in out
    assert status_of(run_dir)["state"] == "running"  # Ctrl-C left the run going
    stop = run_cli("runs", "stop", run_dir.name, "--wait", "--runs", str(root))
    assert stop.returncode == 0 and "stopped" in stop.stdout, stop.stderr
    # a follow returns by itself once every run has ended (here a worker that dies at once)
    env = {"SIMSIAM_TUI_WORKER": f"{sys.executable} -c 'raise SystemExit(3)'"}
    done = run_cli(
        "launch", "--preset", "simsiam", "--scale", "digits", "--runs", str(root), "--follow", env=env, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert "failed" in done.stdout
