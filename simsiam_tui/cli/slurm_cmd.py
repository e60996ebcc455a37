"""`simsiam-tui slurm submit|ls|cancel`: runs as Slurm jobs (one sbatch script per run), their states, cancel."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.table import Table

from simsiam_tui.cli.common import (
    JsonOption,
    NameOption,
    PresetOption,
    PresetsDirOption,
    RunsOption,
    ScaleOption,
    SeedOption,
    SeedsOption,
    SetOption,
    SuiteOption,
    SweepOption,
    console,
    print_json,
)
from simsiam_tui.launch.request import LaunchRequest, plan_launch
from simsiam_tui.launch.slurm import SlurmOptions, cancel, render_script, require, slurm_states, submit
from simsiam_tui.store import (
    create_run,
    list_runs,
    new_run_id,
    read_config_dict,
    read_status,
    resolve_run,
    runs_root,
)

app = typer.Typer(help="Run as Slurm jobs: submit, list with Slurm's state, cancel.", no_args_is_help=True)



def _console() -> Console:
    return console if console.is_terminal else Console(width=220, highlight=False)


@app.command("submit")
def slurm_submit(
    preset: list[str] = PresetOption,
    suite: str | None = SuiteOption,
    scale: str | None = ScaleOption,
    overrides: list[str] = SetOption,
    name: str | None = NameOption,
    seed: int | None = SeedOption,
    seeds: int = SeedsOption,
    sweep: list[str] = SweepOption,
    nodes: int = typer.Option(1, "--nodes", help="Nodes per run (torchrun rendezvous on the first)."),
    gpus_per_node: int = typer.Option(0, "--gpus-per-node", help="GPUs per node, one worker each (0: CPU job)."),
    cpus_per_task: int | None = typer.Option(None, "--cpus-per-task", help="CPUs per node (default 1, or 4 per GPU)."),
    partition: str | None = typer.Option(None, "--partition", help="Slurm partition (default: the cluster's)."),
    time_limit: str | None = typer.Option(
        None, "--time", help="Time limit, e.g. 4:00:00; the job checkpoints 90 s before and requeues."
    ),
    account: str | None = typer.Option(None, "--account", help="Slurm account to charge."),
    runs: str | None = RunsOption,
    presets_dir: str | None = PresetsDirOption,
    dry_run: bool = typer.Option(False, "--dry-run", help="Print the sbatch scripts; create and submit nothing."),
    as_json: bool = JsonOption,
) -> None:
    """Submit each run as one Slurm job: writes RUN_DIR/slurm.sbatch and calls sbatch."""
    opts = SlurmOptions(nodes, gpus_per_node, cpus_per_task, partition, time_limit, account).check()
    plan = plan_launch(  # the launch's own request and checks; the GPUs are the job's node's, not checked here
        LaunchRequest(
            presets=tuple(preset),
            suite=suite,
            scale=scale,
            overrides=tuple(overrides),
            seed=seed,
            seeds=seeds,
            sweeps=tuple(sweep),
            name=name,
            presets_dir=presets_dir,
            local=False,
        )
    )
    configs, labels = plan.configs, plan.labels  # the same names as `launch` gives
    root = runs_root(runs)
    if dry_run:
        scripts = [
            {
                "variant": cfg.variant,
                "scale": cfg.scale,
                "script": render_script(root / new_run_id(root, label), opts, sys.executable),
            }
            for cfg, label in zip(configs, labels, strict=True)
        ]
        if as_json:
            print_json(scripts)
        else:
            for item in scripts:
                sys.stdout.write(item["script"] + "\n")
        return
    require("sbatch")  # before any run folder exists
    out = []
    for cfg, label in zip(configs, labels, strict=True):
        paths = create_run(root, cfg, label)
        job_id = submit(paths, opts, sys.executable)
        out.append(
            {
                "id": paths.run_id,
                "variant": cfg.variant,
                "slurm_job_id": job_id,
                "dir": str(paths.dir),
                "script": str(paths.dir / "slurm.sbatch"),
            }
        )
        if not as_json:
            console.print(
                f"run {paths.run_id}: Slurm job {job_id} (script {paths.dir / 'slurm.sbatch'})", highlight=False
            )
    if as_json:
        print_json(out)
    else:
        console.print(f"watch: simsiam-tui watch {root}   states: simsiam-tui slurm ls --runs {root}", highlight=False)


def slurm_rows(root: Path) -> list[dict[str, Any]]:
    """One row per run submitted to Slurm: run state beside Slurm's job state."""
    found = []
    for paths in list_runs(root):
        status = read_status(paths.status) or {}
        if status.get("slurm_job_id"):
            found.append((paths, status))
    states = slurm_states([str(s["slurm_job_id"]) for _, s in found])
    rows = []
    for paths, status in found:
        job = states.get(str(status["slurm_job_id"]), {})
        rows.append(
            {
                "id": paths.run_id,
                "variant": read_config_dict(paths).get("variant"),
                "state": status.get("state"),
                "slurm_job_id": str(status["slurm_job_id"]),
                "slurm_state": job.get("state"),
                "slurm_reason": job.get("reason") or None,
                "nodes": job.get("nodes") or None,
                "message": status.get("message") or None,
            }
        )
    return rows


@app.command("ls")
def slurm_ls(runs: str | None = RunsOption, as_json: bool = JsonOption) -> None:
    """Runs submitted to Slurm, with the run state and Slurm's job state (unknown: Slurm forgot the job)."""
    root = runs_root(runs, must_exist=True)  # a missing folder is not an empty one
    rows = slurm_rows(root)
    if as_json:
        print_json(rows)
        return
    table = Table(title=f"Slurm runs in {root}")
    for col in ("id", "variant", "state", "job", "slurm state", "reason / nodes", "message"):
        table.add_column(col)
    for row in rows:
        table.add_row(
            row["id"],
            str(row["variant"]),
            str(row["state"]),
            row["slurm_job_id"],
            row["slurm_state"] or "unknown",
            row["slurm_reason"] or row["nodes"] or "",
            row["message"] or "",
        )
    _console().print(table)


@app.command("cancel")
def slurm_cancel(
    run: list[str] = typer.Argument(..., help="Run ids (a unique prefix or a unique name is enough)."),
    runs: str | None = RunsOption,
    as_json: bool = JsonOption,
) -> None:
    """scancel the runs' jobs (a running worker checkpoints on SIGTERM and ends `stopped`)."""
    root = runs_root(runs, must_exist=True)
    targets = [resolve_run(root, r) for r in run]
    done = [{"id": paths.run_id, "slurm_job_id": cancel(paths)} for paths in targets]
    if as_json:
        print_json(done)
        return
    for item in done:
        console.print(f"cancelled Slurm job {item['slurm_job_id']} of run {item['id']}", highlight=False)
