"""DDP plumbing: process group (with a timeout), SyncBN, sharded views, agreed stop flags, row gathers.

Single process by default; under torchrun (WORLD_SIZE > 1) every rank runs the same loop on its
slice of each global batch. Only rank 0 writes events, status and checkpoints.
"""

from __future__ import annotations

import dataclasses
import inspect
import os
from datetime import timedelta
from typing import Any

import torch
import torch.distributed as torch_dist
from torch import nn

from simsiam_tui.train.errors import UserFacingError

TIMEOUT_ENV = "SIMSIAM_TUI_DIST_TIMEOUT_S"  # how long a collective waits for a rank that hangs (default 600 s)
DEFAULT_TIMEOUT_S = 600.0


def env_world_size() -> int:
    """World size that torchrun / srun announce in the environment (1 when launched alone)."""
    return int(os.environ.get("WORLD_SIZE", "1"))


def is_initialized() -> bool:
    """True once a process group exists."""
    return torch_dist.is_available() and torch_dist.is_initialized()


def rank() -> int:
    """This process's global rank (0 when single-process)."""
    return torch_dist.get_rank() if is_initialized() else int(os.environ.get("RANK", "0"))


def local_rank() -> int:
    """This process's rank on its node, used to pick its GPU."""
    return int(os.environ.get("LOCAL_RANK", "0"))


def world_size() -> int:
    """Number of processes training together."""
    return torch_dist.get_world_size() if is_initialized() else 1


def is_main() -> bool:
    """Only the main process writes events, status and checkpoints."""
    return rank() == 0


def timeout_s() -> float:
    """Seconds a collective waits for a missing rank before it fails the run ($SIMSIAM_TUI_DIST_TIMEOUT_S)."""
    try:
        return max(1.0, float(os.environ.get(TIMEOUT_ENV, DEFAULT_TIMEOUT_S)))
    except ValueError:
        return DEFAULT_TIMEOUT_S


def maybe_init(device: torch.device) -> None:
    """Create the process group (nccl on CUDA, gloo on CPU) when launched by torchrun with more than one process."""
    if env_world_size() > 1 and not is_initialized():
        backend = "nccl" if device.type == "cuda" else "gloo"
        kwargs: dict[str, Any] = {"device_id": device} if device.type == "cuda" else {}
        torch_dist.init_process_group(backend=backend, timeout=timedelta(seconds=timeout_s()), **kwargs)


def local_batch(global_batch: int, world: int) -> int:
    """Per-rank batch of a global `data.batch_size`; a clear error when the world does not divide it."""
    if global_batch % world:
        raise UserFacingError(
            f"data.batch_size {global_batch} is the global batch and must divide by the {world} processes; "
            f"fix: --set data.batch_size={max(world, global_batch // world * world)}"
        )
    return global_batch // world


# -- BatchNorm over the global batch ------------------------------------------------------------------
class _SumOverRanks(torch.autograd.Function):
    """all_reduce(SUM) with its adjoint: the gradient of a sum over ranks is the sum of the ranks' gradients."""

    @staticmethod
    def forward(ctx: Any, t: torch.Tensor) -> torch.Tensor:
        out = t.clone()
        torch_dist.all_reduce(out)
        return out

    @staticmethod
    def backward(ctx: Any, grad: torch.Tensor) -> torch.Tensor:
        grad = grad.clone()
        torch_dist.all_reduce(grad)
        return grad


def sum_over_ranks(t: torch.Tensor) -> torch.Tensor:
    """Differentiable sum of `t` over all ranks."""
    return _SumOverRanks.apply(t)


def global_sum(t: torch.Tensor) -> torch.Tensor:
    """`t` summed over all ranks, differentiably (each rank's part gets the sum of every rank's gradient); identity alone."""
    return sum_over_ranks(t) if is_initialized() and world_size() > 1 else t


class _GatherRows(torch.autograd.Function):
    """all_gather of equal-sized row blocks with its adjoint: each rank's rows get the sum over ranks of their gradient."""

    @staticmethod
    def forward(ctx: Any, t: torch.Tensor) -> torch.Tensor:
        parts = [torch.empty_like(t) for _ in range(world_size())]
        torch_dist.all_gather(parts, t.contiguous())
        ctx.rows = (rank() * t.shape[0], (rank() + 1) * t.shape[0])
        return torch.cat(parts)

    @staticmethod
    def backward(ctx: Any, grad: torch.Tensor) -> torch.Tensor:
        grad = grad.contiguous().clone()
        torch_dist.all_reduce(grad)
        lo, hi = ctx.rows
        return grad[lo:hi]


