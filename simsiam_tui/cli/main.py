"""The `simsiam-tui` entry point: registers every command group."""

from __future__ import annotations

from typing import Any

import typer
from typer.core import TyperGroup

from simsiam_tui import __version__
from simsiam_tui.cli import (
    eval_cmd,
    gpus_cmd,
    launch_cmd,
    presets_cmd,
    runs_cmd,
    serve_cmd,
    slurm_cmd,
    train_cmd,
    ui_cmd,
)
from simsiam_tui.cli.common import fail
from simsiam_tui.errors import SimsiamError

# click's UsageError (an unknown option, a missing argument, a bad value), found through typer: recent typers
# vendor click, so `click.UsageError` is another class than the one they raise
UsageError: type[Exception] = next(c for c in typer.BadParameter.__mro__ if c.__name__ == "UsageError")


def _usage_line(exc: Any) -> str:
    """A usage error as one line, with where to read more."""
    ctx = getattr(exc, "ctx", None)
    more = f" (see '{ctx.command_path} --help')" if ctx is not None else ""
    return f"{exc.format_message()}{more}"


VALUE_LABELS = {"int": "INTEGER", "float": "NUMBER", "str": "TEXT", "Path": "PATH"}


def _value_label(param: Any) -> str:
    """How an option's value reads in help when the option names none: click's words for its type."""
    name = getattr(getattr(param, "type", None), "name", "") or ""
    bare = param.bare_type() if hasattr(param, "bare_type") else name
    inner = bare[5:-1] if bare.startswith("list[") else bare
    return VALUE_LABELS.get(inner, name.upper() or "VALUE")


def _tidy_help(command: Any) -> None:
    """Help as a person reads it, whatever typer draws: flags without a type, a value as a word (its metavar, else
    INTEGER, NUMBER, TEXT), arguments named in capitals."""
    for param in getattr(command, "params", ()):
        if getattr(param, "param_type_name", "") == "argument":
            piece = (param.metavar or param.name or "arg").upper()  # `RUN`, not typer 0.2x's `{run}`
            piece = piece if param.required else f"[{piece}]"
            piece += "..." if param.nargs != 1 else ""
            param.get_usage_pieces = lambda ctx, piece=piece: [piece]
            if hasattr(param, "display_type_rich"):
                param.display_type_rich = lambda ctx: None  # its name says what it is; no `<str>` beside it
        elif getattr(param, "is_flag", False) and hasattr(param, "display_type_rich"):
            param.display_type_rich = lambda ctx: None  # no `<bool>` beside --dry-run
        elif hasattr(param, "display_type_rich") and not param.metavar:
            label = _value_label(param)  # `INTEGER`, not typer 0.2x's `<int>` (or `<list[str]>`)
            param.display_type_rich = lambda ctx, label=label: label
    plain_help = getattr(command, "get_help_option", None)
    if plain_help is not None:  # --help is made on demand, not among the params

        def help_option(ctx: Any, made: Any = plain_help) -> Any:
            option = made(ctx)
            if option is not None and hasattr(option, "display_type_rich"):
                option.display_type_rich = lambda ctx: None
            return option

        command.get_help_option = help_option
    for sub in getattr(command, "commands", {}).values():
        _tidy_help(sub)


class _Root(TyperGroup):
    """The root command group: the one place where a user error becomes one line on stderr and exit 2."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _tidy_help(self)  # typer builds the whole tree first, then this group around it

    def make_context(self, *args: Any, **kwargs: Any) -> Any:
        try:
            return super().make_context(*args, **kwargs)
        except UsageError as exc:  # an unknown option before any command: one line, not a box
            raise fail(_usage_line(exc)) from None

    def invoke(self, ctx: Any) -> Any:  # typer's vendored click.Context
        try:
            return super().invoke(ctx)
        except SimsiamError as exc:  # every subcommand (and nested group) runs inside this call
            raise fail(str(exc)) from None
        except UsageError as exc:  # a subcommand's unknown option, missing argument or bad value
            raise fail(_usage_line(exc)) from None
        except BrokenPipeError:
            raise  # `| head` closed the pipe: typer's own handler exits quietly
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
serve_cmd.register(app)


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
