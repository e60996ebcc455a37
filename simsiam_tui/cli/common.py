"""Shared CLI plumbing: user errors as one line and exit code 2, consoles, JSON output."""

from __future__ import annotations

import functools
import json
import math
import os
import sys
from collections.abc import Callable
from typing import Any, TypeVar

import typer
from rich.console import Console

from simsiam_tui.config import ConfigError
from simsiam_tui.store import StoreError

console = Console()
err_console = Console(stderr=True, highlight=False, soft_wrap=True)
F = TypeVar("F", bound=Callable[..., Any])

# Options that many commands share.
RunsOption = typer.Option(None, "--runs", help="Runs root (default $SIMSIAM_TUI_RUNS or ./runs).")
JsonOption = typer.Option(False, "--json", help="Print JSON.")
ScaleOption = typer.Option(None, "--scale", help="digits | cifar10 | imagenet, or a scale file.")
SetOption = typer.Option([], "--set", help="KEY=VALUE override, repeatable.")
SeedOption = typer.Option(None, "--seed", help="Shorthand for --set train.seed=N.")
PresetsDirOption = typer.Option(None, "--presets", help="Extra presets folder (also $SIMSIAM_TUI_PRESETS).")


class UserError(ValueError):
    """A mistake in a command's input, reported as one line."""


def user_error_types() -> tuple[type[BaseException], ...]:
    """Exception types whose message is meant for the user: config, store, launch and worker errors."""
    types: list[type[BaseException]] = [ConfigError, StoreError, UserError]
    launch_errors = sys.modules.get("simsiam_tui.launch.errors")
    if launch_errors is not None:
        types.append(launch_errors.LaunchError)
    train_errors = sys.modules.get("simsiam_tui.train.errors")
    if train_errors is not None:
        types.append(train_errors.UserFacingError)
    return tuple(types)


def fail(message: str, code: int = 2) -> typer.Exit:
    """Print `error: message` on stderr and return the Exit to raise."""
    err_console.print(f"error: {message}", markup=False)
    return typer.Exit(code=code)


def user_errors(func: F) -> F:
    """Turn user-facing exceptions into one line on stderr and exit code 2."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except user_error_types() as exc:
            raise fail(str(exc)) from None
        except OSError as exc:  # the disk is full or read-only, a folder vanished: one line, never a traceback
            where = f" {exc.filename}" if exc.filename else ""
            raise fail(f"cannot write or read{where}: {exc.strerror or exc}") from None

    return wrapper  # type: ignore[return-value]


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


def use_machine_default_scale() -> None:
    """Without --scale: cifar10 where the probe sees a GPU, digits elsewhere ($SIMSIAM_TUI_SCALE overrides)."""
    if "SIMSIAM_TUI_SCALE" not in os.environ:
        from simsiam_tui.probe import gpu_snapshot

        os.environ["SIMSIAM_TUI_SCALE"] = "cifar10" if gpu_snapshot() else "digits"
