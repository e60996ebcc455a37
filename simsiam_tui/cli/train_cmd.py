"""`simsiam-tui train`: the worker in the foreground (a shell, sbatch or torchrun calls this)."""

from __future__ import annotations

from pathlib import Path

import typer

from simsiam_tui.cli.common import (
    PresetsDirOption,
    RunsOption,
    ScaleOption,
    SeedOption,
    SetOption,
    console,
    fail,
)
from simsiam_tui.config import resolve_config
from simsiam_tui.config.data_check import check_data
from simsiam_tui.launch.slots import machine_default_scale, make_request
from simsiam_tui.store import create_run, resolve_path, runs_root


def train(
    preset: str | None = typer.Option(None, "--preset", help="Preset to train (creates a new run directory)."),
    run_dir: Path | None = typer.Option(None, "--run-dir", help="Start or resume the run held in this directory."),
    scale: str | None = ScaleOption,
    overrides: list[str] = SetOption,
    name: str | None = typer.Option(None, "--name", help="Run name (letters, digits, . _ -)."),
    seed: int | None = SeedOption,
    runs: str | None = RunsOption,
    presets: str | None = PresetsDirOption,
) -> None:
    """Train in the foreground: a new run from --preset, or the run in --run-dir (resuming its checkpoint)."""
    if (preset is None) == (run_dir is None):
        raise fail("give exactly one of --preset NAME or --run-dir DIR")
    if preset is not None:  # exactly one of the two is given
        extra = [f"train.seed={seed}"] if seed is not None else []
        cfg = resolve_config(preset, scale or machine_default_scale(), [*overrides, *extra], presets)
        check_data(cfg)  # the data and the device checked before a run folder exists
        make_request(None, None, cfg.train.device)
        run_dir = create_run(runs_root(runs), cfg, name).dir
        console.print(f"run {run_dir.name} in {run_dir}", highlight=False)
    elif run_dir is not None:
        run_dir = resolve_path(run_dir)  # the worker may be started from anywhere (sbatch, torchrun)
    if run_dir is None or not (run_dir / "config.json").is_file():
        raise fail(f"'{run_dir}' holds no run (no config.json); create one with `simsiam-tui train --preset NAME`")
    from simsiam_tui.train.worker import run_worker  # torch loads only here

    code = run_worker(run_dir)
    if code:
        raise typer.Exit(code=code)
