"""One launch request: `launch`, `slurm submit` and the app's dialog build it, name runs and refuse it alike."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from simsiam_tui.cli.main import app
from simsiam_tui.launch.labels import run_labels
from simsiam_tui.launch.request import LaunchRequest, check_request, plan_launch
from simsiam_tui.ui.actions import LaunchForm, check_launch
from tests.fakes import use_fake_nvml

runner = CliRunner()


def _cli_error(args: list[str]) -> str:
    result = runner.invoke(app, args)
    assert result.exit_code == 2, result.output
    line = result.stderr.strip()
    assert line.startswith("error: ") and "\n" not in line, result.stderr
    return line.removeprefix("error: ")


@pytest.mark.parametrize(
    ("options", "form"),
    [
        (["--gpus", "0,2"], LaunchForm(presets=["simsiam"], scale="digits", gpus="0,2")),
        (["--set", "train.device=cuda"], LaunchForm(presets=["simsiam"], scale="digits", overrides="train.device=cuda")),
        (
            ["--scale", "cifar10", "--set", "data.dir=/nonexistent"],
            LaunchForm(presets=["simsiam"], scale="cifar10", overrides="data.dir=/nonexistent"),
        ),
        (["--name", "a b"], LaunchForm(presets=["simsiam"], scale="digits", name="a b")),
        (["--set", "train.epochs=0"], LaunchForm(presets=["simsiam"], scale="digits", overrides="train.epochs=0")),
    ],
)
def test_the_dialog_refuses_what_launch_refuses_with_its_words(
    options: list[str], form: LaunchForm, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    use_fake_nvml(monkeypatch, tmp_path, [])  # no GPU here
    args = ["launch", "--preset", "simsiam", *(["--scale", "digits"] if "--scale" not in options else []), *options]
    cli = _cli_error([*args, "--dry-run"])
    assert _cli_error([*args, "--runs", str(tmp_path / "runs")]) == cli  # --dry-run checks what a launch checks
    assert not (tmp_path / "runs").exists()
    plan, errors = check_launch(form)
    assert plan is None and cli in errors.values(), (cli, errors)


def test_a_sweep_with_seeds_is_named_alike_by_launch_and_by_slurm(tmp_path: Path) -> None:
    grid = ["--preset", "simsiam", "--scale", "digits", "--sweep", "optim.lr=0.01,0.05", "--seeds", "2"]
    configs = json.loads(runner.invoke(app, ["launch", *grid, "--dry-run", "--json"]).stdout)
    assert [(c["sweep"], c["train"]["seed"]) for c in configs] == [
        ("optim.lr=0.01", 0), ("optim.lr=0.01", 1), ("optim.lr=0.05", 0), ("optim.lr=0.05", 1)
    ]  # fmt: skip
    plan = plan_launch(LaunchRequest(presets=("simsiam",), scale="digits", sweeps=("optim.lr=0.01,0.05",), seeds=2))
    assert plan.labels == run_labels(plan.configs) == ["simsiam-lr0.01-s0", "simsiam-lr0.01-s1", "simsiam-lr0.05-s0", "simsiam-lr0.05-s1"]
    result = runner.invoke(app, ["slurm", "submit", *grid, "--dry-run", "--json", "--runs", str(tmp_path / "runs")])
    assert result.exit_code == 0, result.output
    scripts = [item["script"] for item in json.loads(result.stdout)]
    assert len(scripts) == 4
    for label, script in zip(plan.labels, scripts, strict=True):
        assert f"-{label}" in script, (label, script)  # the run folder `<timestamp>-<label>` the job writes into


def test_every_field_problem_is_named_at_once() -> None:
    plan, problems = check_request(
        LaunchRequest(presets=("simsiam",), name="a b", gpus="x", per_gpu=0, seeds=0, sweeps=("optim.lr",))
    )
    assert plan is None and set(problems) == {"name", "gpus", "per_gpu", "seeds", "sweeps"}, problems


def test_slurm_does_not_check_this_machines_gpus(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    use_fake_nvml(monkeypatch, tmp_path, [])  # a login node without GPUs submits jobs for GPU nodes
    request = LaunchRequest(presets=("simsiam",), scale="digits", overrides=("train.device=cuda",))
    assert check_request(request)[0] is None
    plan = plan_launch(LaunchRequest(presets=("simsiam",), scale="digits", overrides=("train.device=cuda",), local=False))
    assert plan.slots == [] and plan.configs[0].train.device == "cuda"


def test_the_dialog_launches_a_sweep_with_seeds_as_launch_does() -> None:
    form = LaunchForm(presets=["simsiam"], scale="digits", seeds="2", sweeps="optim.lr=0.01,0.05")
    plan, errors = check_launch(form)
    assert plan is not None, errors
    cli = plan_launch(LaunchRequest(presets=("simsiam",), scale="digits", sweeps=("optim.lr=0.01,0.05",), seeds=2))
    assert plan.labels == cli.labels and [c.sweep for c in plan.configs] == [c.sweep for c in cli.configs]
    _, errors = check_launch(LaunchForm(presets=["simsiam"], scale="digits", seeds="x", sweeps="optim.lr"))
    assert set(errors) == {"seeds", "sweeps"}, errors
