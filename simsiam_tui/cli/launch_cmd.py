"""`simsiam-tui launch`: resolve presets or a suite into run configs and start them detached."""

from __future__ import annotations

import json

import typer

from simsiam_tui.cli.common import console, fail, print_json, user_errors
from simsiam_tui.config import RunConfig, config_to_dict, load_suite, resolve_config
from simsiam_tui.store import check_name


def resolve_launch(
    presets: list[str],
    suite: str | None,
    scale: str | None,
    overrides: list[str],
    seed: int | None,
    presets_dir: str | None,
) -> list[RunConfig]:
    """Every run config a launch asks for, validated before anything starts."""
    if not presets and not suite:
        raise fail("give --preset NAME (repeatable) or --suite NAME; see `simsiam-tui presets ls`")
    names = list(presets)
    suite_overrides: list[str] = []
    if suite:
        loaded = load_suite(suite, presets_dir)
        names += loaded.presets
        scale = scale or loaded.scale
        suite_overrides = loaded.overrides
    extra = [f"train.seed={seed}"] if seed is not None else []
    return [resolve_config(name, scale, [*suite_overrides, *overrides, *extra], presets_dir) for name in names]


@user_errors
def launch(
    preset: list[str] = typer.Option([], "--preset", help="Preset to launch; repeatable."),
    suite: str | None = typer.Option(None, "--suite", help="Suite to launch (stop-grad, predictor, loss, ...)."),
    scale: str | None = typer.Option(None, "--scale", help="digits | cifar10 | imagenet, or a scale file."),
    overrides: list[str] = typer.Option([], "--set", help="KEY=VALUE override, repeatable."),
    name: str | None = typer.Option(None, "--name", help="Run name prefix (letters, digits, . _ -)."),
    seed: int | None = typer.Option(None, "--seed", help="Shorthand for --set train.seed=N."),
    runs: str | None = typer.Option(None, "--runs", help="Runs root (default $SIMSIAM_TUI_RUNS or ./runs)."),
    presets_dir: str | None = typer.Option(None, "--presets", help="Extra presets folder."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Print the resolved configs and start nothing."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Start runs in the background (detached workers), or print what would start with --dry-run."""
    if name is not None:
        check_name(name)
    configs = resolve_launch(preset, suite, scale, overrides, seed, presets_dir)
    if dry_run:
        if as_json:
            print_json([config_to_dict(c) for c in configs])
        else:
            for cfg in configs:
                console.rule(f"{cfg.variant} @ {cfg.scale}")
                console.print_json(json.dumps(config_to_dict(cfg)))
        return
    raise fail("starting runs needs the launcher (issue 4); use --dry-run or `simsiam-tui train --preset`", code=1)
