"""Linear-evaluation runs: bad sources are one line, the protocol per scale and main_lincls's conventions, exact resume."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from simsiam_tui.config import config_from_dict, config_to_dict
from simsiam_tui.config.linear_protocol import linear_protocol
from simsiam_tui.launch.linear_eval import FROZEN
from simsiam_tui.store import EventWriter, create_run, read_events, update_status
from simsiam_tui.train.checkpoint import save_checkpoint
from simsiam_tui.train.lars import LARC
from simsiam_tui.train.linear_eval import LinearEval
from simsiam_tui.train.loop import StopFlag
from simsiam_tui.train.methods import build_method
from simsiam_tui.train.runtime import SafeEvents
from tests.helpers import wait_until

from .conftest import tiny_config, worker_env


def _eval(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "simsiam_tui.cli", "eval", "linear", *args, "--runs", "."],  # relative, as typed
        capture_output=True, text=True, cwd=root, env=worker_env(), timeout=120,
    )


def _source(root: Path, state: str, checkpoint: bool, name: str = "src") -> Path:
    """A run folder in `state`, with a checkpoint of a tiny untrained SimSiam when asked."""
    cfg = tiny_config()
    paths = create_run(root, cfg, name)
    update_status(paths.status, state=state)
    if checkpoint:
        torch.manual_seed(0)
        save_checkpoint(paths.checkpoint, {"model": build_method(cfg).state_dict(), "step": 0})
    return paths.dir


@pytest.mark.parametrize(
    ("state", "checkpoint", "message"),
    [
        ("queued", False, "is queued and has trained nothing yet"),
        ("failed", False, "has no checkpoint"),
    ],
)
def test_bad_sources_are_one_line_exit_2(tmp_path: Path, state: str, checkpoint: bool, message: str) -> None:
    src = _source(tmp_path, state, checkpoint)
    proc = _eval(tmp_path, src.name)
    assert proc.returncode == 2 and message in proc.stderr, proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1 and "Traceback" not in proc.stderr
    assert sorted(p.name for p in tmp_path.iterdir() if not p.name.startswith(".")) == [src.name]  # nothing created


@pytest.mark.slow
def test_an_eval_of_an_eval_and_an_unknown_run_are_one_line(tmp_path: Path) -> None:
    src = _source(tmp_path, "finished", True)
    data = config_to_dict(tiny_config())
    data["linear_eval"]["source_run"] = src.name
    ev = create_run(tmp_path, config_from_dict(data), "src-linear")
    update_status(ev.status, state="finished")
    save_checkpoint(ev.checkpoint, {"classifier": {}, "step": 0})
    proc = _eval(tmp_path, ev.run_id)
    assert proc.returncode == 2 and f"is itself a linear evaluation (of {src.name})" in proc.stderr, proc.stderr
    proc = _eval(tmp_path, "nope")
    assert proc.returncode == 2 and "no run 'nope'" in proc.stderr and len(proc.stderr.strip().splitlines()) == 1
    proc = _eval(tmp_path, src.name, "--epochs", "0")
    assert proc.returncode == 2 and "--epochs 0" in proc.stderr
    proc = _eval(tmp_path, src.name, "--per-gpu", "0")
    assert proc.returncode == 2 and "--per-gpu 0 must be at least 1" in proc.stderr, proc.stderr
    proc = _eval(tmp_path, src.name, "--gpus", "x")
    assert proc.returncode == 2 and len(proc.stderr.strip().splitlines()) == 1, proc.stderr
    for bad, says in (("train.epochs=3", "linear_eval.* protocol keys only"), ("linear_eval.source_run=x", "keys only"),
                      ("linear_eval.optimizer=adam", "expected one of sgd, lars")):
        proc = _eval(tmp_path, src.name, "--set", bad)
        assert proc.returncode == 2 and says in proc.stderr and len(proc.stderr.strip().splitlines()) == 1, proc.stderr
    assert sorted(p.name for p in tmp_path.iterdir() if not p.name.startswith(".")) == sorted([src.name, ev.run_id])


def test_protocols_per_scale() -> None:
    imagenet = linear_protocol("imagefolder")
    assert imagenet["optimizer"] == "lars" and imagenet["batch_size"] == 4096 and imagenet["epochs"] == 90
    assert imagenet["lr"] == pytest.approx(0.02 * 4096 / 256) and imagenet["weight_decay"] == 0.0
    cifar = linear_protocol("cifar10")
    assert (cifar["optimizer"], cifar["lr"], cifar["batch_size"], cifar["epochs"]) == ("sgd", 30.0, 256, 100)
    assert linear_protocol("digits", epochs=7)["epochs"] == 7 and linear_protocol("digits")["protocol"] == "digits"


def _linear_eval(tmp: Path, src: Path, name: str, epochs: int = 6, **protocol: object) -> LinearEval:
    data = config_to_dict(tiny_config())
    data["linear_eval"].update(linear_protocol("digits", epochs), source_run=src.name,
                               checkpoint=str(src / "checkpoints" / "last.pt"), **protocol)
    (tmp / name).mkdir(exist_ok=True)
    events = SafeEvents(EventWriter(tmp / name / "events.jsonl", 0.2))
    return LinearEval(config_from_dict(data), tmp / name / "last.pt", events, StopFlag())


def test_stop_then_resume_equals_straight(tmp_path: Path) -> None:
    src = _source(tmp_path / "runs", "finished", True)
    straight = _linear_eval(tmp_path, src, "straight")
    assert straight.run().state == "finished"
    straight.events.close()
    evals = [e for e in read_events(tmp_path / "straight" / "events.jsonl") if e["kind"] == "eval"]
    assert [e["epoch"] for e in evals] == [1.0, 2.0, 3.0, 4.0, 5.0, 6.0]  # linear_top1 streamed every epoch
    assert all(0.0 <= e["linear_top1"] <= 1.0 for e in evals)
    first = _linear_eval(tmp_path, src, "resumed")
    save = first.save

    def stop_after_epoch_2(reason: str) -> None:
        save(reason)
        if first.step == 2 * first.steps_per_epoch:
            first.stop.request("SIGTERM")

    first.save = stop_after_epoch_2  # type: ignore[method-assign]
    assert first.run().state == "stopped"
    saved = torch.load(tmp_path / "resumed" / "last.pt", weights_only=True)  # tensors and plain types only
    assert saved["step"] == 2 * first.steps_per_epoch
    second = _linear_eval(tmp_path, src, "resumed")
    second.maybe_resume()
    assert second.resumed_from == 2 * second.steps_per_epoch
    assert second.run().state == "finished"
    for k, v in straight.classifier.state_dict().items():
        assert torch.equal(v, second.classifier.state_dict()[k]), k


@pytest.mark.parametrize("optimizer", ["lars", "sgd"])
def test_main_lincls_conventions(tmp_path: Path, optimizer: str) -> None:
    """Per-epoch cosine, every image each epoch (the partial batch kept), lr x batch / the protocol's, LARC for lars."""
    src = _source(tmp_path / "runs", "finished", True)
    ev = _linear_eval(tmp_path, src, optimizer, epochs=3, batch_size=200, optimizer=optimizer)
    assert isinstance(ev.optimizer, LARC if optimizer == "lars" else torch.optim.SGD)
    assert ev.lr0 == pytest.approx(30.0 * 200 / 256)  # the digits protocol's lr 30 is for batch 256
    assert ev.steps_per_epoch == 7  # 1347 labelled digits: 6 x 200 + 147
    lrs: list[float] = []
    sizes: list[int] = []
    ev.optimizer.register_step_pre_hook(lambda opt, args, kwargs: lrs.append(opt.param_groups[0]["lr"]))
    ev.classifier.register_forward_pre_hook(lambda m, args: sizes.append(args[0].shape[0]) if torch.is_grad_enabled() else None)
    assert ev.run().state == "finished"
    assert sizes == ([200] * 6 + [147]) * 3  # every image once an epoch
    per_epoch = [ev.lr0 * 0.5 * (1 + math.cos(math.pi * e / 3)) for e in range(3)]
    assert lrs == pytest.approx([lr for lr in per_epoch for _ in range(7)], rel=1e-12)  # set once per epoch
    ev.events.close()
    trains = [e for e in read_events(tmp_path / optimizer / "events.jsonl") if e["kind"] == "train"]
    assert [e["lr"] for e in trains] == pytest.approx(per_epoch) and trains[-1]["step"] == 21


