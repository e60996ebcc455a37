"""VICReg (Bardes, Ponce & LeCun, ICLR 2022): variance, invariance and covariance terms, no negatives, no asymmetry."""

from __future__ import annotations

from typing import TYPE_CHECKING

import torch
import torch.nn.functional as F
from torch import nn

from simsiam_tui.config.methods.vicreg import VICRegParams
from simsiam_tui.train.backbones import build_backbone, feature_dim
from simsiam_tui.train.heads import expander_mlp
from simsiam_tui.train.methods import register
from simsiam_tui.train.methods.base import Batch, Method, MethodOutput

if TYPE_CHECKING:
    from simsiam_tui.config.schema import RunConfig

GAMMA = 1.0  # target std of every dimension
EPS = 1e-4  # inside the square root of the variance


def _off_diagonal(m: torch.Tensor) -> torch.Tensor:
    """The d(d-1) off-diagonal entries of a d x d matrix, flattened."""
    d = m.shape[0]
    return m.flatten()[:-1].view(d - 1, d + 1)[:, 1:].flatten()


def variance(z: torch.Tensor) -> torch.Tensor:
    """v(Z) = mean_j max(0, gamma - sqrt(Var(z^j) + eps)): a hinge on each dimension's std over the batch."""
    std = torch.sqrt(z.var(dim=0) + EPS)  # d
    return F.relu(GAMMA - std).mean()


def covariance(z: torch.Tensor) -> torch.Tensor:
    """c(Z) = sum_{i != j} C(Z)_ij^2 / d, C the d x d covariance over the batch (1/(n-1))."""
    n, d = z.shape
    zc = z - z.mean(dim=0)  # N x d
    cov = zc.t() @ zc / (n - 1)  # d x d
    return _off_diagonal(cov).pow(2).sum() / d


def vicreg_loss(
    z1: torch.Tensor, z2: torch.Tensor, lam: float = 25.0, mu: float = 25.0, nu: float = 1.0
) -> torch.Tensor:
    """l = lam s(Z, Z') + mu [v(Z) + v(Z')] + nu [c(Z) + c(Z')] (the paper's eq. 6).

    s is the mean squared error over all n x d entries, as in the paper's Algorithm 1 (`mse_loss`).
    """
    z1, z2 = z1.float(), z2.float()  # N x d each; the statistics in fp32 under autocast
    invariance = F.mse_loss(z1, z2)
    return lam * invariance + mu * (variance(z1) + variance(z2)) + nu * (covariance(z1) + covariance(z2))


class VICReg(Method):
    """z = expander(backbone(x)) for both views, one network and no stop-gradient; L = vicreg_loss(z1, z2).

    Under DDP the statistics are over the local batch (the paper gathers the embeddings of every GPU).
    """

    def __init__(
        self, backbone: nn.Module, dim: int = 8192, layers: int = 3, lam: float = 25.0, mu: float = 25.0, nu: float = 1.0
    ) -> None:
        super().__init__()
        self.backbone = backbone
        self.projector = expander_mlp(feature_dim(backbone), dim, layers)
        self.out_dim = dim
        self.lam, self.mu, self.nu = lam, mu, nu

    def forward(self, batch: Batch) -> MethodOutput:
        x1, x2 = batch.pair  # N x C x H x W each
        z1 = self.projector(self.backbone(x1))  # N x d
        z2 = self.projector(self.backbone(x2))  # N x d
        loss = vicreg_loss(z1, z2, self.lam, self.mu, self.nu)
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
    )
