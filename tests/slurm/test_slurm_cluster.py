"""End to end against a real Slurm (.ci/slurm-up.sh starts one on localhost): submit, watch, preempt, requeue, cancel.

Everything goes through the CLI in subprocesses. One module fixture submits all jobs at once (a preemption run
first, then the stop-grad suite, then a run to cancel) so that they share the cluster's few CPUs; on a small
node the later ones wait PENDING, which is what the `queued` checks need.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from simsiam_tui.store import read_events, read_status
from tests import helpers

pytestmark = pytest.mark.slow

# Tiny digits runs: the point is the plumbing, not the learning curve.
SMALL = [
    "--scale",
    "digits",
    "--set",
    "model.width=8",
    "--set",
    "model.dim=128",
    "--set",
    "model.pred_dim=32",
    "--set",
    "monitor.log_every=2",
    "--set",
    "monitor.system_every_s=2",
]
END_TIMEOUT_S = 420
FAULT_ENV = "SIMSIAM_TUI_FAULT"  # simsiam_tui.train.hooks' fault injection (not imported: it imports torch)
HOLD_STEP = 8


def _cluster_problem() -> str | None:
    """Why the Slurm tests cannot run here, or None."""
    if not shutil.which("sinfo") or not shutil.which("sbatch"):
        return "Slurm is not installed (no sinfo/sbatch on PATH); `bash .ci/slurm-up.sh` installs and starts one"
    try:
        proc = subprocess.run(["sinfo", "-h", "-o", "%T"], capture_output=True, text=True, timeout=15)
    except subprocess.TimeoutExpired:
        return "the Slurm cluster does not answer (sinfo timed out); start it with `bash .ci/slurm-up.sh`"
    states = proc.stdout.split()
    if proc.returncode != 0:
        return f"the Slurm cluster does not answer: {proc.stderr.strip()[:200]}; start it with `bash .ci/slurm-up.sh`"
    if not any(s.rstrip("*~#") in ("idle", "mixed", "allocated", "completing") for s in states):
        return f"no Slurm node is up (sinfo says {states}); try `bash .ci/slurm-up.sh`"
    return None


def cli(*args: str, check: bool = True, extra_env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """Run `simsiam-tui ARGS` in a subprocess, without a TTY (sbatch hands this environment to the job)."""
    env = {k: v for k, v in os.environ.items() if k not in ("SIMSIAM_TUI_RUNS", FAULT_ENV)}
    env.update(extra_env or {})
    proc = subprocess.run(
        [sys.executable, "-m", "simsiam_tui.cli", *args], capture_output=True, text=True, timeout=120, env=env
    )
    if check and proc.returncode != 0:
        raise AssertionError(f"simsiam-tui {' '.join(args)} -> {proc.returncode}\n{proc.stdout}\n{proc.stderr}")
    return proc


def cli_json(*args: str, extra_env: dict[str, str] | None = None) -> Any:
    return json.loads(cli(*args, "--json", extra_env=extra_env).stdout)


def wait_until(what: str, predicate: Any, timeout: float, every: float = 1.0) -> Any:
    """tests.helpers.wait_until with this file's argument order (Slurm polls once a second)."""
    return helpers.wait_until(predicate, timeout, what, poll=every)


def _log(run_dir: Path) -> str:
    path = run_dir / "worker.log"
    return path.read_text(errors="replace")[-3000:] if path.exists() else "(no worker.log)"


