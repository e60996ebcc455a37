"""Projector and predictor MLPs of SimSiam (BN on hidden layers; projector output BN without affine)."""

from __future__ import annotations

from torch import nn


def _hidden(in_dim: int, dim: int, layers: int) -> tuple[list[nn.Module], int]:
    """The first layers - 1 blocks (Linear-BN-ReLU) of a projector or expander, and the width they end at."""
    if layers < 1:
        raise ValueError("a projector needs at least one layer")
    mods: list[nn.Module] = []
    prev = in_dim
    for _ in range(layers - 1):
        mods += [nn.Linear(prev, dim, bias=False), nn.BatchNorm1d(dim), nn.ReLU(inplace=True)]
        prev = dim
    return mods, prev


def projection_mlp(in_dim: int, dim: int, layers: int = 2) -> nn.Sequential:
    """Projector: (Linear-BN-ReLU) x (layers-1), then Linear-BN(affine=False); in_dim -> dim."""
    mods, prev = _hidden(in_dim, dim, layers)
    mods += [nn.Linear(prev, dim, bias=False), nn.BatchNorm1d(dim, affine=False)]
    return nn.Sequential(*mods)


def prediction_mlp(dim: int, pred_dim: int) -> nn.Sequential:
    """Predictor h: dim -> pred_dim (BN, ReLU) -> dim, a bottleneck with no output BN."""
    return nn.Sequential(
        nn.Linear(dim, pred_dim, bias=False),
        nn.BatchNorm1d(pred_dim),
        nn.ReLU(inplace=True),
        nn.Linear(pred_dim, dim),
    )


def expander_mlp(in_dim: int, dim: int, layers: int = 3) -> nn.Sequential:
    """VICReg's expander / Barlow Twins' projector: (Linear-BN-ReLU) x (layers-1), then a plain Linear.

    No output BN: VICReg's variance term and Barlow Twins' own batch standardization act on the raw output.
    """
    mods, prev = _hidden(in_dim, dim, layers)
    mods.append(nn.Linear(prev, dim))
    return nn.Sequential(*mods)
