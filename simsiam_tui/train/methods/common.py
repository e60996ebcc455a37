"""Helpers that several methods share: frozen copies for target / key networks, fp32 statistics."""

from __future__ import annotations

import copy

import torch
from torch import nn


def frozen_copy(module: nn.Module) -> nn.Module:
    """A deep copy with no gradients: the target / key network, moved only by EMA updates.

    Its BN layers keep training-mode batch statistics; their running buffers follow its own
    forward passes and are not averaged (as in MoCo and BYOL).
    """
    twin = copy.deepcopy(module)
    for p in twin.parameters():
        p.requires_grad_(False)
    return twin


def at_least_fp32(t: torch.Tensor) -> torch.Tensor:
    """`t` in fp32 when it is a half type (bf16/fp16 under autocast); fp32 and fp64 stay as they are."""
    return t.float() if t.dtype in (torch.float16, torch.bfloat16) else t
