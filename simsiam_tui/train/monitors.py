"""Collapse monitors on the projector output z: per-dimension std of l2-normalized z, its quantiles, effective rank."""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F


def z_std_ref(dim: int) -> float:
    """The per-dimension std of l2-normalized z when z is spread uniformly on the sphere: 1/sqrt(d)."""
    return 1.0 / math.sqrt(dim)


def per_dim_std(z: torch.Tensor) -> torch.Tensor:
    """Std over the batch of each dimension of l2-normalized z (N x d -> d); 0 means collapse."""
    zn = F.normalize(z.float(), dim=1)  # N x d
    return zn.std(dim=0)  # d


def z_std(z: torch.Tensor) -> float:
    """Mean over dimensions of the per-dimension std of l2-normalized z (the paper's collapse indicator)."""
    return float(per_dim_std(z).mean())


def std_quantiles(z: torch.Tensor, n: int = 16) -> list[float]:
    """`n` evenly spaced quantiles (min .. max) of the per-dimension std vector."""
    q = torch.linspace(0.0, 1.0, n, device=z.device)
    return [float(v) for v in torch.quantile(per_dim_std(z), q)]


def effective_rank(z: torch.Tensor, eps: float = 1e-12) -> float:
    """exp(entropy of the normalized singular values of z): from 1 (rank one) to min(N, d)."""
    s = torch.linalg.svdvals(z.float())  # min(N, d)
    p = s / (s.sum() + eps)
    entropy = -(p * torch.log(p + eps)).sum()
    return float(torch.exp(entropy))
