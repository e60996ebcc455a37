"""Slurm: render one sbatch script per run, submit it, ask Slurm for job states, cancel, and requeue after SIGUSR1.

Stdlib only (imports config/store, never torch): it runs on login nodes and inside the batch script.

Preemption and time limits, the design in one place:

* `#SBATCH --signal=USR1@90` (no `B:`): 90 s before the time limit Slurm sends SIGUSR1 to the job
  *steps*, i.e. to every process that `srun` started, and not to the batch shell. That is the same
  delivery as `scancel --signal=USR1 JOB` (which also skips the batch shell unless given `-b`/`--full`),
  so a manual preemption test exercises exactly the time-limit path. With `B:` only the batch shell would
  be signalled and would have to forward it; `scancel --signal=USR1 JOB` would then never reach the worker.
* The worker (`python -m simsiam_tui.train RUN_DIR`) turns SIGUSR1 into: checkpoint at the next step
  boundary, `end` event `stopped`, status `stopped` with message `SIGUSR1 at step N`, exit 0.
* Under torchrun, the agent process would die of SIGUSR1's default action (it handles only TERM, INT,
  HUP, QUIT) and take its workers down before they checkpoint. So the step runs torchrun with SIGUSR1
  ignored (`trap '' USR1; exec ...`); the ignore is inherited, and each worker installs its own handler.
* After `srun` returns, the batch script runs `python -m simsiam_tui.launch.slurm requeue RUN_DIR`: when
  the run stopped because of SIGUSR1, it sets the status back to `queued` and calls `scontrol requeue
  $SLURM_JOB_ID` (the job is submitted with `--requeue`). The requeued job appends to the same
  worker.log (`--open-mode=append`) and the worker resumes from checkpoints/last.pt. A stop for any other
  reason (SIGTERM from `runs stop`, `scancel`) or a finished run is not requeued.
* The batch shell also traps USR1 (delivered by `scancel -b`/`--full --signal=USR1`, or a `B:` signal an
  admin configures) and forwards it to srun, which relays it to the step.

Quoting: the run folder may be anywhere (a shared runs root), so its path is untrusted text. The shell
reads every interpolated value `shlex.quote`d. `#SBATCH` lines are read by sbatch, not a shell: sbatch
splits them on blanks and quotes and ends them at '#', and expands '%' in --output. Only values from a
plain charset go there (job name, partition, account, time, numbers; the --output path when it is plain,
'%' doubled); `submit` always passes --output on sbatch's own argv too (no shell; the command line wins).
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from simsiam_tui.launch.errors import LaunchError
from simsiam_tui.store import RunPaths, read_status, update_status
from simsiam_tui.store.files import atomic_write_text
from simsiam_tui.store.schema import FAILED, QUEUED, REQUEUE_SIGNAL, STOPPED

SIGNAL_LEAD_S = 90
MIN_TIME_S = 5 * 60  # a time limit must leave room for work after the SIGUSR1 lead
MAX_REQUEUES = 100  # a run that keeps stopping on SIGUSR1 without finishing is not requeued forever
# Slurm states in which the job still exists (pending, running or about to run again): never `lost`.
ACTIVE_STATES = frozenset(
    {
        "PENDING",
        "CONFIGURING",
        "RUNNING",
        "COMPLETING",
        "SUSPENDED",
        "REQUEUED",
        "REQUEUE_HOLD",
        "REQUEUE_FED",
        "RESIZING",
        "SIGNALING",
        "STAGE_OUT",
        "STOPPED",
        "RESV_DEL_HOLD",
    }
)
_TIME = re.compile(r"([0-9]{1,5}-)?[0-9]{1,9}(:[0-9]{1,2}){0,2}|UNLIMITED|INFINITE")
_SLURM_NAME = re.compile(r"[A-Za-z0-9_.,-]+")  # partitions and accounts
_JOB_NAME = re.compile(r"[A-Za-z0-9_.+-]+")
# What an #SBATCH line carries as written: no blank, quote, '#' or backslash (sbatch's own parsing).
_SBATCH_PLAIN = re.compile(r"[A-Za-z0-9_.,:+=@/~%-]+")
# Bounds no real job reaches; beyond them a typo would ask Slurm for nonsense.
MAX_NODES = 4096
MAX_GPUS_PER_NODE = 64
MAX_CPUS_PER_TASK = 4096


@dataclass(frozen=True)
class SlurmOptions:
    """What a job asks Slurm for; gpus_per_node 0 means a CPU job."""

    nodes: int = 1
    gpus_per_node: int = 0
    cpus_per_task: int | None = None  # default: 1 for a CPU job, 4 per GPU otherwise
    partition: str | None = None
    time: str | None = None
    account: str | None = None

    def check(self) -> SlurmOptions:
        """Raise LaunchError on values Slurm would reject; return self."""
        _in_range("--nodes", self.nodes, 1, MAX_NODES)
        _in_range("--gpus-per-node", self.gpus_per_node, 0, MAX_GPUS_PER_NODE)
        if self.cpus_per_task is not None:
            _in_range("--cpus-per-task", self.cpus_per_task, 1, MAX_CPUS_PER_TASK)
        if self.time is not None and not _TIME.fullmatch(self.time):
            raise LaunchError(f"--time {self.time[:40]!r} is not a Slurm time; use MINUTES, HH:MM:SS or D-HH:MM:SS")
        limit = time_seconds(self.time) if self.time is not None else None
        if limit is not None and limit < MIN_TIME_S:
            # Every (re)start gets SIGUSR1 at limit - 90 s: a shorter job would spend its time restarting.
            raise LaunchError(
                f"--time '{self.time}' is too short: the job checkpoints {SIGNAL_LEAD_S} s before its limit "
                f"and requeues; give at least {MIN_TIME_S // 60} minutes"
            )
        for flag, value in (("--partition", self.partition), ("--account", self.account)):
            if value is not None and not _SLURM_NAME.fullmatch(value):
                raise LaunchError(f"{flag} {value[:40]!r} has characters other than letters, digits and . , _ -")
        return self

    @property
    def cpus(self) -> int:
        """CPUs for the one task per node (it hosts every GPU process of that node)."""
        return self.cpus_per_task or (4 * self.gpus_per_node if self.gpus_per_node else 1)

    @property
    def world_size(self) -> int:
        """Worker processes in all: one per GPU, or one per node for a CPU job."""
        return self.nodes * max(1, self.gpus_per_node)


def _in_range(flag: str, value: int, low: int, high: int) -> None:
    if value < low:
        raise LaunchError(f"{flag} {value} must be at least {low}")
    if value > high:
        raise LaunchError(f"{flag} {value} must be at most {high}")


def time_seconds(text: str) -> int | None:
    """A Slurm time limit in seconds (MIN, MIN:SEC, H:MIN:SEC, D-H, D-H:MIN, D-H:MIN:SEC); None for UNLIMITED."""
    if text.upper() in ("UNLIMITED", "INFINITE"):
        return None
    days, _, rest = text.rpartition("-")
    parts = [int(p) for p in rest.split(":")]
    if days:  # D-H[:M[:S]]
        h, m, sec = (parts + [0, 0])[:3]
    else:  # M, M:S or H:M:S
        h, m, sec = [0, *parts] if len(parts) == 2 else ([0, parts[0], 0] if len(parts) == 1 else parts)
    return ((int(days or 0) * 24 + h) * 60 + m) * 60 + sec


def output_pattern(run_dir: Path) -> str:
    """worker.log's path as an sbatch --output pattern: each '%' doubled, since sbatch expands %j, %x, ..."""
    text = str(run_dir)
    if "\\" in text:  # a backslash turns sbatch's expansion off, and Slurm versions drop or keep it differently
        raise LaunchError(
            f"run folder {text!r} has a backslash, which Slurm's --output cannot hold; use another --runs"
        )
    return f"{text.replace('%', '%%')}/worker.log"


