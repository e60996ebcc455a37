"""The sbatch script and the Slurm CLI's errors, without a cluster: --dry-run, options, one-line errors."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from simsiam_tui.launch.errors import LaunchError
from simsiam_tui.launch.slurm import SlurmOptions, render_script, requeue_wanted, sbatch_argv, time_seconds


def cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """`simsiam-tui ARGS` in a subprocess, no TTY."""
    full = {k: v for k, v in os.environ.items() if k != "SIMSIAM_TUI_RUNS"}
    full.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "simsiam_tui.cli", *args], capture_output=True, text=True, timeout=120, env=full
    )


def sbatch_lines(script: str) -> list[str]:
    return [line.removeprefix("#SBATCH ") for line in script.splitlines() if line.startswith("#SBATCH ")]


def test_cpu_script_runs_one_worker_without_torchrun(tmp_path: Path) -> None:
    script = render_script(tmp_path / "run-1", SlurmOptions(), python="/venv/bin/python")
    lines = sbatch_lines(script)
    assert "--nodes=1" in lines and "--ntasks-per-node=1" in lines and "--cpus-per-task=1" in lines
    assert f"--output={tmp_path}/run-1/worker.log" in lines and "--open-mode=append" in lines
    assert "--signal=USR1@90" in lines and "--requeue" in lines
    assert not any(line.startswith(("--gpus-per-node", "--account", "--partition", "--time")) for line in lines)
    assert '/venv/bin/python -P -m simsiam_tui.train "$RUN_DIR"' in script  # -P: nothing of the submit folder on sys.path
    assert 'export PYTHONSAFEPATH=1' in script and '\ncd /\n' in script
    assert "torch.distributed.run" not in script
    assert '/venv/bin/python -P -m simsiam_tui.launch.slurm requeue "$RUN_DIR"' in script
    assert subprocess.run(["bash", "-n"], input=script, text=True).returncode == 0


def test_multi_node_script_uses_torchrun_with_rendezvous_on_first_node(tmp_path: Path) -> None:
    opts = SlurmOptions(nodes=2, gpus_per_node=4, partition="gpu", time="1-00:00:00", account="proj")
    script = render_script(tmp_path / "run-2", opts, python="/venv/bin/python")
    lines = sbatch_lines(script)
    for expected in (
        "--nodes=2",
        "--gpus-per-node=4",
        "--cpus-per-task=16",
        "--partition=gpu",
        "--time=1-00:00:00",
        "--account=proj",
    ):
        assert expected in lines
    assert 'head_node=$(scontrol show hostnames "$SLURM_JOB_NODELIST" | head -n 1)' in script
    assert "--rdzv-backend=c10d" in script and '--rdzv-endpoint="$head_node:$rdzv_port"' in script
    assert '--nnodes="$SLURM_NNODES" --nproc-per-node=4' in script
    assert 'trap "" USR1; exec' in script  # the torchrun agent must survive SIGUSR1
    assert '-m simsiam_tui.train "$RUN_DIR"' in script
    assert subprocess.run(["bash", "-n"], input=script, text=True).returncode == 0


@pytest.mark.parametrize(
    "opts",
    [
        SlurmOptions(nodes=0),
        SlurmOptions(gpus_per_node=-1),
        SlurmOptions(time="4h"),
        SlurmOptions(time="2"),  # SIGUSR1 comes 90 s before the limit: too short to train
        SlurmOptions(account="a b"),
        SlurmOptions(partition="gpu\n#SBATCH --x"),
        SlurmOptions(time="60\nid"),  # a newline would end the #SBATCH line: the rest is a shell command
        SlurmOptions(nodes=10**9),
        SlurmOptions(gpus_per_node=1000),
        SlurmOptions(cpus_per_task=10**6),
    ],
)
def test_bad_options_are_launch_errors(opts: SlurmOptions, tmp_path: Path) -> None:
    with pytest.raises(LaunchError):
        render_script(tmp_path, opts)


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("30", 1800),
        ("5:00", 300),
        ("1:00:00", 3600),
        ("2-0", 172800),
        ("1-2:3", 93780),
        ("1-2:3:4", 93784),
        ("UNLIMITED", None),
    ],
)
def test_slurm_time_formats(text: str, seconds: int | None) -> None:
    assert time_seconds(text) == seconds


def test_run_folder_sbatch_cannot_take_is_refused(tmp_path: Path) -> None:
    # Slurm drops or keeps a backslash in --output depending on its version: no safe spelling exists.
    with pytest.raises(LaunchError, match="backslash"):
        render_script(tmp_path / "my\\runs" / "r", SlurmOptions())


# Every character a shell or sbatch could read as more than text, and a newline.
HOSTILE = "x;touch INJ1;#y&touch INJ2|touch INJ3>INJ4 $(touch INJ5) `touch INJ6` 'q\"%j\n touch INJ7 ~"
FAKE = """#!/bin/bash
# Record this call's argv (NUL-separated, one file per call) and pretend to succeed.
out=$(mktemp "$RECORD/call.XXXXXX")
printf '%s\\0' "$(basename "$0")" "$@" > "$out"
[ "$(basename "$0")" = scontrol ] && echo node1
exit 0
"""


def fake_tools(tmp_path: Path) -> tuple[Path, Path]:
    """(bin, record): fake srun, scontrol and python in bin that record their argv under record."""
    bin_dir, record = tmp_path / "bin", tmp_path / "record"
    bin_dir.mkdir()
    record.mkdir()
    for tool in ("srun", "scontrol", "python", "sbatch"):
        (bin_dir / tool).write_text(FAKE)
        (bin_dir / tool).chmod(0o755)
    return bin_dir, record


def recorded(record: Path) -> list[list[str]]:
    """Every recorded call as [tool, *args]."""
    return [f.read_bytes().decode().split("\0")[:-1] for f in sorted(record.iterdir())]


@pytest.mark.parametrize("opts", [SlurmOptions(), SlurmOptions(nodes=2, gpus_per_node=2)], ids=["one", "ddp"])
def test_hostile_run_folder_round_trips_and_injects_nothing(opts: SlurmOptions, tmp_path: Path) -> None:
    bin_dir, record = fake_tools(tmp_path)
    run_dir = tmp_path / HOSTILE / "run-1"
    python = bin_dir / "python"
    script = render_script(run_dir, opts, python=str(python))
    assert subprocess.run(["bash", "-n"], input=script, text=True).returncode == 0
    assert "--output" not in "".join(sbatch_lines(script))  # sbatch could not read it there: it goes on argv
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    env = {
        "PATH": f"{bin_dir}:{os.environ['PATH']}",
        "RECORD": str(record),
        "SLURM_JOB_ID": "7",
        "SLURM_JOB_NODELIST": "node1",
        "SLURM_NNODES": str(opts.nodes),
        "SLURM_CPUS_PER_TASK": "1",
    }
    done = subprocess.run(["bash", "-s"], input=script, text=True, cwd=cwd, env=env, capture_output=True, timeout=30)
    assert done.returncode == 0, done.stderr
    calls = recorded(record)
    srun = next(c for c in calls if c[0] == "srun")
    requeue = next(c for c in calls if c[0] == "python")
    assert srun[-3:] == ["-m", "simsiam_tui.train", str(run_dir)]
    assert str(python) in srun
    assert requeue[1:] == ["-P", "-m", "simsiam_tui.launch.slurm", "requeue", str(run_dir)]
    assert sorted(c[0] for c in calls) == (["python", "scontrol", "srun"] if opts.nodes > 1 else ["python", "srun"])
    assert list(cwd.iterdir()) == []  # no `touch INJ...` ran
    assert not list(tmp_path.rglob("INJ*"))


def test_sbatch_argv_carries_the_output_path_with_percent_escaped(tmp_path: Path) -> None:
    run_dir = tmp_path / HOSTILE / "run-1"
    script = run_dir / "slurm.sbatch"
    argv = sbatch_argv("sbatch", script, run_dir)
    output = f"--output={str(run_dir).replace('%', '%%')}/worker.log"
    assert argv == ["sbatch", "--parsable", "--hold", output, str(script)]
    header = render_script(run_dir, SlurmOptions()).splitlines()[:4]
    assert header[2].startswith("# ") and header[3].startswith("#SBATCH ")  # the resubmit note is one comment line
    plain = render_script(tmp_path / "a%b" / "run-1", SlurmOptions())
    assert f"--output={tmp_path}/a%%b/run-1/worker.log" in sbatch_lines(plain)
    assert f"# Resubmit with: sbatch {tmp_path}/a%b/run-1/slurm.sbatch" in plain.splitlines()


@pytest.mark.parametrize(
    ("job_name", "ok"), [("run-1.a_b+c", True), ("a;b", False), ("a\n#SBATCH --x", False), ("a b", False)]
)
def test_job_names_on_sbatch_lines_are_plain(job_name: str, ok: bool, tmp_path: Path) -> None:
    if ok:
        assert f"--job-name={job_name}" in sbatch_lines(render_script(tmp_path, SlurmOptions(), job_name=job_name))
    else:
        with pytest.raises(LaunchError, match="job name"):
            render_script(tmp_path, SlurmOptions(), job_name=job_name)
    # a run folder's own name is made plain rather than refused
    assert "--job-name=a_b_c" in sbatch_lines(render_script(tmp_path / "a;b c", SlurmOptions()))


def test_requeue_only_after_sigusr1() -> None:
    assert requeue_wanted({"state": "stopped", "stop_signal": "SIGUSR1", "message": "SIGUSR1 at step 8"}, restarts=0)
    assert not requeue_wanted({"state": "stopped", "stop_signal": "SIGTERM", "message": "SIGTERM at step 8"}, restarts=0)
    assert not requeue_wanted({"state": "finished", "stop_signal": None, "message": "2 epochs"}, restarts=0)
    assert not requeue_wanted({"state": "stopped", "stop_signal": "SIGUSR1"}, restarts=10_000)
    # the field decides, not the wording of the message
    assert not requeue_wanted({"state": "stopped", "stop_signal": None, "message": "SIGUSR1 typed by hand"}, restarts=0)


def test_dry_run_prints_one_script_per_run_and_creates_nothing(tmp_path: Path) -> None:
    runs = tmp_path / "runs"
    out = cli(
        "slurm",
        "submit",
        "--suite",
        "stop-grad",
        "--scale",
        "digits",
        "--gpus-per-node",
        "1",
        "--runs",
        str(runs),
        "--dry-run",
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.count("#!/bin/bash") == 2 and "--gpus-per-node=1" in out.stdout
    assert not runs.exists()
    data = json.loads(cli("slurm", "submit", "--preset", "simsiam", "--runs", str(runs), "--dry-run", "--json").stdout)
    assert [d["variant"] for d in data] == ["simsiam"] and data[0]["script"].startswith("#!/bin/bash")


def test_missing_sbatch_is_one_line_and_creates_no_run(tmp_path: Path) -> None:
    runs = tmp_path / "runs"
    out = cli("slurm", "submit", "--preset", "simsiam", "--runs", str(runs), env={"PATH": str(tmp_path)})
    assert out.returncode == 2
    assert out.stderr.count("\n") == 1 and "'sbatch' not found" in out.stderr, out.stderr
    assert not runs.exists() or not any(runs.iterdir())


def test_bad_time_and_unknown_run_are_one_line(tmp_path: Path) -> None:
    out = cli("slurm", "submit", "--preset", "simsiam", "--time", "soon", "--dry-run")
    assert out.returncode == 2 and "is not a Slurm time" in out.stderr and out.stderr.count("\n") == 1
    out = cli("slurm", "cancel", "nope", "--runs", str(tmp_path))
    assert out.returncode == 2 and "no run 'nope'" in out.stderr and out.stderr.count("\n") == 1


def test_ls_without_slurm_runs_is_empty(tmp_path: Path) -> None:
    out = cli("slurm", "ls", "--runs", str(tmp_path), "--json")
    assert out.returncode == 0 and json.loads(out.stdout) == []


def test_submit_passes_the_hostile_output_path_on_sbatchs_argv(tmp_path: Path) -> None:
    """`slurm submit` with fake sbatch/scontrol: the run is created under a hostile root and submitted by argv."""
    bin_dir, record = fake_tools(tmp_path)
    (bin_dir / "sbatch").write_text(FAKE.replace("exit 0", "echo 123; exit 0"))
    runs = tmp_path / HOSTILE
    env = {"PATH": f"{bin_dir}:{os.environ['PATH']}", "RECORD": str(record)}
    out = cli("slurm", "submit", "--preset", "simsiam", "--scale", "digits", "--runs", str(runs), "--json", env=env)
    assert out.returncode == 0, out.stderr
    (item,) = json.loads(out.stdout)
    run_dir = Path(item["dir"])
    assert run_dir.parent == runs and item["slurm_job_id"] == "123"
    calls = {c[0]: c for c in recorded(record)}
    output = f"--output={str(run_dir).replace('%', '%%')}/worker.log"
    assert calls["sbatch"][1:] == ["--parsable", "--hold", output, str(run_dir / "slurm.sbatch")]
    assert calls["scontrol"][1:] == ["release", "123"]
    assert (run_dir / "slurm.sbatch").read_text() == render_script(run_dir, SlurmOptions(), python=sys.executable)
    assert not list(tmp_path.rglob("INJ*"))
