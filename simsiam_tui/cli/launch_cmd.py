"""`simsiam-tui launch`: resolve presets or a suite into run configs and start them detached."""

from __future__ import annotations

import json
import time

import typer
from rich.live import Live

from simsiam_tui.cli.common import (
    GpusOption,
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
    err_console,
    print_json,
)
from simsiam_tui.config import config_to_dict
from simsiam_tui.launch import run_summary
from simsiam_tui.launch.api import start_plan
from simsiam_tui.launch.request import LaunchRequest, plan_launch
from simsiam_tui.store import LIVE_STATES, EventTail, RunHistory, RunPaths, runs_root


def launch(
    preset: list[str] = PresetOption,
    suite: str | None = SuiteOption,
    scale: str | None = ScaleOption,
    overrides: list[str] = SetOption,
    name: str | None = NameOption,
    seed: int | None = SeedOption,
    seeds: int = SeedsOption,
    sweep: list[str] = SweepOption,
    on_collapse: str | None = typer.Option(
        None, "--on-collapse", help="stop: end a run once its verdict is `collapsed` for monitor.collapse_patience evaluations (frees its slot)."
    ),
    gpus: str | None = GpusOption,
    per_gpu: int | None = typer.Option(
        None, "--per-gpu", help="Runs sharing one GPU (default 1); on the CPU, runs at once (default max(2, cores/4))."
    ),
    gpus_per_run: int = typer.Option(
        1, "--gpus-per-run",
        help="DDP: processes (one GPU each) per run, under torchrun; data.batch_size is the global batch.",
    ),
    follow: bool = typer.Option(
        False, "--follow", "-f", help="Show a live table until every run ends (Ctrl-C detaches)."
    ),
    runs: str | None = RunsOption,
    presets_dir: str | None = PresetsDirOption,
    dry_run: bool = typer.Option(False, "--dry-run", help="Print the resolved configs and start nothing."),
    as_json: bool = JsonOption,
) -> None:
    """Start runs in the background (detached workers), or print what would start with --dry-run."""
    request = LaunchRequest(
        presets=tuple(preset),
        suite=suite,
        scale=scale,
        overrides=tuple(overrides),
        seed=seed,
        seeds=seeds,
        sweeps=tuple(sweep),
        on_collapse=on_collapse,
        gpus=gpus,
        per_gpu=per_gpu,
        gpus_per_run=gpus_per_run,
        name=name,
        presets_dir=presets_dir,
    )
    plan = plan_launch(request)  # every check, --dry-run too, before any run folder exists
    configs = plan.configs
    if dry_run:
        if as_json:
            print_json([config_to_dict(c) for c in configs])
        else:
            for cfg in configs:
                console.rule(f"{cfg.variant} @ {cfg.scale}")
                console.print_json(json.dumps(config_to_dict(cfg)))
        return
    root = runs_root(runs)
    started = start_plan(plan, root)
    if as_json:
        print_json([{"id": p.run_id, "dir": str(p.dir), "state": run_summary(p).state} for p in started])
    else:
        for paths in started:
            typer.echo(f"{run_summary(paths).state:8} {paths.run_id}  {paths.dir}")
        if not follow:
            typer.echo("runs continue in the background: `simsiam-tui runs ls`, `runs logs RUN -f`, `runs compare`")
    if follow:
        follow_runs(started)


def follow_runs(runs: list[RunPaths], poll_s: float = 1.0) -> None:
    """A live table of `runs` until every one has ended; Ctrl-C detaches and leaves them running."""
    from simsiam_tui.cli.tables import summary_table, table_console

    readers = {p.run_id: (EventTail(p.events), RunHistory()) for p in runs}
    try:
        with Live(console=table_console(), auto_refresh=False, transient=False) as live:
            while True:
                rows = []
                for paths in runs:
                    if not paths.dir.is_dir():
                        continue
                    tail, history = readers[paths.run_id]
                    history.apply(tail.poll())
                    rows.append(run_summary(paths, history).to_dict())
                live.update(summary_table(rows, "launched runs (Ctrl-C detaches)"), refresh=True)
                if all(r["state"] not in LIVE_STATES for r in rows):
                    break
                time.sleep(poll_s)
    except KeyboardInterrupt:
        err_console.print("detached; the runs keep going (`simsiam-tui runs ls`)")