def job_name_of(run_dir: Path, job_name: str | None = None) -> str:
    """The job name: `job_name` when it is plain (else a LaunchError), or the run folder's name made plain."""
    if job_name is not None:
        if not _JOB_NAME.fullmatch(job_name):
            raise LaunchError(f"job name {job_name[:40]!r} has characters other than letters, digits and . _ + -")
        return job_name
    return re.sub(r"[^A-Za-z0-9_.+-]", "_", run_dir.name) or "simsiam-tui"


def sbatch_argv(sbatch: str, script: Path, run_dir: Path) -> list[str]:
    """sbatch's argv for a run's script, held; --output is given here, where no shell or #SBATCH parsing reads it."""
    return [sbatch, "--parsable", "--hold", f"--output={output_pattern(run_dir)}", str(script)]


def _resubmit_note(run_dir: Path, output: str) -> str:
    """The script's comment on how to submit it again by hand (one line: nothing in it may end the comment)."""
    script = run_dir / "slurm.sbatch"
    if _SBATCH_PLAIN.fullmatch(output):
        return f"# Resubmit with: sbatch {shlex.quote(str(script))}"
    command = shlex.join(["sbatch", f"--output={output}", str(script)])
    if not command.isprintable():  # a newline in the path would end the comment
        command = "sbatch --output=RUN_DIR/worker.log RUN_DIR/slurm.sbatch (RUN_DIR: this run's folder, % as %%)"
    return f"# This folder's path cannot go on an #SBATCH line; resubmit with --output on the command line: {command}"


