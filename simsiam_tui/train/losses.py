"""Pure loss functions of SimSiam: similarity D(p, z) and its symmetric / asymmetric forms."""

from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F

Similarity = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]


def negative_cosine(p: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
    """D(p, z) = -mean_i <p_i/||p_i||, z_i/||z_i||>; the caller applies stop-grad to z."""
    return -F.cosine_similarity(p, z, dim=1).mean()


def cross_entropy_similarity(p: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
    """D(p, z) = -mean_i softmax(z_i) . log_softmax(p_i), softmax along channels (the paper's variant)."""
    return -(F.softmax(z, dim=1) * F.log_softmax(p, dim=1)).sum(dim=1).mean()


SIMILARITIES: dict[str, Similarity] = {
    "cosine": negative_cosine,
    "cross-entropy": cross_entropy_similarity,
}


def symmetric_loss(
    d: Similarity, p1: torch.Tensor, p2: torch.Tensor, t1: torch.Tensor, t2: torch.Tensor
) -> torch.Tensor:
    """L = D(p1, t2)/2 + D(p2, t1)/2, with t the (possibly stop-gradiented) targets."""
    return 0.5 * d(p1, t2) + 0.5 * d(p2, t1)


def asymmetric_loss(d: Similarity, p1: torch.Tensor, t2: torch.Tensor) -> torch.Tensor:
    """L = D(p1, t2): only view 1 predicts view 2."""
    return d(p1, t2)


def simsiam_loss(p1: torch.Tensor, p2: torch.Tensor, z1: torch.Tensor, z2: torch.Tensor) -> torch.Tensor:
    """The paper's loss: -(cos(p1, sg z2) + cos(p2, sg z1)) / 2."""
    return symmetric_loss(negative_cosine, p1, p2, z1.detach(), z2.detach())
