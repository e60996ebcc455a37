"""DDP on CPU (gloo, 2 processes): the worker under torchrun equals one process; kNN, BN and views agree; failures end."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
import torch.distributed as torch_dist
import torch.multiprocessing as mp

from simsiam_tui.errors import SimsiamError
from simsiam_tui.store import RunPaths, create_run, read_events, read_status
from simsiam_tui.train import dist
from simsiam_tui.train.augment import AugmentSpec, DeviceAugment
from simsiam_tui.train.backbones import build_backbone
from simsiam_tui.train.data import MemorySource
from simsiam_tui.train.datasets import ImageSet
from simsiam_tui.train.knn import extract_features, knn_predict, ordered_shard

from .conftest import start_worker, tiny_config, worker_env

TIMEOUT_S = 180


def _torchrun(run_dir: Path, nproc: int = 2, **env: str) -> subprocess.Popen:
    """`torchrun --standalone --nproc-per-node N -m simsiam_tui.train RUN_DIR`, CPU only, output captured."""
    argv = [sys.executable, "-m", "torch.distributed.run", "--standalone", f"--nproc-per-node={nproc}"]
    argv += ["-m", "simsiam_tui.train", str(run_dir)]
    return subprocess.Popen(
        argv, env=worker_env(**env), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )


def _finish(proc: subprocess.Popen) -> str:
    out, _ = proc.communicate(timeout=TIMEOUT_S)
    return out


def _train(paths: RunPaths) -> list[dict]:
    return [e for e in read_events(paths.events) if e["kind"] == "train"]


def _ddp_config(epochs: int = 1):  # type: ignore[no-untyped-def]
    return tiny_config(monitor={"log_every": 1, "collapse_every": 5}, train={"epochs": epochs})


@pytest.fixture(scope="module")
def pair(tmp_path_factory: pytest.TempPathFactory) -> tuple[RunPaths, RunPaths]:
    """The same config (global batch 128, seed 0) run by 2 gloo ranks under torchrun and by one process."""
    root = tmp_path_factory.mktemp("runs")
    ddp, single = create_run(root, _ddp_config(), "ddp"), create_run(root, _ddp_config(), "single")
    proc = _torchrun(ddp.dir)
    out = _finish(proc)
    assert proc.returncode == 0, out
    one = start_worker(single.dir)
    _, err = one.communicate(timeout=TIMEOUT_S)
    assert one.returncode == 0, err
    return ddp, single


@pytest.mark.slow
def test_ddp_run_finishes_with_one_events_file_and_no_step_twice(pair: tuple[RunPaths, RunPaths]) -> None:
    ddp, _ = pair
    status = read_status(ddp.status) or {}
    assert status["state"] == "finished" and status["world_size"] == 2 and len(status["rank_pids"]) == 2
    assert sorted(p.name for p in ddp.dir.glob("*.jsonl")) == ["events.jsonl"]
    events = read_events(ddp.events)
    assert [e["kind"] for e in events].count("start") == 1 and events[0]["world_size"] == 2
    steps = [e["step"] for e in _train(ddp)]
    assert steps == list(range(1, 11))  # 1437 digits // 128 global = 10 steps, each logged once
    assert [e["kind"] for e in events].count("eval") == 1 and events[-1]["state"] == "finished"


@pytest.mark.slow
def test_ddp_losses_equal_one_process_with_the_same_global_batch(pair: tuple[RunPaths, RunPaths]) -> None:
    """Exact up to float summation order: same views (sharded), global BN statistics, averaged gradients."""
    ddp, single = pair
    a, b = _train(ddp), _train(single)
    assert a[0]["step"] == b[0]["step"] == 1
    assert a[0]["loss"] == pytest.approx(b[0]["loss"], abs=1e-5)
    # later steps also agree: the gradients (through the global BN) match too
    assert [e["loss"] for e in a] == pytest.approx([e["loss"] for e in b], abs=1e-4)
    assert a[0]["z_std"] == pytest.approx(b[0]["z_std"], abs=1e-5)


@pytest.mark.slow
def test_ddp_sigterm_to_rank0_stops_then_resume_under_ddp_finishes(tmp_path: Path, pair: tuple[RunPaths, RunPaths]) -> None:
    """SIGTERM reaches rank 0 only; the ranks agree at a step boundary, rank 0 checkpoints; a DDP resume ends the run."""
    _, single = pair
    paths = create_run(tmp_path, _ddp_config(), "stop")
    proc = _torchrun(paths.dir, SIMSIAM_TUI_FAULT="hold_at_step=4")
    deadline = time.monotonic() + TIMEOUT_S
    while not any(e["step"] == 4 for e in _train(paths)) if paths.events.exists() else True:
        assert proc.poll() is None and time.monotonic() < deadline, proc.stdout.read() if proc.stdout else ""
        time.sleep(0.1)
    os.kill((read_status(paths.status) or {})["pid"], signal.SIGTERM)
    out = _finish(proc)
    assert proc.returncode == 0, out
    status = read_status(paths.status) or {}
    assert status["state"] == "stopped" and "SIGTERM at step 4" in status["message"]
    proc = _torchrun(paths.dir)
    out = _finish(proc)
    assert proc.returncode == 0, out
    assert (read_status(paths.status) or {})["state"] == "finished"
    steps = [e["step"] for e in _train(paths)]
    assert steps == list(range(1, 11))  # no step twice after the resume
    starts = [e for e in read_events(paths.events) if e["kind"] == "start"]
    assert [s["resumed_from_step"] for s in starts] == [None, 4]
    assert [e["loss"] for e in _train(paths)] == pytest.approx([e["loss"] for e in _train(single)], abs=1e-4)


@pytest.mark.slow
def test_a_rank_that_dies_fails_the_run_without_hanging(tmp_path: Path) -> None:
    """SIGKILL rank 1 mid-run: torchrun and the gloo collective bring rank 0 down; the run ends failed or lost."""
    from simsiam_tui.launch import refresh_state

    paths = create_run(tmp_path, _ddp_config(epochs=50), "dies")
    proc = _torchrun(paths.dir, SIMSIAM_TUI_DIST_TIMEOUT_S="30")
    deadline = time.monotonic() + TIMEOUT_S
    while not (paths.events.exists() and len(_train(paths)) >= 2):
        assert proc.poll() is None and time.monotonic() < deadline, proc.stdout.read() if proc.stdout else ""
        time.sleep(0.1)
    rank1 = (read_status(paths.status) or {})["rank_pids"][1]
    t0 = time.monotonic()
    os.kill(rank1, signal.SIGKILL)
    out = _finish(proc)
    assert proc.returncode != 0, out
    assert time.monotonic() - t0 < 60
    assert refresh_state(paths) in ("failed", "lost"), read_status(paths.status)


# -- in-process checks: views, batch split, and a 2-rank gloo group via mp.spawn ----------------------
def test_global_batch_splits_per_rank_with_a_clear_error() -> None:
    assert dist.local_batch(512, 4) == 128
    with pytest.raises(SimsiamError, match="global batch and must divide by the 3 processes"):
        dist.local_batch(128, 3)


def test_sharded_views_equal_the_single_process_views() -> None:
    spec = AugmentSpec(size=8, mean=(0.5, 0.5, 0.5), std=(0.25, 0.25, 0.25))
    images = torch.randint(0, 256, (6, 3, 8, 8), dtype=torch.uint8)
    x1, x2 = DeviceAugment(spec, torch.Generator().manual_seed(3))(images)
    parts = [dist.sharded_views(DeviceAugment(spec, torch.Generator().manual_seed(3)), images[r * 3 : r * 3 + 3], r, 2) for r in (0, 1)]
    torch.testing.assert_close(torch.cat([p[0] for p in parts]), x1)
    torch.testing.assert_close(torch.cat([p[1] for p in parts]), x2)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _knn_rank(rank: int, world: int, port: int, out_dir: str) -> None:
    torch.set_num_threads(1)
    torch_dist.init_process_group("gloo", init_method=f"tcp://127.0.0.1:{port}", rank=rank, world_size=world)
    try:
        torch.manual_seed(0)
        net = build_backbone("resnet-small", 8).eval()
        g = torch.Generator().manual_seed(1)
        images = torch.randint(0, 256, (37, 3, 8, 8), dtype=torch.uint8, generator=g)  # 37: uneven shards
        src = MemorySource(ImageSet(images, torch.randint(0, 5, (37,), generator=g)), torch.device("cpu"))
        lo, hi = dist.shard_range(len(src), rank, world)
        fs, ys = [], []
        for x, y in ordered_shard(src, 8, lo, hi):
            fs.append(extract_features(net, x, lambda u: u.float() / 255.0, 8))
            ys.append(y)
        feats, labels = dist.gather_rows(torch.cat(fs)), dist.gather_rows(torch.cat(ys))
        # BN over the global batch: forward and backward equal one BN over the concatenated batch
        torch.manual_seed(2)
        full = torch.randn(8, 4, 3, 3, requires_grad=True)
        bn = dist.convert_global_batchnorm(torch.nn.Sequential(torch.nn.BatchNorm2d(4))).train()
        part = full[rank * 4 : rank * 4 + 4].detach().requires_grad_(True)
        y = bn(part)
        (y * torch.arange(y.numel()).view_as(y).float().sin()).sum().backward()
        grad_w = bn[0].weight.grad.clone()
        torch_dist.all_reduce(grad_w)
        if rank == 0:
            torch.save(
                {"feats": feats, "labels": labels, "y": dist.gather_rows(y.detach()), "grad_x": dist.gather_rows(part.grad),
                 "grad_w": grad_w, "running": bn[0].running_var.clone()},
                Path(out_dir) / "ddp.pt",
            )
        else:
            dist.gather_rows(y.detach()), dist.gather_rows(part.grad)
    finally:
        torch_dist.destroy_process_group()


@pytest.mark.slow  # two gloo ranks in subprocesses (mp.spawn)
def test_gathered_knn_and_global_bn_equal_one_process(tmp_path: Path) -> None:
    mp.spawn(_knn_rank, args=(2, _free_port(), str(tmp_path)), nprocs=2, join=True)
    got = torch.load(tmp_path / "ddp.pt")
    torch.manual_seed(0)
    net = build_backbone("resnet-small", 8).eval()
    g = torch.Generator().manual_seed(1)
    images = torch.randint(0, 256, (37, 3, 8, 8), dtype=torch.uint8, generator=g)
    labels = torch.randint(0, 5, (37,), generator=g)
    feats = extract_features(net, images, lambda u: u.float() / 255.0, 8)
    torch.testing.assert_close(got["feats"], feats, atol=1e-5, rtol=1e-5)
    assert torch.equal(got["labels"], labels)
    bank, queries = slice(0, 25), slice(25, 37)
    single = knn_predict(feats[queries], feats[bank], labels[bank], 5, k=7)
    gathered = knn_predict(got["feats"][queries], got["feats"][bank], got["labels"][bank], 5, k=7)
    assert torch.equal(single, gathered)
    # BN
    torch.manual_seed(2)
    full = torch.randn(8, 4, 3, 3, requires_grad=True)
    bn = torch.nn.BatchNorm2d(4).train()
    y = bn(full)
    weights = torch.cat([torch.arange(y[:4].numel()).view_as(y[:4]).float().sin()] * 2)
    (y * weights).sum().backward()
    torch.testing.assert_close(got["y"], y.detach(), atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(got["grad_x"], full.grad, atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(got["grad_w"], bn.weight.grad, atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(got["running"], bn.running_var, atol=1e-6, rtol=1e-5)
