"""The Method interface every self-supervised method implements: a Batch in, a MethodOutput out."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import torch
from torch import nn


@dataclass
class Batch:
    """One training step's input, as the loop builds it: the augmented views and the images' train-set indices.

    Every method here reads two views; a multi-crop method reads more from the same object.
    """

    views: list[torch.Tensor]  # V views, N x C x H x W each (V = 2 here)
    indices: torch.Tensor  # N train-set indices of the batch's images (memory banks key on them)

    @property
    def pair(self) -> tuple[torch.Tensor, torch.Tensor]:
        """(x1, x2): the two views of a two-view method; more views are an error, never dropped silently."""
        if len(self.views) != 2:
            raise ValueError(f"this method takes 2 views, the batch has {len(self.views)}")
        return self.views[0], self.views[1]


@dataclass
class MethodOutput:
    """What one training forward pass returns: the scalar loss and the online projector output."""

    loss: torch.Tensor  # scalar, differentiable
    z: torch.Tensor  # N x d online projector output of view 1 (detached), for the monitors
    extras: dict[str, float | torch.Tensor] = field(default_factory=dict)  # scalars to log (tensors: read when logged)


class Method(nn.Module):
    """A self-supervised method: a Batch of views in, a loss out.

    Subclasses set `self.backbone` (the encoder whose features the kNN monitor evaluates)
    and `self.out_dim` (d of z). Every piece of state that must survive a resume (momentum
    encoders, queues, memory banks) lives in parameters or registered buffers, so
    `state_dict()` checkpoints it.
    """

    backbone: nn.Module
    out_dim: int

    def forward(self, batch: Batch) -> MethodOutput:
        raise NotImplementedError

    @torch.no_grad()
    def features(self, x: torch.Tensor) -> torch.Tensor:
        """Backbone features used by the kNN monitor (N x C)."""
        return self.backbone(x)

    def param_groups(self) -> list[dict[str, Any]]:
        """Optimizer parameter groups; a group with `fix_lr=True` keeps its lr when fix_pred_lr is on.

        Frozen parameters (requires_grad False) must not appear in any group.
        """
        params = [p for p in self.parameters() if p.requires_grad]
        return [{"name": "all", "params": params, "fix_lr": False}]

    def bind_data(self, num_images: int) -> None:
        """Hook run once before training with the train set's size (a memory bank sizes itself here)."""

    def after_step(self, step: int, total_steps: int) -> None:
        """Hook run after every optimizer step (momentum updates of target encoders)."""
