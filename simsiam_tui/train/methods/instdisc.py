"""InstDisc (memory bank): one stored l2-normalized feature per training image, negatives sampled from the bank."""

from __future__ import annotations

from typing import TYPE_CHECKING

import torch
import torch.nn.functional as F
from torch import nn

from simsiam_tui.config.methods.instdisc import InstDiscParams
from simsiam_tui.train.backbones import build_backbone, feature_dim
from simsiam_tui.train.contrastive import gather_all, info_nce
from simsiam_tui.train.heads import projection_mlp
from simsiam_tui.train.methods import register
from simsiam_tui.train.methods.base import Batch, Method, MethodOutput

if TYPE_CHECKING:
    from simsiam_tui.config.schema import RunConfig


def keyed_indices(seed: int, step: torch.Tensor, count: int, n: int) -> torch.Tensor:
    """`count` uniform draws from [0, n), the same for the same (seed, step), on the step's device.

    Each draw's counter (step * count + i, offset by the seed) goes through a 32-bit integer hash
    (xor-shift-multiply rounds); multipliers under 2**31 keep every product inside int64.
    """
    mask = 0xFFFFFFFF
    x = (step.to(torch.int64) * count + torch.arange(count, device=step.device) + (seed * 0x9E3779B1 & mask)) & mask
    for multiplier in (0x7FEB352D, 0x2C1B3C6D):
        x = ((x ^ (x >> 16)) * multiplier) & mask
    return (x ^ (x >> 15)) % n


class InstDisc(Method):
    """f = normalize(projector(backbone(x))); bank v_j, one entry per training image j.

    For a batch with train-set indices i: L = InfoNCE(f, v_i; K negatives v_j sampled
    uniformly from the bank, t), averaged over the two views; an image's own entry is
    masked out of its negatives. After the loss, v_i <- normalize(m v_i + (1 - m) f_i) with
    view 1's f. The entries are written at different steps by ever-changing encoders: their
    mean age as negatives is logged as `bank_staleness`, the inconsistency that motivates
    the momentum encoder. Under DDP the features and indices of every process are gathered
    before the bank update, so each rank keeps the same bank.
    """

    def __init__(
        self,
        backbone: nn.Module,
        dim: int = 128,
        proj_layers: int = 2,
        num_images: int = 0,
        negatives: int = 4096,
        temperature: float = 0.07,
        bank_momentum: float = 0.5,
        seed: int = 0,
    ) -> None:
        super().__init__()
        self.backbone = backbone
        self.projector = projection_mlp(feature_dim(backbone), dim, proj_layers)
        self.out_dim = dim
        self.negatives = negatives
        self.temperature = temperature
        self.bank_momentum = bank_momentum
        self.seed = seed
        self.register_buffer("bank", torch.empty(0, dim))  # N x d, l2-normalized rows
        self.register_buffer("bank_step", torch.empty(0, dtype=torch.long))  # N: step that last wrote each entry
        self.register_buffer("step", torch.zeros((), dtype=torch.long))  # training steps begun
        self.bank: torch.Tensor
        self.bank_step: torch.Tensor
        self.step: torch.Tensor
        if num_images:
            self.bind_data(num_images)

    def bind_data(self, num_images: int) -> None:
        """Size the bank for `num_images` training images: random unit vectors, written at step 0."""
        if self.bank.shape[0] == num_images:
            return
        g = torch.Generator().manual_seed(self.seed)
        bank = F.normalize(torch.randn(num_images, self.out_dim, generator=g), dim=1)
        self.bank = bank.to(self.bank.device)
        self.bank_step = torch.zeros(num_images, dtype=torch.long, device=self.bank.device)

    def sample_negatives(self) -> torch.Tensor:
        """Indices of this step's K negatives: the whole bank when K >= N, else K uniform draws.

        Keyed by (seed, step), so a resumed run draws the same ones, and computed on the device from the
        step buffer: seeding a generator with the step would read it back from the GPU every step.
        """
        n = self.bank.shape[0]
        if self.negatives >= n:
            return torch.arange(n, device=self.bank.device)
        return keyed_indices(self.seed, self.step, self.negatives, n)

    @torch.no_grad()
    def update_bank(self, index: torch.Tensor, f: torch.Tensor) -> None:
        """v_i <- normalize(m v_i + (1 - m) f_i) for the batch's entries, stamped with the current step."""
        index, f = gather_all(index), gather_all(f.detach().to(self.bank.dtype))
        m = self.bank_momentum
        v = F.normalize(m * self.bank[index] + (1.0 - m) * f, dim=1)  # B x d
        self.bank.index_copy_(0, index, v)
        self.bank_step.index_fill_(0, index, self.step)

    def forward(self, batch: Batch) -> MethodOutput:
        x1, x2 = batch.pair  # N x C x H x W each
        if batch.indices.shape != (x1.shape[0],):
            raise ValueError(f"instdisc needs one train-set index per image: {x1.shape[0]} images, indices {tuple(batch.indices.shape)}")
        if self.bank.shape[0] == 0:
            raise ValueError("instdisc's memory bank is not sized; call bind_data(number of training images)")
        self.step += 1  # this step's number; entries written at init carry step 0
        z1 = self.projector(self.backbone(x1))  # N x d
        z2 = self.projector(self.backbone(x2))
        f1, f2 = F.normalize(z1, dim=1), F.normalize(z2, dim=1)
        index = batch.indices.to(self.bank.device)  # N
        pos = self.bank[index]  # N x d (a copy: the update below cannot touch it)
        neg_idx = self.sample_negatives()  # K
        negatives = self.bank[neg_idx]  # K x d
        own = neg_idx[None, :] == index[:, None]  # N x K: an image's entry is its positive, never its negative
        loss = 0.5 * (
            info_nce(f1, pos, negatives, self.temperature, own) + info_nce(f2, pos, negatives, self.temperature, own)
        )
        staleness = (self.step - self.bank_step[neg_idx]).float().mean()  # steps since each negative was written
        self.update_bank(index, f1)  # after the loss
        return MethodOutput(loss=loss, z=z1.detach(), extras={"bank_staleness": staleness})


@register("instdisc")
def build_instdisc(cfg: RunConfig) -> InstDisc:
    """Build InstDisc; the training loop sizes the bank with `bind_data(len(train set))`."""
    m, model = cfg.method.params(InstDiscParams), cfg.model
    return InstDisc(
        build_backbone(model.backbone, model.width),
        dim=model.dim,
        proj_layers=model.proj_layers,
        negatives=m.negatives,
        temperature=m.temperature,
        bank_momentum=m.bank_momentum,
        seed=cfg.train.seed,
    )
