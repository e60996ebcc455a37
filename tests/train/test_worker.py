"""The worker end to end on a tiny digits run: events, status, resume after SIGKILL/SIGTERM, faults, user errors."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from simsiam_tui.store import RunPaths, create_run, read_events, read_status
from simsiam_tui.store.schema import METHOD_SCALARS, TrainEvent
from simsiam_tui.train.errors import UserFacingError
from simsiam_tui.train.worker import run_worker
from tests.helpers import wait_until

from .conftest import start_worker, tiny_config, worker_env

STEPS_PER_EPOCH = 1347 // 128  # digits train split / batch


def _has_event(paths: RunPaths, kind: str, step: int) -> bool:
    return any(e["kind"] == kind and e["step"] == step for e in read_events(paths.events))


def _weights(paths: RunPaths) -> dict[str, torch.Tensor]:
    return torch.load(paths.checkpoint, map_location="cpu", weights_only=False)["model"]


def _assert_same_weights(a: RunPaths, b: RunPaths) -> None:
    wa, wb = _weights(a), _weights(b)
    assert wa.keys() == wb.keys()
    for k in wa:
        assert torch.equal(wa[k], wb[k]), k


def _train_steps(paths: RunPaths) -> list[int]:
    return [e["step"] for e in read_events(paths.events) if e["kind"] == "train"]


@pytest.fixture(scope="module")
def straight(tmp_path_factory: pytest.TempPathFactory) -> RunPaths:
    """A 2-epoch run without interruption, in a subprocess like the resumed ones."""
    paths = create_run(tmp_path_factory.mktemp("runs"), tiny_config(), "straight")
    proc = start_worker(paths.dir)
    _, err = proc.communicate(timeout=300)
    assert proc.returncode == 0, err
    return paths


@pytest.mark.slow
def test_events_and_status_of_a_finished_run(straight: RunPaths) -> None:
    events = read_events(straight.events)
    kinds = [e["kind"] for e in events]
    assert kinds[0] == "start" and kinds[-1] == "end"
    for kind in ("train", "collapse", "eval", "checkpoint"):
        assert kind in kinds
    start = events[0]
    assert start["resumed_from_step"] is None and start["world_size"] == 1 and start["device"] == "cpu"
    assert start["config_digest"] and start["versions"]["torch"]
    train = [e for e in events if e["kind"] == "train"]
    assert [e["step"] for e in train] == list(range(2, 2 * STEPS_PER_EPOCH + 1, 2))
    for key in ("loss", "lr", "z_std", "z_std_ref", "img_per_s", "data_wait"):
        assert isinstance(train[-1][key], float)
    # the protocol's train fields are what the worker writes (but the scalars of other methods)
    assert set(TrainEvent.__struct_fields__) - set(METHOD_SCALARS) <= set(train[-1])
    assert abs(train[-1]["z_std_ref"] - 32**-0.5) < 1e-9
    collapse = [e for e in events if e["kind"] == "collapse"]
    assert len(collapse[0]["std_quantiles"]) == 16 and collapse[0]["effective_rank"] > 1
    evals = [e for e in events if e["kind"] == "eval"]
    assert [e["epoch"] for e in evals] == [1.0, 2.0] and 0 <= evals[-1]["knn_top1"] <= 1
    assert events[-1]["state"] == "finished"
    status = read_status(straight.status)
    assert status and status["state"] == "finished" and status["exit_code"] == 0 and status["heartbeat"]


@pytest.mark.slow
def test_sigkill_after_epoch_one_then_resume_equals_straight(straight: RunPaths, tmp_path: Path) -> None:
    paths = create_run(tmp_path, tiny_config(), "killed")
    proc = start_worker(paths.dir, SIMSIAM_TUI_FAULT="hold_after_epoch=1")
    wait_until(lambda: _has_event(paths, "checkpoint", STEPS_PER_EPOCH), 120, "the worker", proc=proc)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert read_status(paths.status)["state"] == "running"  # what a killed worker leaves behind
    proc = start_worker(paths.dir)
    _, err = proc.communicate(timeout=300)
    assert proc.returncode == 0, err
    _assert_same_weights(straight, paths)
    steps = _train_steps(paths)
    assert steps == _train_steps(straight)  # no step logged twice, none missing
    starts = [e for e in read_events(paths.events) if e["kind"] == "start"]
    assert starts[-1]["resumed_from_step"] == STEPS_PER_EPOCH
    assert read_status(paths.status)["state"] == "finished"


@pytest.mark.slow
def test_sigterm_mid_epoch_stops_then_resume_equals_straight(straight: RunPaths, tmp_path: Path) -> None:
    paths = create_run(tmp_path, tiny_config(), "stopped")
    proc = start_worker(paths.dir, SIMSIAM_TUI_FAULT="hold_at_step=14")
    wait_until(lambda: _has_event(paths, "train", 14), 120, "the worker", proc=proc)
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    status = read_status(paths.status)
    assert status["state"] == "stopped" and "SIGTERM" in status["message"] and status["stop_signal"] == "SIGTERM"
    events = read_events(paths.events)
    assert events[-1]["kind"] == "end" and events[-1]["state"] == "stopped" and events[-1]["step"] == 14
    assert torch.load(paths.checkpoint, weights_only=False)["step"] == 14
    proc = start_worker(paths.dir)
    _, err = proc.communicate(timeout=300)
    assert proc.returncode == 0, err
    _assert_same_weights(straight, paths)
    assert _train_steps(paths) == _train_steps(straight)


def test_nan_loss_ends_diverged_and_keeps_last_good_checkpoint(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SIMSIAM_TUI_FAULT", f"nan_at_step={STEPS_PER_EPOCH + 3}")
    paths = create_run(tmp_path, tiny_config(), "nan")
    assert run_worker(paths.dir) == 3
    status = read_status(paths.status)
    assert status["state"] == "diverged" and f"step {STEPS_PER_EPOCH + 3}" in status["message"]
    end = read_events(paths.events)[-1]
    assert end["kind"] == "end" and end["state"] == "diverged"
    ckpt = torch.load(paths.checkpoint, weights_only=False)
    assert ckpt["step"] == STEPS_PER_EPOCH
    assert all(torch.isfinite(v).all() for v in ckpt["model"].values() if v.is_floating_point())


@pytest.mark.slow
def test_crash_records_failed_with_last_line_and_traceback(tmp_path: Path) -> None:
    paths = create_run(tmp_path, tiny_config(), "crash")
    proc = start_worker(paths.dir, SIMSIAM_TUI_FAULT="raise_at_step=3")
    _, err = proc.communicate(timeout=300)
    assert proc.returncode == 1
    status = read_status(paths.status)
    assert status["state"] == "failed" and status["message"] == "RuntimeError: injected fault at step 3"
    assert "Traceback" in err
    assert read_events(paths.events)[-1]["state"] == "failed"


@pytest.mark.slow  # a worker subprocess that loads torch and torchvision
def test_missing_data_set_without_network_is_one_line(tmp_path: Path) -> None:
    missing = tmp_path / "no-cifar"
    cfg = tiny_config(data={"name": "cifar10", "dir": str(missing), "image_size": 32})
    paths = create_run(tmp_path, cfg, "nodata")
    proc = subprocess.run(
        [sys.executable, "-m", "simsiam_tui.train", str(paths.dir)],
        env=worker_env(), capture_output=True, text=True, timeout=120,
    )
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert str(missing) in lines[0] and "--set data.dir=" in lines[0] and "--scale digits" in lines[0]
    assert "download" in lines[0]
    status = read_status(paths.status)
    assert status["state"] == "failed" and str(missing) in status["message"]


def test_bad_run_dir_is_one_line(tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "simsiam_tui.train", str(tmp_path / "nope")],
        env=worker_env(), capture_output=True, text=True, timeout=60,
    )
    assert proc.returncode == 2 and len(proc.stderr.strip().splitlines()) == 1
    with pytest.raises(UserFacingError, match="no config.json"):
        run_worker(tmp_path)
    (tmp_path / "config.json").write_text(json.dumps({"optim": {"lr": -1}}))
    with pytest.raises(UserFacingError):
        run_worker(tmp_path)
