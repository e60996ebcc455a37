"""Bad input is one line on stderr and exit code 2, never a traceback; a suite launch is all or nothing."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from simsiam_tui.store import create_run

from .conftest import cli_env, one_line_error, run_cli, tiny_config


def _launch(root: Path, *args: str, presets: Path | None = None) -> object:
    extra = ["--presets", str(presets)] if presets else []
    return run_cli("launch", "--scale", "digits", "--runs", str(root), *extra, *args, env=cli_env())


def test_non_utf8_preset_file(root: Path, tmp_path: Path) -> None:
    presets = tmp_path / "presets"
    presets.mkdir()
    (presets / "latin.toml").write_bytes(b'description = "caf\xe9"\n')
    one_line_error(_launch(root, "--preset", "latin", "--dry-run", presets=presets), "latin.toml", "UTF-8")


def test_non_utf8_scale_file(root: Path, tmp_path: Path) -> None:
    scale = tmp_path / "odd.toml"
    scale.write_bytes(b"[train]\nepochs = 1 # \xff\xfe\n")
    proc = run_cli(
        "launch", "--preset", "simsiam", "--scale", str(scale), "--dry-run", "--runs", str(root), env=cli_env()
    )
    one_line_error(proc, "odd.toml", "UTF-8")


def test_seed_beyond_64_bits(root: Path) -> None:
    one_line_error(_launch(root, "--preset", "simsiam", "--set", f"train.seed={2**64}", "--dry-run"), "train.seed")
    one_line_error(_launch(root, "--preset", "simsiam", "--seed", str(2**70), "--dry-run"), "train.seed")


def test_runs_folder_below_a_regular_file(tmp_path: Path) -> None:
    blocker = tmp_path / "afile"
    blocker.write_text("x")
    for args in (["launch", "--preset", "simsiam", "--scale", "digits"], ["runs", "ls"], ["runs", "rm", "x"]):
        one_line_error(run_cli(*args, "--runs", str(blocker / "runs"), env=cli_env()), "afile")


@pytest.mark.parametrize(
    "args, needle",
    [
        (["--gpus", "abc", "--dry-run"], "--gpus"),
        (["--gpus-per-run", "0", "--dry-run"], "--gpus-per-run"),
        (["--gpus-per-run", "0"], "--gpus-per-run"),
        (["--per-gpu", "0", "--dry-run"], "--per-gpu"),
    ],
)
def test_bad_gpu_options_before_the_dry_run(root: Path, args: list[str], needle: str) -> None:
    one_line_error(_launch(root, "--preset", "simsiam", *args), needle)
    assert not any(root.iterdir())


def test_config_json_that_is_a_list(root: Path) -> None:
    import subprocess
    import sys

    from .conftest import worker_env

    paths = create_run(root, tiny_config(), "listy")
    paths.config.write_text(json.dumps([1, 2, 3]))
    proc = subprocess.run([sys.executable, "-m", "simsiam_tui.train", str(paths.dir)], env=worker_env(),
                          capture_output=True, text=True, timeout=120)  # fmt: skip
    one_line_error(proc, "config.json", "JSON object")
    for args in (["runs", "show", "listy"], ["runs", "ls"], ["runs", "compare"]):
        result = run_cli(*args, "--runs", str(root), env=cli_env())
        assert result.returncode == 0 and "Traceback" not in result.stderr, result.stderr


def test_suite_with_a_bad_later_name_creates_nothing(root: Path, tmp_path: Path) -> None:
    presets = tmp_path / "presets"
    (presets / "suites").mkdir(parents=True)
    (presets / "ok.toml").write_text('description = "fine"\n')
    (presets / "bad name!.toml").write_text('description = "a name no run may have"\n')
    (presets / "suites" / "mixed.toml").write_text('presets = ["ok", "bad name!"]\n')
    one_line_error(_launch(root, "--suite", "mixed", presets=presets), "bad name!")
    assert [p.name for p in root.iterdir() if not p.name.startswith(".")] == []
    long_name = "n" * 60  # fits alone, but not with a variant appended
    one_line_error(_launch(root, "--suite", "stop-grad", "--name", long_name), long_name)
    assert [p.name for p in root.iterdir() if not p.name.startswith(".")] == []
