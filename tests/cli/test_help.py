"""Every command's --help as a person reads it, and an unknown option as one line with exit code 2."""

from __future__ import annotations

import re
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

from simsiam_tui.cli.main import app

runner = CliRunner()


def command_paths() -> list[list[str]]:
    """Every command and group of the CLI, as the words that name it (the root is [])."""
    paths: list[list[str]] = []

    def walk(command: Any, path: list[str]) -> None:
        paths.append(path)
        for name, sub in sorted(getattr(command, "commands", {}).items()):
            if not getattr(sub, "hidden", False):
                walk(sub, [*path, name])

    walk(typer.main.get_command(app), [])
    return paths


PATHS = command_paths()


def test_the_tree_is_walked() -> None:
    assert ["runs", "show"] in PATHS and ["launch"] in PATHS and ["presets", "ls"] in PATHS and len(PATHS) > 20


@pytest.mark.parametrize("path", PATHS, ids=lambda p: " ".join(p) or "root")
def test_help_has_no_types_on_flags_and_real_argument_names(path: list[str]) -> None:
    result = runner.invoke(app, [*path, "--help"], env={"COLUMNS": "200", "NO_COLOR": "1"})
    assert result.exit_code == 0, result.output
    text = result.output
    assert "<bool>" not in text
    assert not re.search(r"<(str|int|float|path|list\[\w+\])>", text, re.IGNORECASE), text  # a value reads as a word
    usage = next(line for line in text.splitlines() if "Usage:" in line)
    assert "{" not in usage and "}" not in usage, usage
    for word in re.findall(r"\[?([A-Za-z_]+)\]?(?:\.\.\.)?", usage.split("[OPTIONS]", 1)[-1]):
        assert word.isupper(), usage  # RUN, COMMAND, ARGS: an argument is named in capitals


@pytest.mark.parametrize("path", [[], ["runs", "show"], ["launch"], ["presets", "show"]], ids=" ".join)
def test_an_unknown_option_is_one_line_and_exit_2(path: list[str]) -> None:
    result = runner.invoke(app, [*path, "--no-such-option"])
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and "--no-such-option" in lines[0], result.stderr
    assert "╭" not in result.output


def test_a_missing_argument_and_a_bad_value_are_one_line_too() -> None:
    for args, words in ((["runs", "show"], "Missing argument"), (["launch", "--seeds", "many"], "--seeds")):
        result = runner.invoke(app, args)
        assert result.exit_code == 2
        (line,) = result.stderr.strip().splitlines()
        assert line.startswith("error: ") and words in line
