"""Barlow Twins' loss against the official main.py (loss and gradients) and the paper's formula (eq. 1-2), written out."""

from __future__ import annotations

import math

import pytest
import torch

from simsiam_tui.config import resolve_config
from simsiam_tui.config.methods.barlow_twins import BarlowTwinsParams
from simsiam_tui.train.methods.barlow_twins import barlow_twins_loss


def _official(z1: torch.Tensor, z2: torch.Tensor, lambd: float) -> torch.Tensor:
    """main.py's loss, one process, from its reductions: c = bn(z1)^T bn(z2) / batch, bn a BatchNorm1d without affine
    in training mode (batch mean, biased variance, eps 1e-5); on_diag = sum_i (c_ii - 1)^2; off_diag = the sum of the
    squared off-diagonal entries; loss = on_diag + lambd off_diag."""
    bn = torch.nn.BatchNorm1d(z1.shape[1], affine=False).to(z1.dtype).train()
    c = bn(z1).t() @ bn(z2) / z1.shape[0]
    off = ~torch.eye(c.shape[0], dtype=torch.bool)
    return (torch.diagonal(c) - 1).pow(2).sum() + lambd * c[off].pow(2).sum()


@pytest.mark.parametrize("lambd", [5e-3, 0.0051, 1.0])
def test_loss_and_gradients_equal_the_official_code(lambd: float) -> None:
    g = torch.Generator().manual_seed(0)
    z1 = torch.randn(12, 5, generator=g, dtype=torch.float64) * torch.tensor([0.1, 0.5, 1.0, 2.0, 8.0], dtype=torch.float64)
    z2 = (z1 + 0.5 * torch.randn(12, 5, generator=g, dtype=torch.float64)).requires_grad_(True)
    z1.requires_grad_(True)
    ours, ref = barlow_twins_loss(z1, z2, lam=lambd), _official(z1, z2, lambd)
    g_ours, g_ref = torch.autograd.grad(ours, [z1, z2]), torch.autograd.grad(ref, [z1, z2])
    assert abs(float(ours.detach()) - float(ref.detach())) < 1e-10
    for a, b in zip(g_ours, g_ref, strict=True):
        torch.testing.assert_close(a, b, atol=1e-10, rtol=0)


def test_the_default_lambda_is_the_papers() -> None:
    assert BarlowTwinsParams().lambd == 5e-3  # the paper; the official main.py's default is 0.0051
    assert resolve_config("barlow-twins", "digits").method.params(BarlowTwinsParams).lambd == 5e-3


def _literal(za: list[list[float]], zb: list[list[float]], lam: float) -> float:
    """L = sum_i (1 - C_ii)^2 + lam sum_i sum_{j!=i} C_ij^2, C_ij = sum_b a_bi b_bj / sqrt(sum_b a_bi^2) sqrt(sum_b b_bj^2)."""
    n, d = len(za), len(za[0])

    def centered(z: list[list[float]]) -> list[list[float]]:
        means = [sum(z[b][j] for b in range(n)) / n for j in range(d)]
        return [[z[b][j] - means[j] for j in range(d)] for b in range(n)]

    a, b = centered(za), centered(zb)
    loss = 0.0
    for i in range(d):
        for j in range(d):
            num = sum(a[k][i] * b[k][j] for k in range(n))
            den = math.sqrt(sum(a[k][i] ** 2 for k in range(n))) * math.sqrt(sum(b[k][j] ** 2 for k in range(n)))
            c = num / den
            loss += (1 - c) ** 2 if i == j else lam * c**2
    return loss


def test_barlow_twins_loss_matches_the_papers_formula() -> None:
    za = [[0.5, -1.0, 2.0], [1.5, 0.0, -0.5], [-0.2, 0.3, 0.1], [0.9, 1.2, -1.1], [0.0, -0.4, 0.6]]  # n=5, d=3
    zb = [[0.4, -0.7, 1.0], [1.0, 0.2, -0.4], [0.1, 0.1, 0.3], [0.2, 0.5, -0.2], [-0.3, 0.0, 0.9]]
    za, zb = [[10 * x for x in row] for row in za], [[10 * x for x in row] for row in zb]  # var >> the code's eps 1e-5
    for lam in (5e-3, 1.0):
        got = barlow_twins_loss(torch.tensor(za), torch.tensor(zb), lam=lam)
        assert math.isclose(float(got), _literal(za, zb, lam), rel_tol=1e-5)


def test_identical_decorrelated_views_reach_zero_and_a_collapsed_dimension_costs_one() -> None:
    z = torch.tensor([[1.0, 1.0], [1.0, -1.0], [-1.0, 1.0], [-1.0, -1.0]])  # C = identity
    assert float(barlow_twins_loss(z, z.clone())) < 1e-4
    flat = z.clone()
    flat[:, 1] = 0.5  # dimension 2 constant: C_22 = 0
    assert math.isclose(float(barlow_twins_loss(flat, flat)), 1.0, rel_tol=1e-4)
