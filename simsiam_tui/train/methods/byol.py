"""BYOL: a target network (encoder + projector) that is the EMA of the online one, an online predictor, no negatives."""

from __future__ import annotations

from typing import TYPE_CHECKING

import torch
from torch import nn

from simsiam_tui.config.methods.byol import BYOLParams
from simsiam_tui.train.backbones import build_backbone, feature_dim
from simsiam_tui.train.contrastive import cosine_momentum, ema_update, normalized_mse
from simsiam_tui.train.heads import prediction_mlp, projection_mlp
from simsiam_tui.train.methods import register
from simsiam_tui.train.methods.base import Batch, Method, MethodOutput
from simsiam_tui.train.methods.common import frozen_copy

if TYPE_CHECKING:
    from simsiam_tui.config.schema import RunConfig


class BYOL(Method):
    """Online: z = projector(backbone(x)), p = predictor(z). Target: t = projector_T(backbone_T(x)), no gradient.

    L = (||p1 - t2||^2 + ||p2 - t1||^2) / 2 on l2-normalized vectors, i.e. 2 - 2cos per pair
    (BYOL sums the two terms; halving them keeps the gradient scale of SimSiam's
    symmetrized loss, so the scale's lr serves both). After each optimizer step the target
    moves as theta_T <- m theta_T + (1 - m) theta, with m = 1 - (1 - m_base)(cos(pi k / K) + 1) / 2
    at step k (0-based) of K: m_base at the first step, 1 at the end (`momentum_schedule = "constant"`: m_base
    throughout). With m = 0 the target is the online network itself, without gradient: SimSiam's stop-gradient,
    and the loss is 2 + 2 x SimSiam's (its gradient twice SimSiam's, tests/train/test_seed_claims.py).
    """

    def __init__(
        self,
        backbone: nn.Module,
        dim: int = 2048,
        pred_dim: int = 512,
        proj_layers: int = 2,
        base_momentum: float = 0.996,
        momentum_schedule: str = "cosine",
    ) -> None:
        super().__init__()
        self.backbone = backbone
        self.projector = projection_mlp(feature_dim(backbone), dim, proj_layers)
        self.predictor = prediction_mlp(dim, pred_dim)
        self.target_backbone = frozen_copy(self.backbone)
        self.target_projector = frozen_copy(self.projector)
        self.out_dim = dim
        if momentum_schedule not in ("cosine", "constant"):
            raise ValueError(f"unknown momentum_schedule {momentum_schedule!r}")
        self.base_momentum = base_momentum
        self.momentum_schedule = momentum_schedule
        self.last_momentum = base_momentum  # the m of the latest update, logged (a function of the step)

    def online_params(self) -> list[nn.Parameter]:
        """theta (encoder + projector), in the order `target_params` lists theta_T."""
        return [*self.backbone.parameters(), *self.projector.parameters()]

    def target_params(self) -> list[nn.Parameter]:
        """theta_T."""
        return [*self.target_backbone.parameters(), *self.target_projector.parameters()]

    def forward(self, batch: Batch) -> MethodOutput:
        x1, x2 = batch.pair  # N x C x H x W each
        z1 = self.projector(self.backbone(x1))  # N x d
        z2 = self.projector(self.backbone(x2))
        p1, p2 = self.predictor(z1), self.predictor(z2)  # N x d
        with torch.no_grad():
            t1 = self.target_projector(self.target_backbone(x1))  # N x d
            t2 = self.target_projector(self.target_backbone(x2))
        loss = 0.5 * (normalized_mse(p1, t2) + normalized_mse(p2, t1))
        return MethodOutput(loss=loss, z=z1.detach(), extras={"ema_momentum": self.last_momentum})

    @torch.no_grad()
    def after_step(self, step: int, total_steps: int) -> None:
        """theta_T <- m theta_T + (1 - m) theta, m the cosine-scheduled m of step `step` (or base_momentum, constant)."""
        m = self.base_momentum
        if self.momentum_schedule == "cosine":
            m = cosine_momentum(self.base_momentum, step, total_steps)
        self.last_momentum = m
        ema_update(self.target_params(), self.online_params(), m)


@register("byol")
def build_byol(cfg: RunConfig) -> BYOL:
    """Build BYOL from the config's model section and [method.byol] (base_momentum is the base m)."""
    model, m = cfg.model, cfg.method.params(BYOLParams)
    return BYOL(
        build_backbone(model.backbone, model.width),
        dim=model.dim,
        pred_dim=model.pred_dim,
        proj_layers=model.proj_layers,
        base_momentum=m.base_momentum,
        momentum_schedule=m.momentum_schedule,
    )
