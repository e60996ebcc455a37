"""`simsiam-tui` (no command), `watch` and `demo`: open the Textual app."""

from __future__ import annotations

from pathlib import Path

import typer

from simsiam_tui.cli.common import PresetsDirOption, RunsOption, SetOption, fail
from simsiam_tui.store import runs_root


def open_dashboard(roots: list[str] | None, presets_dir: str | None = None) -> None:
    """Open the app on the given run roots (default: the runs root)."""
    paths = [runs_root(r) for r in roots] if roots else [runs_root(None)]  # absolute, checked: not a file
    from simsiam_tui.ui import run_app  # textual loads only here

    run_app(paths, presets_dir=presets_dir)


def watch(
    dirs: list[Path] = typer.Argument(
        ..., help="Run roots to watch (e.g. a shared filesystem); new runs appear on their own."
    ),
) -> None:
    """Open the app on other run roots; runs started elsewhere (another terminal, Slurm) appear on their own."""
    missing = [str(runs_root(d)) for d in dirs if not runs_root(d).is_dir()]
    if missing:
        raise fail(f"no such folder: {', '.join(missing)}; `watch` takes existing run roots")
    open_dashboard([str(d) for d in dirs])


def demo(
    runs: str | None = RunsOption,
    suite: str = typer.Option("stop-grad", "--suite", help="Suite to launch."),
    scale: str = typer.Option("digits", "--scale", help="Scale (digits runs on a laptop CPU in minutes)."),
    overrides: list[str] = SetOption,
    no_launch: bool = typer.Option(False, "--no-launch", help="Only open the app (runs already launched)."),
    no_app: bool = typer.Option(
        False, "--no-app", help="Only launch, print the runs and return (scripts, CI, no terminal)."
    ),
    presets: str | None = PresetsDirOption,
) -> None:
    """Launch the stop-grad suite at the digits scale and open the app on it: watch one run collapse."""
    root = runs_root(runs)
    if not no_launch:
        from simsiam_tui.launch.api import start_plan
        from simsiam_tui.launch.request import LaunchRequest, plan_launch

        request = LaunchRequest(suite=suite, scale=scale, overrides=tuple(overrides), presets_dir=presets)
        created = start_plan(plan_launch(request), root)
        typer.echo(f"launched {len(created)} run(s) in {root}: {', '.join(p.run_id for p in created)}")
    if no_app:
        typer.echo("watch them: `simsiam-tui` (the app) or `simsiam-tui runs ls`")
        return
    open_dashboard([str(root)])


def register(app: typer.Typer) -> None:
    """Add `watch` and `demo` to the root app."""
    app.command("watch")(watch)
    app.command("demo")(demo)
