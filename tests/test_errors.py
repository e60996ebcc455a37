"""One base error: every layer's user error is a SimsiamError, the CLI's one handler turns any into one line, exit 2."""

from __future__ import annotations

from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from simsiam_tui.cli.common import UserError
from simsiam_tui.cli.main import app
from simsiam_tui.config import ConfigError
from simsiam_tui.errors import SimsiamError
from simsiam_tui.launch.errors import LaunchError
from simsiam_tui.store import StoreError
from simsiam_tui.train.errors import TrainError
from simsiam_tui.ui.actions import ActionError


@pytest.mark.parametrize("cls", [ConfigError, StoreError, LaunchError, TrainError, UserError, ActionError])
def test_every_layer_error_is_a_simsiam_error(cls: type[Exception]) -> None:
    assert issubclass(cls, SimsiamError)
    assert str(cls("one line")) == "one line"


def test_root_handler_turns_any_layer_error_into_one_line_and_exit_2() -> None:
    sub = typer.Typer()

    @sub.command("boom")
    def boom() -> None:
        raise TrainError("data set missing at /nowhere; fix: --set data.dir=...")

    app.add_typer(sub, name="test-only-boom")  # a nested group: its errors pass through the root's handler too
    try:
        result = CliRunner().invoke(app, ["test-only-boom", "boom"])
    finally:
        app.registered_groups.pop()
    assert result.exit_code == 2
    assert result.output.strip() == "error: data set missing at /nowhere; fix: --set data.dir=..."
    assert result.exception is None or isinstance(result.exception, SystemExit)


def test_a_bug_is_not_swallowed_as_a_user_error() -> None:
    sub = typer.Typer()

    @sub.command("bug")
    def bug() -> None:
        raise KeyError("not a user error")

    app.add_typer(sub, name="test-only-bug")
    try:
        result = CliRunner().invoke(app, ["test-only-bug", "bug"])
    finally:
        app.registered_groups.pop()
    assert result.exit_code == 1 and isinstance(result.exception, KeyError)


def test_an_os_error_is_one_line_too(tmp_path: Path) -> None:
    sub = typer.Typer()

    @sub.command("full")
    def full() -> None:
        raise OSError(28, "No space left on device", str(tmp_path / "runs" / "x" / "status.json"))

    app.add_typer(sub, name="test-only-full")
    try:
        result = CliRunner().invoke(app, ["test-only-full", "full"])
    finally:
        app.registered_groups.pop()
    assert result.exit_code == 2
    assert result.output.strip() == f"error: cannot write or read {tmp_path}/runs/x/status.json: No space left on device"
