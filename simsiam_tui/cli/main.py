"""The `simsiam-tui` entry point: registers every command group."""

from __future__ import annotations

from typing import Any

import typer
from typer.core import TyperGroup

from simsiam_tui import __version__
from simsiam_tui.cli import eval_cmd, gpus_cmd, launch_cmd, presets_cmd, runs_cmd, slurm_cmd, train_cmd, ui_cmd
from simsiam_tui.cli.common import fail
from simsiam_tui.errors import SimsiamError


class _Root(TyperGroup):
    """The root command group: the one place where a user error becomes one line on stderr and exit 2."""

    def invoke(self, ctx: Any) -> Any:  # typer's vendored click.Context
        try:
            return super().invoke(ctx)
        except SimsiamError as exc:  # every subcommand (and nested group) runs inside this call
            raise fail(str(exc)) from None
        except OSError as exc:  # the disk is full or read-only, a folder vanished: one line, never a traceback
            where = f" {exc.filename}" if exc.filename else ""
            raise fail(f"cannot write or read{where}: {exc.strerror or exc}") from None

app = typer.Typer(
    cls=_Root,
    name="simsiam-tui",
    help="Launch SimSiam-style self-supervised runs and watch, live and side by side, which learn and which collapse.",
    add_completion=False,
    pretty_exceptions_enable=False,
    invoke_without_command=True,
)
app.add_typer(presets_cmd.app, name="presets")
app.add_typer(runs_cmd.app, name="runs")
app.add_typer(slurm_cmd.app, name="slurm")
app.add_typer(eval_cmd.app, name="eval")  # linear evaluation runs
app.command("launch")(launch_cmd.launch)
app.command("train")(train_cmd.train)
app.command("gpus")(gpus_cmd.gpus)
ui_cmd.register(app)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"simsiam-tui {__version__}")
        raise typer.Exit()


@app.callback()
def root(
    ctx: typer.Context,
    runs: str | None = typer.Option(None, "--runs", help="Runs root for the app (default $SIMSIAM_TUI_RUNS or ./runs)."),
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True, help="Print the version."),
) -> None:
    """With no command, open the dashboard of every run under the runs root."""
    if ctx.invoked_subcommand is None:
        from simsiam_tui.cli import ui_cmd

        ui_cmd.open_dashboard([runs] if runs else None)


def main() -> None:
    """Console script entry point."""
    app()
