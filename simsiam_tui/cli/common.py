"""Shared CLI plumbing: shared options, consoles, one-line failures, JSON output."""

from __future__ import annotations

import json
import math
import sys
from typing import Any

import typer
from rich.console import Console

from simsiam_tui.errors import SimsiamError
from simsiam_tui.store.text import printable

console = Console()
err_console = Console(stderr=True, highlight=False, soft_wrap=True)

# Options that many commands share.
RunsOption = typer.Option(None, "--runs", metavar="DIR", help="Runs root (default $SIMSIAM_TUI_RUNS or ./runs).")
GpusOption = typer.Option(None, "--gpus", metavar="LIST", help="GPU indices to use, e.g. 0,2 ('cpu' for none; default: all).")
JsonOption = typer.Option(False, "--json", help="Print JSON.")
ScaleOption = typer.Option(None, "--scale", metavar="SCALE", help="digits | cifar10 | imagenet, or a scale file.")
SetOption = typer.Option([], "--set", metavar="KEY=VALUE", help="KEY=VALUE override, repeatable.")
SeedOption = typer.Option(None, "--seed", metavar="N", help="Shorthand for --set train.seed=N.")
PresetsDirOption = typer.Option(None, "--presets", metavar="DIR", help="Extra presets folder (also $SIMSIAM_TUI_PRESETS).")
# What to run: `launch` and `slurm submit` take the same choice, made into one LaunchRequest (launch/request.py).
PresetOption = typer.Option([], "--preset", metavar="NAME", help="Preset to run; repeatable.")
SuiteOption = typer.Option(None, "--suite", metavar="NAME", help="Suite to run (stop-grad, predictor, loss, ...).")
NameOption = typer.Option(None, "--name", metavar="PREFIX", help="Run name prefix (letters, digits, . _ -).")
SeedsOption = typer.Option(
    1, "--seeds", metavar="N", help="Replicas per variant with seeds seed..seed+N-1, grouped (runs compare --by variant)."
)
SweepOption = typer.Option(
    [], "--sweep", metavar="KEY=V1,V2", help="KEY=V1,V2,...: every combination of the values (repeatable), each point with --seeds replicas."
)


class UserError(SimsiamError, ValueError):
    """A mistake in a command's input, reported as one line."""


def fail(message: str, code: int = 2) -> typer.Exit:
    """Print `error: message` on stderr, control characters escaped (it may quote a run folder), and return the Exit."""
    err_console.print(f"error: {printable(message)}", markup=False, highlight=False)
    return typer.Exit(code=code)


def json_safe(value: Any) -> Any:
    """`value` with every NaN or infinity as None: JSON has neither, and strict parsers reject them."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(v) for v in value]
    return value


def print_json(data: Any) -> None:
    """Machine-readable output on stdout, one valid JSON document (NaN and infinity as null)."""
    sys.stdout.write(json.dumps(json_safe(data), indent=1, default=str, allow_nan=False) + "\n")
    sys.stdout.flush()


