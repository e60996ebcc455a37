"""Barlow Twins' loss against the paper's formula (eq. 1-2), the cross-correlation written out literally."""

from __future__ import annotations

import math

import torch

from simsiam_tui.train.methods.barlow_twins import barlow_twins_loss


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
