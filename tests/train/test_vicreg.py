"""VICReg's loss against the paper's formula (eq. 6 with Algorithm 1's terms), computed literally on fixed tensors."""

from __future__ import annotations

import math

import torch

from simsiam_tui.train.methods.vicreg import vicreg_loss


def _literal(z1: list[list[float]], z2: list[list[float]], lam: float, mu: float, nu: float) -> float:
    """s = 1/(n d) sum_ij (z - z')^2; v = 1/d sum_j max(0, 1 - sqrt(Var_j + 1e-4)); c = 1/d sum_{i!=j} C_ij^2."""
    n, d = len(z1), len(z1[0])
    s = sum((z1[b][j] - z2[b][j]) ** 2 for b in range(n) for j in range(d)) / (n * d)

    def v(z: list[list[float]]) -> float:
        total = 0.0
        for j in range(d):
            mean = sum(z[b][j] for b in range(n)) / n
            var = sum((z[b][j] - mean) ** 2 for b in range(n)) / (n - 1)
            total += max(0.0, 1.0 - math.sqrt(var + 1e-4))
        return total / d

    def c(z: list[list[float]]) -> float:
        means = [sum(z[b][j] for b in range(n)) / n for j in range(d)]
        total = 0.0
        for i in range(d):
            for j in range(d):
                if i != j:
                    cij = sum((z[b][i] - means[i]) * (z[b][j] - means[j]) for b in range(n)) / (n - 1)
                    total += cij**2
        return total / d

    return lam * s + mu * (v(z1) + v(z2)) + nu * (c(z1) + c(z2))


def test_vicreg_loss_matches_the_papers_formula() -> None:
    z1 = [[0.5, -1.0, 2.0], [1.5, 0.0, -0.5], [-0.2, 0.3, 0.1], [0.9, 1.2, -1.1]]  # n=4, d=3
    z2 = [[0.4, -0.7, 1.0], [1.0, 0.2, -0.4], [0.1, 0.1, 0.3], [0.2, 0.5, -0.2]]
    got = vicreg_loss(torch.tensor(z1), torch.tensor(z2), lam=25.0, mu=25.0, nu=1.0)
    assert math.isclose(float(got), _literal(z1, z2, 25.0, 25.0, 1.0), rel_tol=1e-5)


def test_each_term_counts_with_its_own_weight() -> None:
    g = torch.Generator().manual_seed(0)
    z1, z2 = torch.randn(16, 5, generator=g) * 0.3, torch.randn(16, 5, generator=g) * 0.3  # std < 1: variance hinge on
    a, b = z1.tolist(), z2.tolist()
    for lam, mu, nu in [(1.0, 0.0, 0.0), (0.0, 1.0, 0.0), (0.0, 0.0, 1.0), (25.0, 25.0, 1.0)]:
        assert math.isclose(float(vicreg_loss(z1, z2, lam, mu, nu)), _literal(a, b, lam, mu, nu), rel_tol=1e-5)


def test_identical_well_spread_views_cost_nothing() -> None:
    # std 2 in every dim (hinge off), uncorrelated dims (covariance 0), z1 == z2 (invariance 0): the loss is 0
    z = torch.tensor([[2.0, 2.0], [2.0, -2.0], [-2.0, 2.0], [-2.0, -2.0]]) * math.sqrt(3 / 4)
    assert float(vicreg_loss(z, z.clone())) == 0.0
    collapsed = torch.ones(4, 2)
    assert math.isclose(float(vicreg_loss(collapsed, collapsed)), 25.0 * 2 * (1 - math.sqrt(1e-4)), rel_tol=1e-6)
