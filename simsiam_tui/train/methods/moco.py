"""MoCo v2 (momentum encoder): a key encoder updated as an EMA of the query encoder, and a FIFO queue of negatives."""

from __future__ import annotations

from typing import TYPE_CHECKING

import torch
import torch.nn.functional as F
from torch import nn

from simsiam_tui.config.methods.moco import MoCoParams
from simsiam_tui.train.backbones import build_backbone, feature_dim
from simsiam_tui.train.contrastive import ema_update, gather_all, info_nce
from simsiam_tui.train.heads import projection_mlp
from simsiam_tui.train.methods import register
from simsiam_tui.train.methods.base import Batch, Method, MethodOutput
from simsiam_tui.train.methods.common import frozen_copy

if TYPE_CHECKING:
    from simsiam_tui.config.schema import RunConfig


class MoCo(Method):
    """q = normalize(projector(backbone(x))), k = the same through the key encoder (no gradient).

    L = InfoNCE(q1, k2; queue, t), symmetrized with InfoNCE(q2, k1) when `symmetric` (the
    SimSiam paper's "MoCo v2 + sym. loss" reproduction). The MLP projection head is MoCo v2's.

    Order of one step: keys are computed with the key encoder as it is; the loss uses a
    snapshot of the queue taken before this step's keys go in, so the current keys are never
    negatives of their own step; then the keys are enqueued (FIFO, wrapping around). The key
    encoder's EMA, theta_k <- m theta_k + (1 - m) theta_q, runs in `after_step`, right after the
    optimizer step. MoCo runs it at the start of the next forward instead: the same sequence
    of key encoders, since nothing reads theta_k in between (the first MoCo update, at
    theta_k == theta_q, is the identity), and the state a checkpoint sees is the same.

    Under DDP: SyncBN, not shuffle-BN. The DDP layer converts every BN (key encoder
    included) with nn.SyncBatchNorm.convert_sync_batchnorm, as the SimSiam recipe does.
    Batch statistics over the global batch leave no per-device BN signature through which a
    query could find its key, the leak MoCo's shuffled BN guards against; MoCo v3 and SimCLR
    do the same. The keys of every process are gathered before they are enqueued (MoCo's
    concat_all_gather), view 1's then view 2's, so the queue holds them in one process's order.
    """

    def __init__(
        self,
        backbone: nn.Module,
        dim: int = 2048,
        proj_layers: int = 2,
        queue_size: int = 4096,
        temperature: float = 0.2,
        momentum: float = 0.99,
        symmetric: bool = True,
    ) -> None:
        super().__init__()
        self.backbone = backbone
        self.projector = projection_mlp(feature_dim(backbone), dim, proj_layers)
        self.key_backbone = frozen_copy(self.backbone)  # theta_k starts equal to theta_q
        self.key_projector = frozen_copy(self.projector)
        self.out_dim = dim
        self.temperature = temperature
        self.momentum = momentum
        self.symmetric = symmetric
        self.register_buffer("queue", F.normalize(torch.randn(queue_size, dim), dim=1))  # K x d
        self.register_buffer("queue_ptr", torch.zeros((), dtype=torch.long))  # next slot to write
        self.queue: torch.Tensor
        self.queue_ptr: torch.Tensor

    def query_params(self) -> list[nn.Parameter]:
        """theta_q, in the order `key_params` lists theta_k."""
        return [*self.backbone.parameters(), *self.projector.parameters()]

    def key_params(self) -> list[nn.Parameter]:
        """theta_k."""
        return [*self.key_backbone.parameters(), *self.key_projector.parameters()]

    @torch.no_grad()
    def keys(self, x: torch.Tensor) -> torch.Tensor:
        """k = normalize(key_projector(key_backbone(x))), N x d, no gradient."""
        return F.normalize(self.key_projector(self.key_backbone(x)), dim=1)

    @torch.no_grad()
    def enqueue(self, keys: torch.Tensor) -> None:
        """Write `keys` (B x d) over the oldest entries, wrapping around; B > K keeps the newest K."""
        k_size = self.queue.shape[0]
        keys = keys.detach().to(self.queue.dtype)[-k_size:]
        slots = (self.queue_ptr + torch.arange(keys.shape[0], device=keys.device)) % k_size  # B
        self.queue.index_copy_(0, slots, keys)
        self.queue_ptr.copy_((self.queue_ptr + keys.shape[0]) % k_size)

    def forward(self, batch: Batch) -> MethodOutput:
        x1, x2 = batch.pair  # N x C x H x W each
        z1 = self.projector(self.backbone(x1))  # N x d
        q1 = F.normalize(z1, dim=1)
        k2 = self.keys(x2)  # N x d
        negatives = self.queue.clone()  # K x d, this step's negatives: keys of earlier steps only
        loss = info_nce(q1, k2, negatives, self.temperature)
        if self.symmetric:
            q2 = F.normalize(self.projector(self.backbone(x2)), dim=1)
            k1 = self.keys(x1)
            loss = 0.5 * (loss + info_nce(q2, k1, negatives, self.temperature))
            new_keys = torch.cat([gather_all(k1), gather_all(k2)], dim=0)  # 2B x d, the global batch's order
        else:
            new_keys = gather_all(k2)  # B x d
        self.enqueue(new_keys)  # after the loss
        return MethodOutput(loss=loss, z=z1.detach())

    @torch.no_grad()
    def after_step(self, step: int, total_steps: int) -> None:
        """theta_k <- m theta_k + (1 - m) theta_q."""
        ema_update(self.key_params(), self.query_params(), self.momentum)


@register("moco")
def build_moco(cfg: RunConfig) -> MoCo:
    """Build MoCo v2 from the config's model section, [method.moco] and the common `method.symmetric`."""
    m, model = cfg.method.params(MoCoParams), cfg.model
    return MoCo(
        build_backbone(model.backbone, model.width),
        dim=model.dim,
        proj_layers=model.proj_layers,
        queue_size=m.queue_size,
        temperature=m.temperature,
        momentum=m.momentum,
        symmetric=cfg.method.symmetric,
    )
