"""Process-group helpers: single process by default, torchrun-ready (rank 0 writes events and checkpoints)."""

from __future__ import annotations

import os

import torch
import torch.distributed as torch_dist


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


def maybe_init(device: torch.device) -> None:
    """Create the process group when launched by torchrun with more than one process."""
    if env_world_size() > 1 and not is_initialized():
        backend = "nccl" if device.type == "cuda" else "gloo"
        torch_dist.init_process_group(backend=backend)


def wrap_ddp(module: torch.nn.Module, device: torch.device) -> torch.nn.Module:
    """SyncBN + DistributedDataParallel for multi-process training (the paper uses SyncBN)."""
    from torch.nn.parallel import DistributedDataParallel

    module = torch.nn.SyncBatchNorm.convert_sync_batchnorm(module)
    ids = [device.index] if device.type == "cuda" else None
    return DistributedDataParallel(module, device_ids=ids)


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


def shutdown() -> None:
    """Destroy the process group if one was created."""
    if is_initialized():
        torch_dist.destroy_process_group()
