"""Every method under DDP (2 gloo ranks) follows one process with the same global batch: losses and weights per step."""

from __future__ import annotations

import importlib
import socket
from pathlib import Path
from typing import Any
from unittest import mock

import pytest
import torch
import torch.distributed as torch_dist
import torch.multiprocessing as mp
from torch import nn

from simsiam_tui.train import dist
from simsiam_tui.train.backbones import CifarResNet
from simsiam_tui.train.methods import Batch, Method, build_method

from .conftest import tiny_config

# method -> its own section's values: MoCo's queue (24) wraps in the second step (2B = 16 keys a step), InstDisc
# samples 16 of its 32 entries, so the order of gathered keys and the sampled negatives both matter
METHODS: dict[str, dict[str, Any]] = {
    "simsiam": {},
    "simclr": {},
    "moco": {"queue_size": 24},
    "byol": {"base_momentum": 0.9},
    "instdisc": {"negatives": 16},
    "vicreg": {},
    "barlow_twins": {},
}
GLOBAL_BATCH, WORLD, STEPS, IMAGES = 8, 2, 3, 32


def _small_backbone(name: str, width: int = 64) -> nn.Module:
    """A one-block ResNet (3 BN layers): a deeper one adds only all-reduces, each slow on a loaded CPU."""
    return CifarResNet([1], width=4)


def _method(name: str) -> Method:
    """`name` built by its factory from a tiny config, its backbone a one-block ResNet, in fp64."""
    torch.manual_seed(0)
    module = importlib.import_module(f"simsiam_tui.train.methods.{name}")
    with mock.patch.object(module, "build_backbone", _small_backbone):
        method = build_method(tiny_config(method={"name": name, name: METHODS[name]}))
    method.bind_data(IMAGES)
    return method.double().train()  # fp64: what is left of a difference is the method's, not rounding


def _batch(step: int, rows: slice) -> Batch:
    """Step `step`'s global batch (8 x 3 x 8 x 8 views and train-set indices), cut to `rows`."""
    g = torch.Generator().manual_seed(100 + step)
    x1, x2 = (torch.randn(GLOBAL_BATCH, 3, 8, 8, generator=g, dtype=torch.float64) for _ in range(2))
    index = torch.randperm(IMAGES, generator=g)[:GLOBAL_BATCH]
    return Batch([x1[rows], x2[rows]], index[rows])


def _train(name: str, rows: slice, forward: Any, method: Method) -> dict[str, Any]:
    """STEPS SGD steps as the loop takes them: forward, backward, step, the method's after_step."""
    opt = torch.optim.SGD([p for p in method.parameters() if p.requires_grad], lr=0.05, momentum=0.9)
    losses = []
    for step in range(STEPS):
        out = forward(_batch(step, rows))
        opt.zero_grad(set_to_none=True)
        out.loss.backward()
        opt.step()
        method.after_step(step, STEPS)
        losses.append(float(dist.all_reduce_mean(out.loss.detach())))
    return {"losses": losses, "state": {k: v.clone() for k, v in method.state_dict().items()}}


def _rank(rank: int, port: int, out_dir: str) -> None:
    torch.set_num_threads(1)
    torch_dist.init_process_group("gloo", init_method=f"tcp://127.0.0.1:{port}", rank=rank, world_size=WORLD)
    try:
        n = GLOBAL_BATCH // WORLD
        results = {}
        for name in METHODS:
            method = _method(name)
            ddp = dist.wrap_ddp(method, torch.device("cpu"))
            results[name] = _train(name, slice(rank * n, (rank + 1) * n), ddp, method)
        if rank == 0:
            torch.save(results, Path(out_dir) / "ddp.pt")
    finally:
        dist.shutdown()  # a barrier first: a rank tearing down its gloo pairs mid-collective aborts its peer


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def ddp_results(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Every method trained by 2 gloo ranks (one mp.spawn for all of them), rank 0's record."""
    out = tmp_path_factory.mktemp("ddp-methods")
    mp.spawn(_rank, args=(_free_port(), str(out)), nprocs=WORLD, join=True)
    results: dict[str, Any] = torch.load(out / "ddp.pt")
    return results


@pytest.mark.slow  # two gloo ranks in subprocesses
@pytest.mark.parametrize("name", list(METHODS))
def test_two_ranks_follow_one_process_with_the_same_global_batch(name: str, ddp_results: dict[str, Any]) -> None:
    """Negatives, queues, banks, cross-correlations and VICReg's statistics cover the global batch under DDP."""
    method = _method(name)
    single = _train(name, slice(None), method, method)
    got = ddp_results[name]
    assert got["losses"] == pytest.approx(single["losses"], abs=1e-9, rel=0), name  # fp64: 1e-13 seen
    for key, value in single["state"].items():
        other = got["state"][key]
        if value.is_floating_point():
            torch.testing.assert_close(other, value, atol=1e-9, rtol=0, msg=lambda m, k=key: f"{name} {k}: {m}")
        else:
            assert torch.equal(other, value), f"{name} {key}"
