"""`simsiam-tui runs plot` (a matplotlib figure) and the `--tensorboard` writer of `runs export`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from simsiam_tui.cli.common import RunsOption, err_console
from simsiam_tui.store import list_runs, resolve_run, runs_root


def _targets(run: list[str] | None, runs: str | None) -> list[Any]:
    root = runs_root(runs, must_exist=True)
    return [resolve_run(root, r) for r in run] if run else list_runs(root)


def plot(
    run: list[str] = typer.Argument(None, help="Run ids, prefixes or names (default: every run)."),
    out: Path = typer.Option(..., "--out", "-o", help="The figure to write: a .png, .svg or .pdf file."),
    x: str = typer.Option("step", "--x", help="x axis: step | epoch | wall."),
    metrics: list[str] = typer.Option(
        [], "--metrics", help="Panels, one per metric (comma-separated or repeated), e.g. loss,lr,train/z_std."
    ),
    by: str | None = typer.Option(
        None, "--by", help="A swept config key (optim.lr): final accuracy against its values, mean ± std over seeds."
    ),
    include_all: bool = typer.Option(False, "--all", help="With --by: count runs that did not finish, too."),
    style: str = typer.Option(
        "paper", "--style", help="paper: one column (3.4 in), panels stacked; slide: 16:9, large type."
    ),
    runs: str | None = RunsOption,
) -> None:
    """Write a figure: by default the paper's Figure 2 (loss, output std with 1/sqrt(d), kNN/linear accuracy)."""
    from simsiam_tui.report.errors import ReportError
    from simsiam_tui.report.figure import check_out, plot_runs

    out = out.expanduser().absolute()
    check_out(out)
    names = [m.strip() for text in metrics for m in text.split(",") if m.strip()]
    targets = _targets(run, runs)
    if not targets:
        raise ReportError(f"no runs to plot in {runs_root(runs)}")
    if by:
        from simsiam_tui.report.sweep_figure import plot_sweep

        drawn = plot_sweep(targets, by.strip(), out, include_all)
        points = sum(len(line.points) for line in drawn)
        err_console.print(f"wrote {out} ({len(drawn)} lines, {points} points of {by})")
        return
    panels = plot_runs(targets, out, x, names or None, style)
    lines = sum(len(p.series) for p in panels)
    err_console.print(f"wrote {out} ({len(panels)} panels, {lines} lines from {len(targets)} run(s))")


def export_tensorboard(run: list[str] | None, runs: str | None, out: Path) -> None:
    """Write TensorBoard event files, one subfolder per run (the `--tensorboard` branch of `runs export`)."""
    from simsiam_tui.report.tensorboard import export_runs

    targets = _targets(run, runs)
    out = out.expanduser().absolute()
    written = export_runs(targets, out)
    err_console.print(f"wrote {written} scalars from {len(targets)} run(s) to {out} (tensorboard --logdir {out})")


def register(app: typer.Typer) -> None:
    """Add `plot` to the `runs` group."""
    app.command("plot")(plot)
