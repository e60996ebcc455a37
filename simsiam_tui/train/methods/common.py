"""Helpers that several methods share: frozen copies for target / key networks."""

from __future__ import annotations

import copy

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