def test_a_checkpoint_without_an_epoch_resumes_at_the_epoch_it_counted(tmp_path: Path) -> None:
    """Earlier versions dropped the partial batch (5 steps an epoch at batch 256) and stored only the step."""
    src = _source(tmp_path / "runs", "finished", True)
    ev = _linear_eval(tmp_path, src, "old", epochs=4)
    save_checkpoint(tmp_path / "old" / "last.pt", {"classifier": ev.classifier.state_dict(),
                                                   "optimizer": ev.optimizer.state_dict(), "step": 10})
    ev.maybe_resume()
    assert ev.epoch == 2 and ev.resumed_from == 10


@pytest.mark.slow
def test_eval_linear_cli_freezes_the_checkpoint_and_finishes(tmp_path: Path) -> None:
    """The command, as a user types it, on a finished run: a run folder of its own that finishes above chance."""
    src = _source(tmp_path, "finished", True)
    proc = _eval(tmp_path, src.name, "--epochs", "20", "--set", "linear_eval.batch_size=128", "--gpus", "cpu",
                 "--per-gpu", "3", "--json")  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    ev = Path(out["dir"])
    assert out["source_run"] == src.name and "-src-linear-" in ev.name
    cfg = json.loads((ev / "config.json").read_text())
    assert cfg["linear_eval"]["source_run"] == src.name and cfg["linear_eval"]["checkpoint"] == str(ev / FROZEN)
    assert cfg["linear_eval"]["batch_size"] == 128 and cfg["linear_eval"]["lr"] == 30.0  # --set over the protocol
    request = json.loads((ev / "status.json").read_text())["request"]
    assert request["gpus"] == [] and request["per_gpu"] == 3  # three evaluations at once on the CPU, as launch
    assert (ev / FROZEN).stat().st_ino == (src / "checkpoints" / "last.pt").stat().st_ino  # frozen: a hard link
    status = wait_until(
        lambda: (s := json.loads((ev / "status.json").read_text())).get("state") in ("finished", "failed") and s,
        240, "the linear evaluation to end", poll=0.5,
    )  # fmt: skip
    assert status["state"] == "finished", (ev / "worker.log").read_text()
    evals = [e for e in read_events(ev / "events.jsonl") if e["kind"] == "eval"]
    assert len(evals) == 20 and all(0.0 <= e["linear_top1"] <= 1.0 for e in evals)
    losses = [e["loss"] for e in read_events(ev / "events.jsonl") if e["kind"] == "train"]
    assert len(losses) == 20 and losses[-1] < losses[0]  # the classifier learns (accuracy: tests/launch)
    start = next(e for e in read_events(ev / "events.jsonl") if e["kind"] == "start")
    assert start["source_run"] == src.name and start["num_classes"] == 10
    ls = subprocess.run(
        [sys.executable, "-m", "simsiam_tui.cli", "runs", "ls", "--runs", str(tmp_path)],
        capture_output=True, text=True, cwd=tmp_path, env=worker_env(), timeout=60,
    )
    assert f"linear eval of {src.name}" in ls.stdout
