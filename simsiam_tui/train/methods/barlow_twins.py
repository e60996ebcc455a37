"""Barlow Twins (Zbontar et al., ICML 2021): the cross-correlation of the two views' embeddings pushed to identity."""

from __future__ import annotations

from typing import TYPE_CHECKING

import torch
from torch import nn

from simsiam_tui.config.methods.barlow_twins import BarlowTwinsParams
from simsiam_tui.train import dist
from simsiam_tui.train.backbones import build_backbone, feature_dim
from simsiam_tui.train.heads import expander_mlp
from simsiam_tui.train.methods import register
from simsiam_tui.train.methods.base import Batch, Method, MethodOutput
from simsiam_tui.train.methods.common import at_least_fp32

if TYPE_CHECKING:
    from simsiam_tui.config.schema import RunConfig

EPS = 1e-5  # as BatchNorm's: the standardization of each dimension over the batch


def standardize(z: torch.Tensor) -> torch.Tensor:
    """Each dimension centred and scaled to unit variance over the global batch (BatchNorm without affine, as SyncBN).

    Under DDP (N rows on every rank) the sums behind the mean and the biased variance are all-reduced,
    differentiably, so every rank standardizes with the statistics one process would compute over the whole batch.
    """
    if dist.world_size() == 1:
        return (z - z.mean(dim=0)) / torch.sqrt(z.var(dim=0, unbiased=False) + EPS)
    n = z.shape[0] * dist.world_size()  # B
    mean = dist.global_sum(z.sum(dim=0)) / n  # d
    zc = z - mean  # N x d
    var = dist.global_sum(zc.pow(2).sum(dim=0)) / n  # d, biased (as BatchNorm normalizes)
    return zc / torch.sqrt(var + EPS)


def cross_correlation(z1: torch.Tensor, z2: torch.Tensor) -> torch.Tensor:
    """C_ij = sum_b a_bi b_bj / (sqrt(sum_b a_bi^2) sqrt(sum_b b_bj^2)), a and b centred over the global batch (d x d).

    As the official code: C = bn(z1)^T bn(z2) / B, summed over ranks with an all_reduce. Ours is differentiable (as
    torch.distributed.nn.all_reduce), so the gradient equals one process's; the official in-place all_reduce passes
    no gradient between ranks, which leaves DDP with 1/world of it (lightly-ai/lightly#1977).
    """
    n = z1.shape[0] * dist.world_size()  # B (N rows on every rank)
    return dist.global_sum(standardize(z1).t() @ standardize(z2)) / n  # d x d


def barlow_twins_loss(z1: torch.Tensor, z2: torch.Tensor, lam: float = 5e-3) -> torch.Tensor:
    """L = sum_i (1 - C_ii)^2 + lam sum_i sum_{j != i} C_ij^2 (invariance + redundancy reduction)."""
    c = cross_correlation(at_least_fp32(z1), at_least_fp32(z2))  # d x d, fp32 under autocast
    on_diag = (torch.diagonal(c) - 1).pow(2).sum()
    off_diag = c.pow(2).sum() - torch.diagonal(c).pow(2).sum()
    return on_diag + lam * off_diag


class BarlowTwins(Method):
    """z = projector(backbone(x)) for both views, one network and no stop-gradient; L = barlow_twins_loss(z1, z2).

    `lam` defaults to the paper's 5e-3 (Zbontar et al. 2021, implementation details); the official main.py's
    --lambd default is 0.0051 (set method.barlow_twins.lambd=0.0051 for it).
    """

    def __init__(self, backbone: nn.Module, dim: int = 8192, layers: int = 3, lam: float = 5e-3) -> None:
        super().__init__()
        self.backbone = backbone
        self.projector = expander_mlp(feature_dim(backbone), dim, layers)
        self.out_dim = dim
        self.lam = lam

    def forward(self, batch: Batch) -> MethodOutput:
        x1, x2 = batch.pair  # N x C x H x W each
        z1 = self.projector(self.backbone(x1))  # N x d
        z2 = self.projector(self.backbone(x2))  # N x d
        loss = barlow_twins_loss(z1, z2, self.lam)
        # the monitors see what the loss sees: the loss ignores each dimension's scale, and a few large raw
        # dimensions would make the l2-normalized raw z look low-rank while C is healthy
        return MethodOutput(loss=loss, z=standardize(z1.detach().float()))


@register("barlow_twins")
def build_barlow_twins(cfg: RunConfig) -> BarlowTwins:
    """Build Barlow Twins from the config: model.dim and model.proj_layers shape the projector."""
    model = cfg.model
    return BarlowTwins(
        build_backbone(model.backbone, model.width), dim=model.dim, layers=model.proj_layers, lam=cfg.method.params(BarlowTwinsParams).lambd
    )
