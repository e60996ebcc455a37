"""SimSiam and its ablations: stop-grad on/off or at the encoder, predictor mlp|none|fixed-random, loss forms."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import torch
from torch import nn

from simsiam_tui.config.methods.simsiam import SimSiamParams
from simsiam_tui.train.backbones import build_backbone, feature_dim
from simsiam_tui.train.heads import prediction_mlp, projection_mlp
from simsiam_tui.train.losses import SIMILARITIES, asymmetric_loss, symmetric_loss
from simsiam_tui.train.methods import register
from simsiam_tui.train.methods.base import Batch, Method, MethodOutput

if TYPE_CHECKING:
    from simsiam_tui.config.schema import RunConfig


def freeze(module: nn.Module) -> nn.Module:
    """Freeze a module at its current (random) values: no gradients, BN running stats never move."""
    for p in module.parameters():
        p.requires_grad_(False)
    for m in module.modules():
        if isinstance(m, nn.modules.batchnorm._BatchNorm):
            m.momentum = 0.0  # still normalizes with batch statistics in train mode
    return module


class SimSiam(Method):
    """f = projector(backbone(x)), h = predictor; L = D(p1, sg z2)/2 + D(p2, sg z1)/2.

    Switches: `stop_grad` (sg on targets), `stop_grad_at` ("output": sg(z), the paper;
    "encoder": the target branch is sg(backbone(x)) through a trainable MLP of its own;
    "projector": the target is P2(sg(f(x))), f = backbone + projector, P2 a trainable MLP shaped
    like the predictor P1, so P1 f(x1) is matched to P2 sg(f(x2))),
    `predictor` (mlp | none | fixed-random), `symmetric`, `similarity` (cosine | cross-entropy);
    `loss_scale` multiplies L (the seed's "no stop-gradient at half scale").
    """

    def __init__(
        self,
        backbone: nn.Module,
        dim: int = 2048,
        pred_dim: int = 512,
        proj_layers: int = 2,
        stop_grad: bool = True,
        stop_grad_at: str = "output",
        predictor: str = "mlp",
        symmetric: bool = True,
        similarity: str = "cosine",
        loss_scale: float = 1.0,
    ) -> None:
        super().__init__()
        if predictor not in ("mlp", "none", "fixed-random"):
            raise ValueError(f"unknown predictor {predictor!r}")
        if stop_grad_at not in ("output", "encoder", "projector"):
            raise ValueError(f"unknown stop_grad_at {stop_grad_at!r}")
        self.backbone = backbone
        feat_dim = feature_dim(backbone)
        self.projector = projection_mlp(feat_dim, dim, proj_layers)
        self.predictor: nn.Module
        if predictor == "none":
            self.predictor = nn.Identity()
        else:
            self.predictor = prediction_mlp(dim, pred_dim)
            if predictor == "fixed-random":
                freeze(self.predictor)
        # the target branch's own trainable MLP: after sg(backbone(x)) (sg-encoder-mlp, projector-shaped)
        # or after sg(f(x)) (sg-after-encoder-two-mlps, P2 shaped like the predictor P1)
        self.target_mlp: nn.Module | None = None
        if stop_grad_at == "encoder":
            self.target_mlp = projection_mlp(feat_dim, dim, proj_layers)
        elif stop_grad_at == "projector":
            self.target_mlp = prediction_mlp(dim, pred_dim)
        self.out_dim = dim
        self.stop_grad = stop_grad
        self.stop_grad_at = stop_grad_at
        self.predictor_kind = predictor
        self.symmetric = symmetric
        self.similarity = SIMILARITIES[similarity]
        self.loss_scale = loss_scale

    def _sg(self, t: torch.Tensor) -> torch.Tensor:
        return t.detach() if self.stop_grad else t

    def forward(self, batch: Batch) -> MethodOutput:
        x1, x2 = batch.pair  # N x C x H x W each
        h1, h2 = self.backbone(x1), self.backbone(x2)  # N x C
        z1, z2 = self.projector(h1), self.projector(h2)  # N x d
        p1 = self.predictor(z1)  # N x d
        if self.stop_grad_at == "projector":  # P2 sg(f(x)): the stop after the whole encoder
            assert self.target_mlp is not None
            t2 = self.target_mlp(self._sg(z2))  # N x d
            t1 = self.target_mlp(self._sg(z1)) if self.symmetric else None
        elif self.target_mlp is not None:  # sg-encoder-mlp: targets from sg(h) through their own MLP
            t2 = self.target_mlp(self._sg(h2))  # N x d
            t1 = self.target_mlp(self._sg(h1)) if self.symmetric else None
        else:  # the paper: targets are sg(z)
            t1, t2 = self._sg(z1), self._sg(z2)
        if self.symmetric:
            p2 = self.predictor(z2)
            assert t1 is not None
            loss = symmetric_loss(self.similarity, p1, p2, t1, t2)
        else:
            loss = asymmetric_loss(self.similarity, p1, t2)
        if self.loss_scale != 1.0:
            loss = self.loss_scale * loss
        return MethodOutput(loss=loss, z=z1.detach())

    def param_groups(self) -> list[dict[str, Any]]:
        """Encoder (+ target MLP) in one group, the trainable predictor in a `fix_lr` group."""
        heads = [self.predictor]
        if self.stop_grad_at == "projector" and self.target_mlp is not None:
            heads.append(self.target_mlp)  # P2 mirrors the predictor P1: the same fixed lr
        pred_ids = {id(p) for h in heads for p in h.parameters()}
        rest = [p for p in self.parameters() if p.requires_grad and id(p) not in pred_ids]
        groups: list[dict[str, Any]] = [{"name": "encoder", "params": rest, "fix_lr": False}]
        pred = [p for h in heads for p in h.parameters() if p.requires_grad]
        if pred:
            groups.append({"name": "predictor", "params": pred, "fix_lr": True})
        return groups


@register("simsiam")
def build_simsiam(cfg: RunConfig) -> SimSiam:
    """Build SimSiam (or one of its ablations) from the config's method and model sections."""
    m, model = cfg.method, cfg.model
    return SimSiam(
        build_backbone(model.backbone, model.width),
        dim=model.dim,
        pred_dim=model.pred_dim,
        proj_layers=model.proj_layers,
        stop_grad=m.stop_grad,
        stop_grad_at=m.stop_grad_at,
        predictor=m.predictor,
        symmetric=m.symmetric,
        similarity=m.similarity,
        loss_scale=cfg.method.params(SimSiamParams).loss_scale,
    )
