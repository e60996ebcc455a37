"""`simsiam-tui eval linear RUN`: linear evaluation of a run's frozen features, as a detached run of its own."""

from __future__ import annotations

import typer

from simsiam_tui.cli.common import GpusOption, JsonOption, RunsOption, print_json
from simsiam_tui.store import resolve_run, runs_root

app = typer.Typer(help="Evaluate a run's frozen features (linear evaluation).", no_args_is_help=True)


@app.command("linear")
def eval_linear(
    run: str = typer.Argument(..., help="The run to evaluate (id, unique prefix or name)."),
    epochs: int | None = typer.Option(None, "--epochs", help="Classifier epochs (default: the protocol's)."),
    overrides: list[str] = typer.Option(
        [], "--set", help="linear_eval.KEY=VALUE protocol override, repeatable (e.g. linear_eval.lr=1.6)."
    ),
    gpus: str | None = GpusOption,
    per_gpu: int | None = typer.Option(
        None, "--per-gpu", help="Evaluations sharing one GPU (default 1); on the CPU, evaluations at once."
    ),
    runs: str | None = RunsOption,
    as_json: bool = JsonOption,
) -> None:
    """Train a linear classifier on RUN's frozen, centre-cropped features with the paper's protocol for its scale."""
    from simsiam_tui.launch import parse_gpus
    from simsiam_tui.launch.linear_eval import create_linear_eval
    from simsiam_tui.launch.state import refresh_state

    gpu_list = parse_gpus(gpus)
    root = runs_root(runs, must_exist=True).resolve()  # the worker starts in another folder: no relative paths
    source = resolve_run(root, run)
    paths = create_linear_eval(source, root, epochs, overrides, gpu_list, per_gpu)
    state = refresh_state(paths)
    if as_json:
        print_json({"id": paths.run_id, "dir": str(paths.dir), "state": state, "source_run": source.run_id})
        return
    typer.echo(f"{state:8} {paths.run_id}  {paths.dir}  (linear evaluation of {source.run_id})")
    typer.echo("it continues in the background: `simsiam-tui runs ls`, `runs compare` shows it beside its source")
