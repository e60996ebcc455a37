"""The CUDA paths (marked `cuda`: skipped without a GPU; benchmarks/gpu_check.sh runs them on one)."""

from __future__ import annotations

import json
import socket
from pathlib import Path

import pytest
import torch

from simsiam_tui.store import EventWriter
from simsiam_tui.train import dist
from simsiam_tui.train.augment import AugmentSpec, DeviceAugment
from simsiam_tui.train.loop import StopFlag, Trainer
from simsiam_tui.train.runtime import SafeEvents
from tests.train.conftest import tiny_config

pytestmark = [
    pytest.mark.cuda,
    pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU (benchmarks/gpu_check.sh)"),
]


def _trainer(tmp_path: Path, **sections: dict) -> tuple[Trainer, SafeEvents]:
    cfg = tiny_config(train={"device": "cuda", "epochs": 1}, data={"image_size": 32}, **sections)
    events = SafeEvents(EventWriter(tmp_path / "events.jsonl", 0.0))
    return Trainer(cfg, tmp_path / "last.pt", events, StopFlag()), events


def test_bf16_channels_last_step_learns(tmp_path: Path) -> None:
    tr, events = _trainer(tmp_path)
    assert tr.device.type == "cuda"
    conv = next(m for m in tr.method.modules() if isinstance(m, torch.nn.Conv2d))
    assert conv.weight.is_contiguous(memory_format=torch.channels_last)
    images = tr.train_src.images[:128]
    before = conv.weight.detach().clone()
    losses = []
    for _ in range(5):
        loss, z, _ = tr.train_step(images, torch.arange(128, device=tr.device))
        assert z.dtype == torch.bfloat16  # the forward ran under bf16 autocast
        tr.optimize(loss)
        losses.append(float(loss))
    assert all(torch.isfinite(torch.tensor(losses)))
    assert not torch.equal(before, conv.weight)  # the optimizer moved the weights
    tr.evaluate()
    events.close()
    evals = [json.loads(x) for x in (tmp_path / "events.jsonl").read_text().splitlines() if '"eval"' in x]
    assert evals and 0.0 <= evals[0]["knn_top1"] <= 1.0


def test_a_step_between_monitor_steps_never_waits_for_the_device(tmp_path: Path) -> None:
    """The loop's step launches its work and returns: no `.item()`, no blocking copy (the check reads a step late)."""
    tr, events = _trainer(tmp_path, monitor={"log_every": 1000, "collapse_every": 1000})
    images, index = tr.train_src.images[:128], torch.arange(128, device=tr.device)
    for _ in range(3):  # warm-up: cached constants, pinned buffers, cuDNN's algorithm choices
        assert tr.advance(images, index) is None
    torch.cuda.set_sync_debug_mode("error")  # any synchronizing CUDA call in a step raises
    try:
        for _ in range(4):
            assert tr.advance(images, index) is None
    finally:
        torch.cuda.set_sync_debug_mode("default")
    assert tr.check.read(keep=0).diverged is None and tr.step == 7
    events.close()


def test_device_augmentation_on_cuda_matches_its_contract() -> None:
    spec = AugmentSpec(size=32, mean=(0.5, 0.5, 0.5), std=(0.25, 0.25, 0.25))
    images = torch.randint(0, 256, (64, 3, 32, 32), dtype=torch.uint8, device="cuda")
    views = []
    for _ in range(2):
        aug = DeviceAugment(spec, torch.Generator(device="cuda").manual_seed(3))
        views.append(aug(images))
    (x1, x2), (y1, _) = views
    assert x1.device.type == "cuda" and x1.shape == (64, 3, 32, 32) and x1.dtype == torch.float32
    assert torch.equal(x1, y1)  # the same seed, the same views: reproducible on the device
    assert not torch.equal(x1, x2)  # two different views of each image
    assert torch.isfinite(x1).all() and x1.abs().max() < 10  # normalized, not raw 0..255


def test_nccl_ddp_one_process(monkeypatch: pytest.MonkeyPatch) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    monkeypatch.setenv("MASTER_ADDR", "127.0.0.1")
    monkeypatch.setenv("MASTER_PORT", str(port))
    torch.distributed.init_process_group("nccl", rank=0, world_size=1, device_id=torch.device("cuda", 0))
    try:
        assert torch.distributed.get_backend() == "nccl"
        model = dist.wrap_ddp(torch.nn.Sequential(torch.nn.Linear(8, 4), torch.nn.BatchNorm1d(4)).cuda(), torch.device("cuda", 0))
        out = model(torch.randn(16, 8, device="cuda"))
        out.square().mean().backward()
        t = torch.arange(6.0, device="cuda").reshape(3, 2)
        assert torch.equal(dist.gather_rows(t), t)
        assert float(dist.all_reduce_mean(torch.tensor(2.0, device="cuda"))) == 2.0
        torch.distributed.all_reduce(t)  # a real NCCL collective
        assert torch.equal(t, torch.arange(6.0, device="cuda").reshape(3, 2))
    finally:
        torch.distributed.destroy_process_group()
