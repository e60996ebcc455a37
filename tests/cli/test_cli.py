"""The command line through typer's CliRunner: help, version, presets, runs ls, launch --dry-run, bad input."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from typer.testing import CliRunner

from simsiam_tui import __version__
from simsiam_tui.cli.main import app

runner = CliRunner()


def test_help_and_version():
    assert runner.invoke(app, ["--help"]).exit_code == 0
    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0 and __version__ in result.stdout


def test_presets_ls_and_show():
    result = runner.invoke(app, ["presets", "ls", "--json"])
    data = json.loads(result.stdout)
    assert "no-stop-grad" in data["presets"] and data["suites"]["stop-grad"] == ["simsiam", "no-stop-grad"]
    shown = runner.invoke(app, ["presets", "show", "no-predictor", "--scale", "cifar10"])
    assert shown.exit_code == 0 and '"predictor": "none"' in shown.stdout


def test_launch_dry_run_resolves_suite(tmp_path):
    result = runner.invoke(
        app, ["launch", "--suite", "stop-grad", "--scale", "digits", "--set", "train.epochs=3", "--dry-run", "--json", "--runs", str(tmp_path)]
    )
    assert result.exit_code == 0, result.output
    configs = json.loads(result.stdout)
    assert [c["variant"] for c in configs] == ["simsiam", "no-stop-grad"]
    assert all(c["train"]["epochs"] == 3 for c in configs)
    assert list(tmp_path.iterdir()) == []  # a dry run starts nothing


def test_runs_ls_json_empty_root(tmp_path):
    result = runner.invoke(app, ["runs", "ls", "--json", "--runs", str(tmp_path)])
    assert result.exit_code == 0 and json.loads(result.stdout) == []


def test_runs_ls_missing_root_is_one_line(tmp_path):
    """A runs folder that does not exist is not an empty one: say so, in one line, and fail."""
    result = runner.invoke(app, ["runs", "ls", "--runs", str(tmp_path / "none")])
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert result.stderr.strip().splitlines() == [
        f"error: runs folder '{tmp_path / 'none'}' does not exist: no runs there; pass an existing folder with "
        "--runs DIR or set $SIMSIAM_TUI_RUNS, or launch runs here first (`simsiam-tui demo`)"
    ]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["launch", "--preset", "nope", "--dry-run"], "unknown preset 'nope'; available:"),
        (["launch", "--suite", "nope", "--dry-run"], "unknown suite 'nope'; available:"),
        (["launch", "--preset", "simsiam", "--set", "optim.lr=-1", "--dry-run"], "invalid value -1.0 for 'optim.lr'"),
        (["launch", "--preset", "simsiam", "--set", "optm.lr=1", "--dry-run"], "did you mean 'optim.lr'"),
        (["launch", "--preset", "simsiam", "--name", "../escape", "--dry-run"], "would leave the runs folder"),
        (["launch", "--preset", "simsiam", "--scale", "huge", "--dry-run"], "unknown scale 'huge'"),
        (["presets", "show", "nope"], "unknown preset 'nope'"),
    ],
)
def test_bad_input_one_line_exit_2(args, message):
    result = runner.invoke(app, args)
    assert result.exit_code == 2
    assert message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert "Traceback" not in result.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["launch", "--preset", "no-predicter", "--dry-run"], "unknown preset 'no-predicter'; did you mean 'no-predictor'?"),
        (["launch", "--suite", "stopgrad", "--dry-run"], "unknown suite 'stopgrad'; did you mean 'stop-grad'?"),
        (["launch", "--preset", "simsiam", "--scale", "digit", "--dry-run"], "unknown scale 'digit'; did you mean 'digits'?"),
        (["demo", "--suite", "stop_grad", "--no-app"], "did you mean 'stop-grad'?"),
        (["presets", "show", "simsam"], "did you mean 'simsiam'?"),
    ],
)
def test_did_you_mean_for_presets_suites_scales(args, message, tmp_path):
    """A typo in a preset, suite or scale name is answered with the nearest name, in one line."""
    result = runner.invoke(app, [*args, *(["--runs", str(tmp_path)] if args[0] == "demo" else [])])
    assert result.exit_code == 2 and message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert list(tmp_path.iterdir()) == []  # nothing launched


def test_runs_folder_that_is_a_file(tmp_path):
    afile = tmp_path / "runs"
    afile.write_text("")
    result = runner.invoke(app, ["runs", "ls", "--runs", str(afile)])
    assert result.exit_code == 2 and "is a file" in result.stderr


def test_cli_import_does_not_import_torch():
    code = "import sys, simsiam_tui.cli.main; print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_console_script_bad_input_no_traceback():
    out = subprocess.run(
        [sys.executable, "-m", "simsiam_tui.cli", "launch", "--preset", "nope", "--dry-run"], capture_output=True, text=True
    )
    assert out.returncode == 2
    assert out.stderr.startswith("error: unknown preset 'nope'") and "Traceback" not in out.stderr


def test_runs_ls_shows_progress_loss_and_verdict(tmp_path):
    """`runs ls`: epoch progress, last loss and the verdict's own word for each run."""
    from tests.ui.fixtures import stop_grad_suite

    stop_grad_suite(tmp_path, state="stopped")
    rows = {r["variant"]: r for r in json.loads(runner.invoke(app, ["runs", "ls", "--runs", str(tmp_path), "--json"]).stdout)}
    assert rows["simsiam"]["verdict"] == "healthy" and rows["no-stop-grad"]["verdict"] == "collapsed"
    assert rows["simsiam"]["epoch"] == 7.25 and rows["simsiam"]["epochs"] == 10
    assert rows["no-stop-grad"]["loss_last"] < -0.9
    table = runner.invoke(app, ["runs", "ls", "--runs", str(tmp_path)]).stdout
    header = next(line for line in table.splitlines() if "variant" in line)
    assert [c for c in ("epoch", "loss", "verdict") if c in header] == ["epoch", "loss", "verdict"]
    line = next(line for line in table.splitlines() if "no-stop-grad" in line)
    assert "7.2/10" in line and "collapsed" in line and f"{rows['no-stop-grad']['loss_last']:.4f}" in line
