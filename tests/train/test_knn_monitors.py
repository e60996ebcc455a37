"""kNN against a brute-force reference; collapse monitors on known inputs."""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from simsiam_tui.train.knn import knn_predict, knn_top1
from simsiam_tui.train.monitors import effective_rank, std_quantiles, z_std, z_std_ref


def _brute_force(q: torch.Tensor, bank: torch.Tensor, labels: torch.Tensor, classes: int, k: int, t: float) -> torch.Tensor:
    preds = []
    for row in q:
        sims = [(float(row @ b), int(y)) for b, y in zip(bank, labels, strict=True)]
        sims.sort(key=lambda s: -s[0])
        score = [0.0] * classes
        for s, y in sims[:k]:
            score[y] += math.exp(s / t)
        preds.append(max(range(classes), key=lambda c: score[c]))
    return torch.tensor(preds)


def test_knn_matches_brute_force() -> None:
    g = torch.Generator().manual_seed(0)
    bank = F.normalize(torch.randn(300, 16, generator=g), dim=1)
    labels = torch.randint(0, 5, (300,), generator=g)
    q = F.normalize(torch.randn(70, 16, generator=g), dim=1)
    for k in (1, 10, 200):
        expected = _brute_force(q, bank, labels, 5, k, 0.1)
        assert torch.equal(knn_predict(q, bank, labels, 5, k=k, t=0.1, chunk=16), expected)
    acc = knn_top1(q, expected, bank, labels, 5, k=200, t=0.1, chunk=7)
    assert acc == 1.0


def test_knn_separable_clusters() -> None:
    centers = F.normalize(torch.randn(4, 8), dim=1)
    y = torch.arange(4).repeat(50)
    x = F.normalize(centers[y] + 0.01 * torch.randn(200, 8), dim=1)
    assert knn_top1(x[:40], y[:40], x[40:], y[40:], 4, k=20) == 1.0


def test_z_std_reference_and_collapse() -> None:
    z = torch.randn(4096, 64)
    assert abs(z_std(z) / z_std_ref(64) - 1) < 0.05
    assert z_std(torch.ones(32, 64) + 1e-4 * torch.randn(32, 64)) < 1e-3
    q = std_quantiles(z)
    assert len(q) == 16 and q == sorted(q)


def test_effective_rank() -> None:
    assert abs(effective_rank(torch.randn(8, 1) @ torch.randn(1, 32)) - 1) < 1e-3
    basis = torch.linalg.qr(torch.randn(32, 32))[0][:, :5]  # orthonormal columns
    assert abs(effective_rank(basis.T.contiguous()) - 5) < 1e-3  # equal singular values: rank 5
