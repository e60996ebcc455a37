"""Losses of the compared architectures (InfoNCE, NT-Xent, BYOL's 2 - 2cos) and the EMA update of MoCo and BYOL."""

from __future__ import annotations

import math
from collections.abc import Iterable

import torch
import torch.nn.functional as F

from simsiam_tui.train import dist
from simsiam_tui.train.methods.common import at_least_fp32


def info_nce(
    q: torch.Tensor,
    k_pos: torch.Tensor,
    negatives: torch.Tensor,
    temperature: float,
    neg_mask: torch.Tensor | None = None,
) -> torch.Tensor:
    """InfoNCE: mean_i -log exp(q_i.k_i/t) / (exp(q_i.k_i/t) + sum_j exp(q_i.n_j/t)).

    q, k_pos: N x d; negatives: K x d shared by every query; all l2-normalized by the caller.
    neg_mask: optional N x K bool, True where negative j must not count for query i.
    """
    l_pos = (q * k_pos).sum(dim=1, keepdim=True)  # N x 1
    l_neg = q @ negatives.t()  # N x K
    if neg_mask is not None:
        l_neg = l_neg.masked_fill(neg_mask, float("-inf"))
    logits = at_least_fp32(torch.cat([l_pos, l_neg], dim=1)) / temperature  # N x (1 + K)
    labels = torch.zeros(q.shape[0], dtype=torch.long, device=q.device)  # the positive is column 0
    return F.cross_entropy(logits, labels)


def nt_xent(z1: torch.Tensor, z2: torch.Tensor, temperature: float) -> torch.Tensor:
    """SimCLR's NT-Xent: each of the 2B views has one positive (its pair) and 2B - 2 negatives, B the global batch.

    z1, z2: N x d (normalized here); the loss is the mean over this rank's 2N anchors. Under DDP the candidates
    are gathered from every rank with their gradient (SimCLR's cross-replica concat, lightly's GatherLayer), so
    DDP's average over ranks is the mean over all 2B anchors and the run equals one process with batch B.
    """
    n = z1.shape[0]
    q = F.normalize(at_least_fp32(torch.cat([z1, z2], dim=0)), dim=1)  # 2N x d, this rank's anchors
    k1, k2 = dist.gather_with_grad(q[:n]), dist.gather_with_grad(q[n:])  # B x d each, rank order
    b = k1.shape[0]
    keys = torch.cat([k1, k2], dim=0)  # 2B x d: view 1 of the global batch, then view 2
    sim = q @ keys.t() / temperature  # 2N x 2B
    rows = torch.arange(n, device=q.device) + dist.row_offset(n)  # N: this rank's images in the global batch
    own = torch.cat([rows, rows + b])  # 2N: each anchor's own column
    self_mask = torch.zeros_like(sim, dtype=torch.bool)
    self_mask[torch.arange(2 * n, device=q.device), own] = True
    sim = sim.masked_fill(self_mask, float("-inf"))  # an anchor is never its own negative
    targets = torch.cat([rows + b, rows])  # view 1 of image i <-> view 2 of image i
    return F.cross_entropy(sim, targets)


def normalized_mse(p: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
    """BYOL's regression loss: mean_i ||p_i/|p_i| - z_i/|z_i|||^2 = 2 - 2 cos(p_i, z_i); the caller stops z's gradient."""
    return (2.0 - 2.0 * F.cosine_similarity(at_least_fp32(p), at_least_fp32(z), dim=1)).mean()


@torch.no_grad()
def ema_update(target: Iterable[torch.Tensor], online: Iterable[torch.Tensor], m: float) -> None:
    """theta_t <- m theta_t + (1 - m) theta_o, in place, parameter by parameter."""
    t_params, o_params = list(target), list(online)
    if len(t_params) != len(o_params):
        raise ValueError("target and online networks have different parameter lists")
    torch._foreach_mul_(t_params, m)
    torch._foreach_add_(t_params, [p.detach() for p in o_params], alpha=1.0 - m)


def cosine_momentum(base: float, step: int, total_steps: int) -> float:
    """BYOL's schedule: m = 1 - (1 - base) (cos(pi step / total) + 1) / 2, from base at 0 to 1 at the end."""
    progress = min(max(step / max(total_steps, 1), 0.0), 1.0)
    return 1.0 - (1.0 - base) * (math.cos(math.pi * progress) + 1.0) / 2.0


@torch.no_grad()
def gather_all(t: torch.Tensor) -> torch.Tensor:
    """Concatenate `t` (N x ...) over all DDP processes in rank order; identity single-process. No gradient."""
    import torch.distributed as torch_dist

    if not (torch_dist.is_available() and torch_dist.is_initialized()) or torch_dist.get_world_size() == 1:
        return t
    parts = [torch.empty_like(t) for _ in range(torch_dist.get_world_size())]
    torch_dist.all_gather(parts, t.contiguous())
    return torch.cat(parts, dim=0)
