"""SimCLR (end-to-end): one encoder for both views, NT-Xent over the 2N - 2 in-batch negatives."""

from __future__ import annotations

from typing import TYPE_CHECKING

from torch import nn

from simsiam_tui.config.methods.simclr import SimCLRParams
from simsiam_tui.train.backbones import build_backbone, feature_dim
from simsiam_tui.train.contrastive import nt_xent
from simsiam_tui.train.heads import projection_mlp
from simsiam_tui.train.methods import register
from simsiam_tui.train.methods.base import Batch, Method, MethodOutput

if TYPE_CHECKING:
    from simsiam_tui.config.schema import RunConfig


class SimCLR(Method):
    """z = projector(backbone(x)) for both views; L = NT-Xent(z1, z2; t).

    Negatives are the other images of the batch, so the memory cost grows with the batch:
    the known limit of the end-to-end design. Under DDP the negatives are gathered from every
    rank with their gradient (SimCLR's cross-replica concat) and BN is SyncBN, as SimCLR's
    global BN: a DDP run equals one process with the same global batch.
    """

    def __init__(self, backbone: nn.Module, dim: int = 2048, proj_layers: int = 2, temperature: float = 0.5) -> None:
        super().__init__()
        self.backbone = backbone
        self.projector = projection_mlp(feature_dim(backbone), dim, proj_layers)
        self.out_dim = dim
        self.temperature = temperature

    def forward(self, batch: Batch) -> MethodOutput:
        x1, x2 = batch.pair  # N x C x H x W each
        z1 = self.projector(self.backbone(x1))  # N x d
        z2 = self.projector(self.backbone(x2))  # N x d
        loss = nt_xent(z1, z2, self.temperature)
        return MethodOutput(loss=loss, z=z1.detach())


@register("simclr")
def build_simclr(cfg: RunConfig) -> SimCLR:
    """Build SimCLR from the config's model section and [method.simclr]."""
    model = cfg.model
    return SimCLR(
        build_backbone(model.backbone, model.width),
        dim=model.dim,
        proj_layers=model.proj_layers,
        temperature=cfg.method.params(SimCLRParams).temperature,
    )