def wait_end(run_dir: Path) -> dict[str, Any]:
    """Wait for the run's final `end` event (a stopped end followed by a requeue does not count)."""

    def ended() -> dict[str, Any] | None:
        status = read_status(run_dir / "status.json") or {}
        if status.get("state") in ("finished", "failed", "diverged", "lost"):
            return status
        return None

    try:
        return wait_until(f"the end of {run_dir.name}", ended, END_TIMEOUT_S, every=2)
    except AssertionError as err:
        raise AssertionError(f"{err}\nstatus: {read_status(run_dir / 'status.json')}\nlog:\n{_log(run_dir)}") from None


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Submit the preemption run, the stop-grad suite and a run to cancel; return what the tests need."""
    problem = _cluster_problem()
    if problem:
        pytest.skip(problem)
    runs = tmp_path_factory.mktemp("slurm-runs")
    root = ["--runs", str(runs)]
    # The worker's test hook holds after step HOLD_STEP until a signal comes, so USR1 lands mid-epoch, every time.
    preempt = cli_json(
        "slurm",
        "submit",
        "--preset",
        "simsiam",
        "--name",
        "preempt",
        *SMALL,
        "--set",
        "train.epochs=2",
        *root,
        extra_env={FAULT_ENV: f"hold_at_step={HOLD_STEP}"},
    )[0]
    suite = cli_json("slurm", "submit", "--suite", "stop-grad", *SMALL, "--set", "train.epochs=1", *root)
    cancel = cli_json("slurm", "submit", "--preset", "simsiam", "--name", "cancelme", *SMALL, *root)[0]
    # Right after submission: every run knows its job; none is past `queued` unless Slurm started it.
    # (runs ls first: a job PENDING afterwards was PENDING then too, so its run must read `queued`.)
    early_runs = {row["id"]: row for row in cli_json("runs", "ls", *root)}
    early_slurm = {row["id"]: row for row in cli_json("slurm", "ls", *root)}
    return {
        "runs": runs,
        "root": root,
        "preempt": preempt,
        "suite": suite,
        "cancel": cancel,
        "early_slurm": early_slurm,
        "early_runs": early_runs,
    }


def test_submitted_runs_show_their_job_and_pending_ones_are_queued(cluster: dict[str, Any]) -> None:
    early_slurm, early_runs = cluster["early_slurm"], cluster["early_runs"]
    submitted = [cluster["preempt"], *cluster["suite"], cluster["cancel"]]
    assert set(early_slurm) == {s["id"] for s in submitted}
    for item in submitted:
        run_dir = Path(item["dir"])
        assert (run_dir / "slurm.sbatch").read_text().startswith("#!/bin/bash")
        assert read_status(run_dir / "status.json")["slurm_job_id"] == item["slurm_job_id"]
        row = early_slurm[item["id"]]
        assert row["slurm_job_id"] == item["slurm_job_id"]
        assert row["slurm_state"], row  # Slurm knows the job (a tiny run may even be done already)
        if row["slurm_state"] == "PENDING":
            assert early_runs[item["id"]]["state"] == "queued", (row, early_runs[item["id"]])
        else:
            assert early_runs[item["id"]]["state"] in ("queued", "starting", "running", "finished")


def test_cancel_ends_the_job(cluster: dict[str, Any]) -> None:
    item, root = cluster["cancel"], cluster["root"]
    before = {r["id"]: r for r in cli_json("slurm", "ls", *root)}[item["id"]]
    out = cli("slurm", "cancel", item["id"], *root)
    assert f"cancelled Slurm job {item['slurm_job_id']}" in out.stdout

    def gone() -> dict[str, Any] | None:
        row = {r["id"]: r for r in cli_json("slurm", "ls", *root)}[item["id"]]
        return row if row["slurm_state"] in ("CANCELLED", "COMPLETED", "FAILED", None) else None

    row = wait_until("the cancelled job to leave Slurm", gone, 90)
    assert row["slurm_state"] in ("CANCELLED", None)
    if before["slurm_state"] == "PENDING":  # its worker never ran: `slurm cancel` itself ends the run
        assert read_status(Path(item["dir"]) / "status.json")["state"] == "stopped"

    def ended() -> str | None:
        state = {r["id"]: r for r in cli_json("runs", "ls", *root)}[item["id"]]["state"]
        return None if state in ("queued", "starting", "running") else state

    state = wait_until("the cancelled run to leave the live states", ended, 90)
    assert state in ("stopped", "failed", "lost")


def test_preempted_job_checkpoints_requeues_and_resumes(cluster: dict[str, Any]) -> None:
    item = cluster["preempt"]
    run_dir = Path(item["dir"])
    events_path = run_dir / "events.jsonl"

    def holding() -> bool:
        steps = [e["step"] for e in read_events(events_path) if e.get("kind") == "train"]
        return bool(steps) and max(steps) >= HOLD_STEP

    wait_until(f"the preemption run to reach step {HOLD_STEP}", holding, END_TIMEOUT_S, every=1)
    assert read_status(run_dir / "status.json")["state"] == "running"
    proc = subprocess.run(["scancel", "--signal=USR1", item["slurm_job_id"]], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr

    def requeued() -> bool:
        raw = [json.loads(line) for line in events_path.read_text().splitlines() if line.strip()]
        return any(e["kind"] == "end" and e.get("state") == "stopped" for e in raw)

    wait_until("the worker to stop on SIGUSR1", requeued, 120)
    final = wait_end(run_dir)
    assert final["state"] == "finished", f"{final}\n{_log(run_dir)}"

    raw = [json.loads(line) for line in events_path.read_text().splitlines() if line.strip()]
    checkpoints = [e for e in raw if e["kind"] == "checkpoint"]
    stop_end = next(e for e in raw if e["kind"] == "end" and e["state"] == "stopped")
    assert "SIGUSR1" in stop_end.get("reason", "")
    assert any(c["step"] == stop_end["step"] for c in checkpoints), "no checkpoint at the stop"
    starts = [e for e in raw if e["kind"] == "start"]
    assert len(starts) == 2, starts
    assert starts[1]["resumed_from_step"] == stop_end["step"] == HOLD_STEP
    assert [e["state"] for e in raw if e["kind"] == "end"] == ["stopped", "finished"]
    # The deduped view shows no step twice and reaches the last step.
    train_steps = [e["step"] for e in read_events(events_path) if e["kind"] == "train"]
    assert train_steps == sorted(set(train_steps)), train_steps
    assert max(train_steps) <= starts[0]["total_steps"]
    log = _log(run_dir)
    assert "requeueing Slurm job" in log and "(restart 1)" in log, log

    # The batch script still runs its requeue check after the worker's end: wait for the job itself to end.
    def job_done() -> str | None:
        job = subprocess.run(["scontrol", "show", "job", "-o", item["slurm_job_id"]], capture_output=True, text=True)
        return job.stdout if "JobState=RUNNING" not in job.stdout and "JobState=COMPLETING" not in job.stdout else None

    job = wait_until("the requeued job to end", job_done, 60)
    assert "Restarts=1" in job and "JobState=COMPLETED" in job, job
    assert {r["id"]: r for r in cli_json("slurm", "ls", "--runs", str(run_dir.parent))}[item["id"]][
        "state"
    ] == "finished"


def test_suite_finishes_and_compares(cluster: dict[str, Any]) -> None:
    root = cluster["root"]
    for item in cluster["suite"]:
        run_dir = Path(item["dir"])
        status = wait_end(run_dir)
        assert status["state"] == "finished", f"{status}\n{_log(run_dir)}"
        events = read_events(run_dir / "events.jsonl")
        assert any(e["kind"] == "train" for e in events)
        assert events[-1]["kind"] == "end" and events[-1]["state"] == "finished"
        assert status["slurm_job_id"] == item["slurm_job_id"]
    rows = {r["id"]: r for r in cli_json("runs", "compare", *[i["id"] for i in cluster["suite"]], *root)}
    assert {rows[i["id"]]["variant"] for i in cluster["suite"]} == {"simsiam", "no-stop-grad"}
    for item in cluster["suite"]:
        assert rows[item["id"]]["state"] == "finished"
        assert rows[item["id"]]["verdict"] in ("healthy", "collapsing", "collapsed")
    table = cli("runs", "compare", *root).stdout
    assert "simsiam" in table and "no-stop-grad" in table
    states = {r["id"]: r["slurm_state"] for r in cli_json("slurm", "ls", *root)}
    assert all(states[i["id"]] == "COMPLETED" for i in cluster["suite"]), states
