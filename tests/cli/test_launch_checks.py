"""One launch's checks, before anything is made and in --dry-run too: GPUs visible, the device there, the data there."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from simsiam_tui.cli.main import app
from tests.fakes import gpu, use_fake_nvml

runner = CliRunner()


@pytest.mark.parametrize("gpus", [[], [gpu(0)]])
def test_gpus_and_device_are_checked_in_dry_run_and_before_a_run_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, gpus: list[dict]
) -> None:
    use_fake_nvml(monkeypatch, tmp_path, gpus)
    root = tmp_path / "runs"
    dry = runner.invoke(app, ["launch", "--preset", "simsiam", "--scale", "digits", "--gpus", "0,2", "--dry-run"])
    assert dry.exit_code == 2 and ("GPU 2 is not visible" in dry.output or "none is visible" in dry.output), dry.output
    if gpus:  # one GPU is there: the device check would pass and the worker would start (not here: no CUDA)
        return
    train = runner.invoke(
        app, ["train", "--preset", "simsiam", "--scale", "digits", "--set", "train.device=cuda", "--runs", str(root)]
    )
    assert train.exit_code == 2 and "no GPU is visible" in train.output, train.output
    assert not root.exists()  # no failed run folder left behind


def test_missing_data_is_one_line_and_no_run_folder(tmp_path: Path) -> None:
    root = tmp_path / "runs"
    for command in (["launch"], ["launch", "--dry-run"], ["slurm", "submit", "--dry-run"], ["train"]):
        result = runner.invoke(
            app, [*command, "--preset", "simsiam", "--scale", "cifar10", "--set", "data.dir=/nonexistent", "--runs", str(root)]
        )
        assert result.exit_code == 2 and "data.dir '/nonexistent' is not a folder" in result.output, (command, result.output)
    assert not root.exists()