def render_script(run_dir: Path, opts: SlurmOptions, python: str | None = None, job_name: str | None = None) -> str:
    """The sbatch script that runs (and, after SIGUSR1, requeues) the run in `run_dir`."""
    opts.check()
    run_dir = Path(run_dir)
    output = output_pattern(run_dir)
    run = shlex.quote(str(run_dir))
    py = shlex.quote(python or sys.executable)
    name = job_name_of(run_dir, job_name)
    sbatch = [
        f"--job-name={name}",
        f"--nodes={opts.nodes}",
        "--ntasks-per-node=1",
        *([f"--gpus-per-node={opts.gpus_per_node}"] if opts.gpus_per_node else []),
        f"--cpus-per-task={opts.cpus}",
        *([f"--partition={opts.partition}"] if opts.partition else []),
        *([f"--time={opts.time}"] if opts.time else []),
        *([f"--account={opts.account}"] if opts.account else []),
        *([f"--output={output}"] if _SBATCH_PLAIN.fullmatch(output) else []),  # else only on sbatch's argv
        "--open-mode=append",
        f"--signal=USR1@{SIGNAL_LEAD_S}",
        "--requeue",
    ]
    head = "\n".join(f"#SBATCH {line}" for line in sbatch)
    # srun does not pass --cpus-per-task down from sbatch in Slurm 22.05-23.02: say it again.
    srun = 'srun --ntasks-per-node=1 --cpus-per-task="$SLURM_CPUS_PER_TASK" --kill-on-bad-exit=1'
    if opts.world_size > 1:
        launch = f"""\
# DDP: one torchrun agent per node, {max(1, opts.gpus_per_node)} worker(s) each, rendezvous on the first node.
head_node=$(scontrol show hostnames "$SLURM_JOB_NODELIST" | head -n 1)
rdzv_port=$((29500 + SLURM_JOB_ID % 2000))
# torchrun's agent would die of SIGUSR1 (default action) before its workers checkpoint: it runs with
# SIGUSR1 ignored; each worker inherits that and installs its own handler.
{srun} bash -c 'trap "" USR1; exec "$0" "$@"' \\
    {py} -P -m torch.distributed.run --nnodes="$SLURM_NNODES" --nproc-per-node={max(1, opts.gpus_per_node)} \\
    --rdzv-id="$SLURM_JOB_ID" --rdzv-backend=c10d --rdzv-endpoint="$head_node:$rdzv_port" \\
    -m simsiam_tui.train "$RUN_DIR" &"""
    else:
        launch = f"""\
# One process: no torchrun agent needed (nothing to rendezvous; one less process to relay signals).
# Torch's CPU threads match the CPUs Slurm granted (it would otherwise use every core of the node).
export OMP_NUM_THREADS=${{OMP_NUM_THREADS:-$SLURM_CPUS_PER_TASK}}
{srun} {py} -P -m simsiam_tui.train "$RUN_DIR" &"""
    return f"""\
#!/bin/bash
# simsiam-tui: run {name} under Slurm, written by `simsiam-tui slurm submit`.
{_resubmit_note(run_dir, output)}
{head}

RUN_DIR={run}
export PYTHONUNBUFFERED=1
# Nothing of the submission folder (perhaps the shared runs root) on sys.path: every python is -P, its
# children inherit PYTHONSAFEPATH, and the job works from / (every path it uses is absolute).
export PYTHONSAFEPATH=1
cd /
echo "== slurm job $SLURM_JOB_ID (restart ${{SLURM_RESTART_COUNT:-0}}) on $SLURM_JOB_NODELIST at $(date -Is)"

# SIGUSR1 normally goes straight to the step (--signal without B:, or scancel --signal=USR1). If it reaches
# this shell instead (scancel -b/--full, a B: signal), hand it on: srun relays it to every task.
srun_pid=
trap 'echo "== batch shell got SIGUSR1, forwarding"; [ -n "$srun_pid" ] && kill -USR1 "$srun_pid"' USR1

{launch}
srun_pid=$!
# `wait` returns early when a trapped signal arrives; wait again until srun has really exited.
while true; do
    wait "$srun_pid"
    rc=$?
    kill -0 "$srun_pid" 2>/dev/null || break
done
echo "== worker exited with $rc at $(date -Is)"

# Stopped by SIGUSR1 (time limit or preemption warning): mark the run queued and requeue this job; the next
# start resumes from checkpoints/last.pt. Any other end (finished, failed, stopped by SIGTERM) stays as is.
{py} -P -m simsiam_tui.launch.slurm requeue "$RUN_DIR"
exit "$rc"
"""


