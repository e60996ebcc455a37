"""VICReg (Bardes, Ponce & LeCun, ICLR 2022): variance, invariance and covariance terms, no negatives, no asymmetry."""

from __future__ import annotations

from typing import TYPE_CHECKING

import torch
import torch.nn.functional as F
from torch import nn

from simsiam_tui.config.methods.vicreg import VICRegParams
from simsiam_tui.train.backbones import build_backbone, feature_dim
from simsiam_tui.train.dist import gather_with_grad
from simsiam_tui.train.heads import expander_mlp
from simsiam_tui.train.methods import register
from simsiam_tui.train.methods.base import Batch, Method, MethodOutput
from simsiam_tui.train.methods.common import at_least_fp32

if TYPE_CHECKING:
    from simsiam_tui.config.schema import RunConfig

GAMMA = 1.0  # target std of every dimension
EPS = 1e-4  # inside the square root of the variance


def _off_diagonal(m: torch.Tensor) -> torch.Tensor:
    """The d(d-1) off-diagonal entries of a d x d matrix, flattened."""
    d = m.shape[0]
    return m.flatten()[:-1].view(d - 1, d + 1)[:, 1:].flatten()


def variance(z: torch.Tensor) -> torch.Tensor:
    """v(Z) = mean_j max(0, gamma - sqrt(Var(z^j) + eps)): a hinge on each dimension's std over the batch (1/(n-1))."""
    std = torch.sqrt(z.var(dim=0) + EPS)  # d
    return F.relu(GAMMA - std).mean()


def covariance(z: torch.Tensor) -> torch.Tensor:
    """c(Z) = sum_{i != j} C(Z)_ij^2 / d, C the d x d covariance over the batch (1/(n-1))."""
    n, d = z.shape
    zc = z - z.mean(dim=0)  # N x d
    cov = zc.t() @ zc / (n - 1)  # d x d
    return _off_diagonal(cov).pow(2).sum() / d


def vicreg_loss(
    z1: torch.Tensor,
    z2: torch.Tensor,
    lam: float = 25.0,
    mu: float = 25.0,
    nu: float = 1.0,
    std_branches: str = "mean",
) -> torch.Tensor:
    """l = lam s(Z, Z') + mu [v(Z) + v(Z')] / 2 + nu [c(Z) + c(Z')], the official main_vicreg.py's loss.

    std_branches "sum": mu [v(Z) + v(Z')], the paper's eq. 6 as printed (twice the official variance term).
    s is the mean squared error over all n x d entries (`mse_loss`). Under DDP, as the official code: s over
    the local batch (DDP averages it), v and c over the embeddings gathered from every rank.
    """
    if std_branches not in ("mean", "sum"):
        raise ValueError(f"unknown std_branches {std_branches!r}")
    z1, z2 = at_least_fp32(z1), at_least_fp32(z2)  # N x d each; the statistics in fp32 under autocast
    invariance = F.mse_loss(z1, z2)
    g1, g2 = gather_with_grad(z1), gather_with_grad(z2)  # B x d each, B the global batch
    var = variance(g1) + variance(g2)
    if std_branches == "mean":
        var = var / 2
    return lam * invariance + mu * var + nu * (covariance(g1) + covariance(g2))


class VICReg(Method):
    """z = expander(backbone(x)) for both views, one network and no stop-gradient; L = vicreg_loss(z1, z2)."""

    def __init__(
        self,
        backbone: nn.Module,
        dim: int = 8192,
        layers: int = 3,
        lam: float = 25.0,
        mu: float = 25.0,
        nu: float = 1.0,
        std_branches: str = "mean",
    ) -> None:
        super().__init__()
        self.backbone = backbone
        self.projector = expander_mlp(feature_dim(backbone), dim, layers)
        self.out_dim = dim
        self.lam, self.mu, self.nu, self.std_branches = lam, mu, nu, std_branches

    def forward(self, batch: Batch) -> MethodOutput:
        x1, x2 = batch.pair  # N x C x H x W each
        z1 = self.projector(self.backbone(x1))  # N x d
        z2 = self.projector(self.backbone(x2))  # N x d
        loss = vicreg_loss(z1, z2, self.lam, self.mu, self.nu, self.std_branches)
        return MethodOutput(loss=loss, z=z1.detach())


@register("vicreg")
def build_vicreg(cfg: RunConfig) -> VICReg:
    """Build VICReg from the config: model.dim and model.proj_layers shape the expander, [method.vicreg] weighs."""
    m, model = cfg.method.params(VICRegParams), cfg.model
    return VICReg(
        build_backbone(model.backbone, model.width),
        dim=model.dim,
        layers=model.proj_layers,
        lam=m.sim_coeff,
        mu=m.std_coeff,
        nu=m.cov_coeff,
        std_branches=m.std_branches,
    )