def gather_with_grad(t: torch.Tensor) -> torch.Tensor:
    """Every rank's rows of `t` (N x ..., the same N on every rank) in rank order, differentiably; identity alone.

    A loss that every rank computes from the gathered batch (and DDP then averages) has the gradient of one
    process computing it once: the backward all-reduce hands each rank the gradient its rows get from every
    rank's loss (as lightly's GatherLayer and VICReg's FullGatherLayer do).
    """
    return _GatherRows.apply(t) if is_initialized() and world_size() > 1 else t


def row_offset(n: int) -> int:
    """Index of this rank's first row in a gathered batch of N rows per rank (0 alone)."""
    return rank() * n if is_initialized() else 0


class GlobalBatchNorm(nn.modules.batchnorm._BatchNorm):
    """BatchNorm whose training statistics cover every rank's batch, for backends nn.SyncBatchNorm refuses (CPU/gloo).

    Two differentiable all-reduces (sum, then the sum of squared deviations), so forward and
    backward equal one process normalizing the whole global batch, as SyncBN's do on GPUs.
    """

    def _check_input_dim(self, input: torch.Tensor) -> None:
        if input.dim() < 2:
            raise ValueError(f"expected at least 2D input (got {input.dim()}D input)")

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not (self.training and is_initialized() and world_size() > 1):
            return super().forward(x)
        dims = [0, *range(2, x.dim())]
        shape = [1, -1] + [1] * (x.dim() - 2)
        xf = x.float() if x.dtype in (torch.float16, torch.bfloat16) else x  # fp32 statistics under autocast
        count = torch.tensor([xf.numel() // xf.shape[1]], dtype=xf.dtype, device=xf.device)
        total = sum_over_ranks(torch.cat([xf.sum(dims), count]))  # C + 1
        n = total[-1]
        mean = total[:-1] / n  # C
        centered = xf - mean.view(shape)
        var = sum_over_ranks(centered.pow(2).sum(dims)) / n  # C, biased (normalization)
        y = centered * torch.rsqrt(var + self.eps).view(shape)
        if self.affine:
            y = y * self.weight.view(shape) + self.bias.view(shape)
        if self.track_running_stats and self.running_mean is not None and self.running_var is not None:
            with torch.no_grad():
                tracked = self.num_batches_tracked
                assert tracked is not None  # track_running_stats holds it
                tracked += 1
                m = 1.0 / float(tracked) if self.momentum is None else self.momentum
                unbiased = var.detach() * n / (n - 1).clamp(min=1)
                self.running_mean.mul_(1 - m).add_(mean.detach().to(self.running_mean.dtype), alpha=m)
                self.running_var.mul_(1 - m).add_(unbiased.to(self.running_var.dtype), alpha=m)
        return y.to(x.dtype)


def convert_global_batchnorm(module: nn.Module) -> nn.Module:
    """Replace every BatchNorm{1,2,3}d by GlobalBatchNorm sharing its parameters and buffers (same state_dict keys)."""
    out = module
    if isinstance(module, nn.modules.batchnorm._BatchNorm) and not isinstance(module, GlobalBatchNorm):
        out = GlobalBatchNorm(module.num_features, module.eps, module.momentum, module.affine, module.track_running_stats)
        if module.affine:
            with torch.no_grad():
                out.weight = module.weight
                out.bias = module.bias
        out.running_mean = module.running_mean
        out.running_var = module.running_var
        out.num_batches_tracked = module.num_batches_tracked
        out.training = module.training
    for name, child in module.named_children():
        out.add_module(name, convert_global_batchnorm(child))
    return out


def sync_batchnorm(module: nn.Module, device: torch.device) -> nn.Module:
    """nn.SyncBatchNorm on GPUs; GlobalBatchNorm on the CPU, where torch's SyncBN raises."""
    if device.type == "cuda":
        return nn.SyncBatchNorm.convert_sync_batchnorm(module)
    return convert_global_batchnorm(module)


def wrap_ddp(module: nn.Module, device: torch.device) -> nn.Module:
    """SyncBN (converted in place) + DistributedDataParallel; parameters start as rank 0's.

    Buffers are not re-broadcast each step: BN statistics are global, and queues and banks are
    updated from gathered keys, so every rank's buffers stay equal by construction.
    """
    from torch.nn.parallel import DistributedDataParallel

    module = sync_batchnorm(module, device)
    ids = [device.index] if device.type == "cuda" else None
    # torch 2.14 renamed broadcast_buffers (now deprecated) to forward_sync_buffers; older releases know only the first.
    named = inspect.signature(DistributedDataParallel.__init__).parameters
    no_sync: dict[str, Any] = (
        {"forward_sync_buffers": False} if "forward_sync_buffers" in named else {"broadcast_buffers": False}
    )
    return DistributedDataParallel(module, device_ids=ids, **no_sync)


# -- data ------------------------------------------------------------------------------------------
def sharded_views(augment: Any, images: torch.Tensor, rank_: int, world: int) -> tuple[torch.Tensor, torch.Tensor]:
    """This rank's (x1, x2) with exactly the views one process would make of the global batch.

    Every rank draws the random parameters of all 2 x global views from the same generator (a few
    numbers per image) and applies its own rows, so augmentation and RNG state match the
    single-process run. images: the local uint8 batch, N x 3 x H x W, or N x 2 x 3 x S x S pre-cropped.
    """
    if world == 1:
        return augment(images)
    n = images.shape[0]
    big = n * world
    rows = torch.arange(rank_ * n, (rank_ + 1) * n, device=images.device)
    rows = torch.cat([rows, rows + big])  # view 1 rows, then view 2 rows of the global 2B
    if images.dim() == 5:
        _, _, c, hgt, wid = images.shape
        both = images.transpose(0, 1).reshape(2 * n, c, hgt, wid)
        params = augment.sample(2 * big, hgt, wid, images.device, crop=False)
    else:
        _, _, hgt, wid = images.shape
        both = torch.cat([images, images])
        params = augment.sample(2 * big, hgt, wid, images.device)
    params = dataclasses.replace(
        params,
        **{
            f.name: getattr(params, f.name)[rows]
            for f in dataclasses.fields(params)
            if isinstance(getattr(params, f.name), torch.Tensor)
        },
    )
    x = augment.apply(both, params)
    return x[:n], x[n:]


# -- agreement and gathers ---------------------------------------------------------------------------
def agree(*flags: bool | torch.Tensor, device: torch.device) -> list[bool]:
    """Each flag OR-ed over all ranks (one tiny all-reduce), so every rank takes the same branch."""
    values = [
        f.float().reshape(()).to(device) if isinstance(f, torch.Tensor) else torch.full((), float(f), device=device)
        for f in flags
    ]
    return [bool(v) for v in all_reduce_max(torch.stack(values)).tolist()]


def shard_range(n: int, rank_: int | None = None, world: int | None = None) -> tuple[int, int]:
    """[lo, hi) of this rank's contiguous shard of n items; sizes differ by at most one, in rank order."""
    r = rank() if rank_ is None else rank_
    w = world_size() if world is None else world
    return r * n // w, (r + 1) * n // w


@torch.no_grad()
def gather_rows(t: torch.Tensor) -> torch.Tensor:
    """Concatenate every rank's rows (N_r x ...; N_r may differ, even be 0) in rank order; identity single-process."""
    if not (is_initialized() and world_size() > 1):
        return t
    w = world_size()
    head = torch.tensor([t.shape[0]], dtype=torch.long, device=t.device)
    sizes = [torch.zeros_like(head) for _ in range(w)]
    torch_dist.all_gather(sizes, head)
    counts = [int(s) for s in sizes]
    pad = max(counts)
    padded = torch.zeros((pad, *t.shape[1:]), dtype=t.dtype, device=t.device)
    padded[: t.shape[0]] = t
    parts = [torch.empty_like(padded) for _ in range(w)]
    torch_dist.all_gather(parts, padded.contiguous())
    return torch.cat([p[:c] for p, c in zip(parts, counts, strict=True)])


def barrier() -> None:
    """Wait for every process (no-op single-process)."""
    if is_initialized():
        torch_dist.barrier()


def all_reduce_mean(value: torch.Tensor) -> torch.Tensor:
    """Average a tensor over processes (identity single-process)."""
    if is_initialized() and world_size() > 1:
        value = value.clone()
        torch_dist.all_reduce(value)
        value /= world_size()
    return value


def all_reduce_max(value: torch.Tensor) -> torch.Tensor:
    """The elementwise maximum over processes (identity single-process); OR for 0/1 flags."""
    if is_initialized() and world_size() > 1:
        value = value.clone()
        torch_dist.all_reduce(value, op=torch_dist.ReduceOp.MAX)
    return value


def shutdown() -> None:
    """Destroy the process group if one was created, once every rank has reached the end.

    The barrier keeps a rank from tearing down its gloo pairs while a peer is still in its last
    collective; without it a rank could abort at exit ("terminate called without an active exception").
    """
    if is_initialized():
        try:
            torch_dist.barrier()
        finally:
            torch_dist.destroy_process_group()


def all_pids() -> list[int]:
    """Every rank's pid, in rank order (so a launcher can kill them all: torchrun gives each its own session)."""
    if not (is_initialized() and world_size() > 1):
        return [os.getpid()]
    out: list[Any] = [None] * world_size()
    torch_dist.all_gather_object(out, os.getpid())
    return [int(p) for p in out]