def require(command: str) -> str:
    """The path of a Slurm command, or a LaunchError saying where to run instead."""
    found = shutil.which(command)
    if not found:
        raise LaunchError(
            f"'{command}' not found on PATH: run `simsiam-tui slurm ...` on a Slurm login node "
            "(or load its module), or start runs here with `simsiam-tui launch`"
        )
    return found


def _run(args: list[str], timeout: float = 30) -> subprocess.CompletedProcess[str]:
    try:
        return subprocess.run(args, capture_output=True, text=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        raise LaunchError(f"'{' '.join(args[:2])}' did not answer within {timeout:.0f} s; is slurmctld up?") from None


def _first_line(proc: subprocess.CompletedProcess[str]) -> str:
    text = (proc.stderr or proc.stdout or "").strip().splitlines()
    return text[0] if text else f"exit code {proc.returncode}"


def submit(paths: RunPaths, opts: SlurmOptions, python: str | None = None) -> str:
    """Write run_dir/slurm.sbatch, submit it held, record slurm_job_id (state stays `queued`), release it."""
    sbatch = require("sbatch")
    run_dir = paths.dir.resolve()
    script = run_dir / "slurm.sbatch"
    atomic_write_text(script, render_script(run_dir, opts, python))
    # Held first, so that status.json names the job before the worker can start and write its own status.
    proc = _run(sbatch_argv(sbatch, script, run_dir))
    job_id = proc.stdout.strip().split(";")[0]
    if proc.returncode != 0 or not job_id.isdigit():
        message = f"sbatch failed: {_first_line(proc)}"
        update_status(paths.status, state=FAILED, message=message)
        raise LaunchError(f"{message} (script: {str(script)!r})")
    update_status(paths.status, state=QUEUED, slurm_job_id=job_id, message=f"submitted to Slurm as job {job_id}")
    release = _run([require("scontrol"), "release", job_id])
    if release.returncode != 0:
        raise LaunchError(
            f"job {job_id} was submitted held but `scontrol release {job_id}` failed: {_first_line(release)}"
        )
    return job_id


def slurm_states(job_ids: list[str]) -> dict[str, dict[str, str]]:
    """Slurm's view of each job: {"state", "reason", "nodes"}; jobs Slurm does not know are left out."""
    ids = [str(j) for j in job_ids if str(j).isdigit()]
    out: dict[str, dict[str, str]] = {}
    if not ids or not shutil.which("squeue"):
        return out
    # squeue --states=all also lists finished jobs slurmctld still remembers (MinJobAge).
    proc = _run(["squeue", "-h", "--states=all", "-j", ",".join(ids), "-o", "%i|%T|%r|%N"])
    for line in proc.stdout.splitlines():
        parts = line.strip().split("|")
        if len(parts) == 4 and parts[0] in ids:
            out[parts[0]] = {"state": parts[1], "reason": "" if parts[2] == "None" else parts[2], "nodes": parts[3]}
    missing = [j for j in ids if j not in out]
    if missing and shutil.which("sacct"):  # older jobs: the accounting database, where there is one
        proc = _run(["sacct", "-n", "-X", "-P", "-j", ",".join(missing), "-o", "JobID,State,NodeList"])
        if proc.returncode == 0:
            for line in proc.stdout.splitlines():
                parts = line.strip().split("|")
                if len(parts) == 3 and parts[0] in missing:
                    out[parts[0]] = {"state": parts[1].split()[0], "reason": "", "nodes": parts[2]}
    return out


def slurm_job_state(job_id: str | int | None) -> str | None:
    """Slurm's state of one job (PENDING, RUNNING, COMPLETED, ...), or None when Slurm does not know it or cannot be asked.

    The launcher's `lost` detection must not mark a run lost while this is in ACTIVE_STATES.
    """
    if job_id is None:
        return None
    try:
        found = slurm_states([str(job_id)]).get(str(job_id))
    except LaunchError:
        return None
    return found["state"] if found else None


def cancel(paths: RunPaths) -> str:
    """scancel the run's job; a run still queued is marked `stopped` (its worker never started)."""
    status = read_status(paths.status) or {}
    job_id = status.get("slurm_job_id")
    if not job_id:
        raise LaunchError(f"run '{paths.run_id}' was not submitted to Slurm (no slurm_job_id in its status.json)")
    proc = _run([require("scancel"), str(job_id)])
    if proc.returncode != 0:
        raise LaunchError(f"scancel {job_id} failed: {_first_line(proc)}")
    # A running worker gets SIGTERM and writes `stopped` itself; a pending one never will.
    if (read_status(paths.status) or {}).get("state") == QUEUED:
        update_status(paths.status, state=STOPPED, message=f"Slurm job {job_id} cancelled before it started")
    return str(job_id)


def requeue_wanted(status: dict[str, Any], restarts: int) -> bool:
    """True when the worker stopped because of SIGUSR1 (time limit or preemption) and may run again."""
    return status.get("state") == STOPPED and status.get("stop_signal") == REQUEUE_SIGNAL and restarts < MAX_REQUEUES


def requeue_after_signal(run_dir: str | Path) -> int:
    """Inside the batch script: requeue this job when its worker stopped on SIGUSR1; 0 when requeued."""
    paths = RunPaths(Path(run_dir))
    status = read_status(paths.status) or {}
    job_id = os.environ.get("SLURM_JOB_ID")
    restarts = int(os.environ.get("SLURM_RESTART_COUNT") or 0)
    if not job_id or not requeue_wanted(status, restarts):
        print(f"== not requeued: run is {status.get('state')!r} ({status.get('message', '')})", flush=True)
        return 1
    before = {"state": status.get("state"), "message": status.get("message")}
    update_status(
        paths.status, state=QUEUED, message=f"requeued in Slurm after {status.get('message')} (job {job_id})"
    )
    print(f"== requeueing Slurm job {job_id} after {status.get('message')}", flush=True)
    # scontrol requeue ends this batch step: the status must already say `queued`.
    proc = subprocess.run(["scontrol", "requeue", job_id], capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        update_status(paths.status, **before)
        print(f"== scontrol requeue {job_id} failed: {_first_line(proc)}", flush=True)
        return 1
    return 0


def _main(argv: list[str]) -> int:
    if len(argv) == 2 and argv[0] == "requeue":
        return requeue_after_signal(argv[1])
    print("usage: python -m simsiam_tui.launch.slurm requeue RUN_DIR", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(_main(sys.argv[1:]))
