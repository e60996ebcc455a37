"""The SimSiam loss and its forms, on random inputs."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from simsiam_tui.train.losses import (
    asymmetric_loss,
    cross_entropy_similarity,
    negative_cosine,
    simsiam_loss,
    symmetric_loss,
)


def test_simsiam_loss_is_the_papers_formula() -> None:
    g = torch.Generator().manual_seed(0)
    p1, p2, z1, z2 = (torch.randn(16, 32, generator=g) for _ in range(4))
    expected = -(F.cosine_similarity(p1, z2, dim=1).mean() + F.cosine_similarity(p2, z1, dim=1).mean()) / 2
    manual = -(((p1 / p1.norm(dim=1, keepdim=True)) * (z2 / z2.norm(dim=1, keepdim=True))).sum(1).mean()
               + ((p2 / p2.norm(dim=1, keepdim=True)) * (z1 / z1.norm(dim=1, keepdim=True))).sum(1).mean()) / 2
    assert torch.allclose(simsiam_loss(p1, p2, z1, z2), expected, atol=1e-6)
    assert torch.allclose(simsiam_loss(p1, p2, z1, z2), manual, atol=1e-6)
    assert torch.allclose(symmetric_loss(negative_cosine, p1, p2, z1, z2), expected, atol=1e-6)


def test_simsiam_loss_stops_gradient_into_targets() -> None:
    p1, p2, z1, z2 = (torch.randn(4, 8, requires_grad=True) for _ in range(4))
    simsiam_loss(p1, p2, z1, z2).backward()
    assert z1.grad is None and z2.grad is None
    assert p1.grad is not None and p2.grad is not None


def test_cosine_bounds() -> None:
    z = torch.randn(8, 16)
    assert torch.isclose(negative_cosine(z, z), torch.tensor(-1.0))
    assert torch.isclose(negative_cosine(z, -z), torch.tensor(1.0))


def test_cross_entropy_similarity_matches_definition() -> None:
    p, z = torch.randn(8, 16), torch.randn(8, 16)
    expected = -(z.softmax(1) * p.log_softmax(1)).sum(1).mean()
    assert torch.allclose(cross_entropy_similarity(p, z), expected)
    # minimized over p at p = z (cross-entropy >= entropy)
    assert cross_entropy_similarity(z, z) <= cross_entropy_similarity(p, z)


def test_asymmetric_uses_one_direction() -> None:
    p1, t2 = torch.randn(8, 16), torch.randn(8, 16)
    assert torch.equal(asymmetric_loss(negative_cosine, p1, t2), negative_cosine(p1, t2))
