"""Checkpoints: a crafted file never runs code, last.pt rotates to prev.pt, a corrupt last.pt falls back, a full disk says so."""

from __future__ import annotations

import errno
import json
import os
import pickle
import random
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from simsiam_tui.store import RunPaths, create_run, read_events, read_status
from simsiam_tui.train import checkpoint
from simsiam_tui.train.checkpoint import load_resumable, prev_path, rng_state, save_checkpoint, set_rng_state
from simsiam_tui.train.errors import CheckpointError, DiskFullError
from simsiam_tui.train.worker import run_worker

from .conftest import cli_env, one_line_error, run_cli, stopped_run, tiny_config, worker_env

STEPS_PER_EPOCH = 1347 // 128


class Payload:
    """What a hostile checkpoint holds: unpickling it runs `touch MARKER`."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):  # type: ignore[no-untyped-def]
        return (os.system, (f"touch {self.marker}",))


def craft(path: Path, marker: Path) -> None:
    """Write a last.pt that runs a shell command when loaded with weights_only=False."""
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save({"model": Payload(marker), "optimizer": {}, "step": 3, "steps_per_epoch": 10, "rng": {}}, path)


def test_the_payload_is_live(tmp_path: Path) -> None:
    """Control: the crafted file does run its command under a plain unpickler, so the tests below can fail."""
    marker = tmp_path / "control"
    pickle.loads(pickle.dumps(Payload(marker)))
    assert marker.exists()


def _payload(step: int) -> dict:
    return {"model": {"w": torch.full((3,), float(step))}, "optimizer": {"state": {}, "param_groups": []},
            "step": step, "steps_per_epoch": 10, "rng": rng_state()}  # fmt: skip


def test_rotation_keeps_prev_and_leaves_no_temp_file(tmp_path: Path) -> None:
    last = tmp_path / "last.pt"
    save_checkpoint(last, _payload(1))
    save_checkpoint(last, _payload(2))
    assert torch.load(last, weights_only=True)["step"] == 2
    assert torch.load(prev_path(last), weights_only=True)["step"] == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["last.pt", "prev.pt"]


@pytest.mark.parametrize("damage", ["truncated", "garbage", "crafted", "missing"])
def test_unusable_last_falls_back_to_prev_and_says_so(tmp_path: Path, damage: str) -> None:
    last, marker = tmp_path / "last.pt", tmp_path / "pwned"
    save_checkpoint(last, _payload(1))
    save_checkpoint(last, _payload(2))
    if damage == "truncated":
        last.write_bytes(last.read_bytes()[:100])
    elif damage == "garbage":
        last.write_bytes(b"\x00\xff" * 64)
    elif damage == "crafted":
        craft(last, marker)
    else:
        last.unlink()
    ckpt, note = load_resumable(last)
    assert ckpt is not None and ckpt["step"] == 1
    assert note is not None and "prev.pt" in note and "last.pt" in note
    assert not marker.exists()


def test_crafted_last_without_prev_is_one_line_naming_it(tmp_path: Path) -> None:
    last, marker = tmp_path / "last.pt", tmp_path / "pwned"
    craft(last, marker)
    with pytest.raises(CheckpointError) as err:
        load_resumable(last)
    assert str(last) in str(err.value) and "refused" in str(err.value) and "\n" not in str(err.value)
    assert not marker.exists()


def test_rng_states_round_trip_through_a_weights_only_file(tmp_path: Path) -> None:
    gen = torch.Generator().manual_seed(5)
    save_checkpoint(tmp_path / "last.pt", {**_payload(1), "rng": rng_state({"augment": gen})})
    expected = (
        random.random(),
        float(__import__("numpy").random.rand()),
        torch.rand(1).item(),
        torch.rand(1, generator=gen).item(),
    )
    set_rng_state(torch.load(tmp_path / "last.pt", weights_only=True)["rng"], {"augment": gen})
    again = (
        random.random(),
        float(__import__("numpy").random.rand()),
        torch.rand(1).item(),
        torch.rand(1, generator=gen).item(),
    )
    assert again == expected


@pytest.mark.slow
def test_crafted_checkpoint_never_runs_code_when_the_worker_starts(tmp_path: Path) -> None:
    paths = create_run(tmp_path / "runs", tiny_config(), "victim")
    marker = tmp_path / "pwned"
    craft(paths.checkpoint, marker)
    proc = subprocess.run(
        [sys.executable, "-m", "simsiam_tui.train", str(paths.dir)], env=worker_env(), capture_output=True,
        text=True, timeout=300,
    )  # fmt: skip
    assert not marker.exists(), "the checkpoint ran code"
    one_line_error(proc, str(paths.checkpoint), "refused")
    status = read_status(paths.status)
    assert status["state"] == "failed" and "last.pt" in status["message"]


@pytest.mark.slow
def test_crafted_checkpoint_on_runs_resume_is_one_line_and_runs_nothing(root: Path, tmp_path: Path) -> None:
    paths = stopped_run(root)
    marker = tmp_path / "pwned"
    craft(paths.checkpoint, marker)
    proc = run_cli("runs", "resume", "victim", "--runs", str(root), env=cli_env(), timeout=300)
    assert not marker.exists(), "the checkpoint ran code"
    one_line_error(proc, "did not resume", "last.pt", "refused")
    assert "resumed from" not in proc.stdout  # never claimed before the worker loaded anything
    assert read_status(paths.status)["state"] == "failed"


@pytest.fixture(scope="module")
def finished(tmp_path_factory: pytest.TempPathFactory) -> RunPaths:
    """A 2-epoch run, finished: last.pt holds epoch 2, prev.pt epoch 1."""
    paths = create_run(tmp_path_factory.mktemp("runs"), tiny_config(), "straight")
    proc = subprocess.run([sys.executable, "-m", "simsiam_tui.train", str(paths.dir)], env=worker_env(),
                          capture_output=True, text=True, timeout=300)  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    return paths


@pytest.mark.slow
def test_corrupt_last_pt_resumes_from_prev_and_says_so(finished: RunPaths) -> None:
    assert torch.load(prev_path(finished.checkpoint), weights_only=True)["step"] == STEPS_PER_EPOCH
    finished.checkpoint.write_bytes(finished.checkpoint.read_bytes()[:1000])  # torn: the disk filled mid-write
    config = json.loads(finished.config.read_text())
    config["train"]["epochs"] = 3
    finished.config.write_text(json.dumps(config))
    proc = subprocess.run([sys.executable, "-m", "simsiam_tui.train", str(finished.dir)], env=worker_env(),
                          capture_output=True, text=True, timeout=300)  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert "last.pt" in proc.stderr and "resumed from prev.pt" in proc.stderr  # worker.log says so
    start = [e for e in read_events(finished.events) if e["kind"] == "start"][-1]
    assert start["resumed_from_step"] == STEPS_PER_EPOCH
    assert "prev.pt" in start["resume_note"]
    assert read_status(finished.status)["state"] == "finished"
    assert torch.load(finished.checkpoint, weights_only=True)["step"] == 3 * STEPS_PER_EPOCH


@pytest.mark.slow
def test_disk_full_during_a_checkpoint_removes_the_temp_file_and_fails_saying_so(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    paths = create_run(tmp_path / "runs", tiny_config(train={"epochs": 1}), "full")
    torch.set_num_threads(1)

    def half_then_enospc(fd: int, data: memoryview) -> None:
        os.write(fd, data[: len(data) // 2])  # the disk fills up half way through
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(checkpoint, "_write_all", half_then_enospc)
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "")
    with pytest.raises(DiskFullError, match="disk full"):
        run_worker(paths.dir)
    assert sorted(p.name for p in paths.checkpoints.iterdir()) == []  # no .last.pt.tmp* keeps the disk full
    status = read_status(paths.status)
    assert status["state"] == "failed" and "no space left" in status["message"]
    end = [e for e in read_events(paths.events) if e["kind"] == "end"][-1]
    assert end["state"] == "failed" and "disk full" in end["reason"]


@pytest.mark.slow
def test_a_checkpoint_of_another_model_is_one_line(tmp_path: Path) -> None:
    """A safe file that does not fit (the config changed since): one line naming it, not a torch page."""
    paths = create_run(tmp_path / "runs", tiny_config(), "changed")
    save_checkpoint(paths.checkpoint, {**_payload(1), "steps_per_epoch": STEPS_PER_EPOCH})
    proc = subprocess.run([sys.executable, "-m", "simsiam_tui.train", str(paths.dir)], env=worker_env(),
                          capture_output=True, text=True, timeout=300)  # fmt: skip
    one_line_error(proc, str(paths.checkpoint), "does not fit")
