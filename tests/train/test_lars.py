"""LARS (pre-training) and LARC (linear evaluation, apex's as main_lincls.py uses it) against their formulas; preset wiring."""

from __future__ import annotations

import pytest
import torch

from simsiam_tui.config import resolve_config
from simsiam_tui.config.methods.barlow_twins import BarlowTwinsParams
from simsiam_tui.config.methods.vicreg import VICRegParams
from simsiam_tui.train.lars import LARC, LARS


def test_one_step_scales_weights_by_the_trust_ratio_and_leaves_biases_plain() -> None:
    w = torch.nn.Parameter(torch.tensor([[3.0, 4.0], [0.0, 0.0]]))  # ||w|| = 5
    b = torch.nn.Parameter(torch.tensor([1.0, -1.0]))
    w.grad = torch.tensor([[0.6, 0.8], [0.0, 0.0]])
    b.grad = torch.tensor([0.5, 0.5])
    lr, wd, eta = 0.1, 0.01, 0.001
    opt = LARS([w, b], lr=lr, momentum=0.9, weight_decay=wd, trust=eta)
    g = torch.tensor([[0.6, 0.8], [0.0, 0.0]]) + wd * torch.tensor([[3.0, 4.0], [0.0, 0.0]])
    expected_w = torch.tensor([[3.0, 4.0], [0.0, 0.0]]) - lr * (eta * 5.0 / float(torch.linalg.norm(g))) * g
    opt.step()
    assert torch.allclose(w, expected_w) and torch.allclose(b, torch.tensor([0.95, -1.05]))
    b.grad = torch.tensor([0.5, 0.5])
    w.grad = None
    opt.step()  # momentum: mu = 0.9 * 0.5 + 0.5
    assert torch.allclose(b, torch.tensor([0.95 - 0.1 * 0.95, -1.05 - 0.1 * 0.95]))


def test_barlow_twins_and_vicreg_use_lars_on_imagenet_only() -> None:
    for preset in ("barlow-twins", "vicreg"):
        imagenet = resolve_config(preset, "imagenet")
        assert imagenet.optim.name == "lars" and imagenet.model.dim == 8192 and imagenet.model.proj_layers == 3
        assert resolve_config(preset, "digits").optim.name == "sgd"
    assert resolve_config("barlow-twins", "imagenet").method.params(BarlowTwinsParams).lambd == 5e-3
    vic = resolve_config("vicreg", "imagenet").method.params(VICRegParams)
    assert (vic.sim_coeff, vic.std_coeff, vic.cov_coeff) == (25.0, 25.0, 1.0)


def _larc_step(w: torch.Tensor, g: torch.Tensor, lr: float, wd: float, eta: float, clip: bool) -> torch.Tensor:
    """apex LARC, written out: if ||w|| and ||g|| are non-zero, g <- (g + wd w) x r, r = eta ||w|| / (||g|| + wd ||w||
    + 1e-8), or min(r / lr, 1) with clip; else g as it is (no weight decay); then SGD's first momentum step w - lr g."""
    w_norm, g_norm = float(torch.linalg.norm(w)), float(torch.linalg.norm(g))
    if w_norm == 0 or g_norm == 0:
        return w - lr * g
    r = eta * w_norm / (g_norm + wd * w_norm + 1e-8)
    if clip:
        r = min(r / lr, 1.0)
    return w - lr * (g + wd * w) * r


@pytest.mark.parametrize("clip", [False, True])
def test_larc_scales_every_parameter_with_non_zero_norms_biases_included(clip: bool) -> None:
    w0, b0, z0 = torch.tensor([[3.0, 4.0], [1.0, -2.0]]), torch.tensor([0.5, -1.5]), torch.zeros(2)
    gw, gb, gz = torch.tensor([[0.6, 0.8], [0.1, 0.2]]), torch.tensor([0.5, 0.25]), torch.tensor([0.3, -0.3])
    w, b, z = (torch.nn.Parameter(t.clone()) for t in (w0, b0, z0))
    w.grad, b.grad, z.grad = gw.clone(), gb.clone(), gz.clone()
    lr, wd, eta = 0.5, 0.01, 0.02 if clip else 0.001
    LARC([w, b, z], lr=lr, momentum=0.9, weight_decay=wd, trust=eta, clip=clip).step()
    torch.testing.assert_close(w.detach(), _larc_step(w0, gw, lr, wd, eta, clip), atol=1e-7, rtol=0)
    torch.testing.assert_close(b.detach(), _larc_step(b0, gb, lr, wd, eta, clip), atol=1e-7, rtol=0)  # a bias, scaled
    torch.testing.assert_close(z.detach(), z0 - lr * gz, atol=1e-7, rtol=0)  # zero norm (a fresh zero bias): plain SGD
    assert not torch.allclose(b.detach(), b0 - lr * gb)  # not the plain step LARS gives a bias


def test_larc_momentum_carries_the_scaled_gradient() -> None:
    b = torch.nn.Parameter(torch.tensor([1.0, 1.0]))  # ||b|| = sqrt 2
    opt = LARC([b], lr=1.0, momentum=0.9, trust=0.001)
    b.grad = torch.tensor([3.0, 4.0])  # ||g|| = 5
    opt.step()
    d1 = torch.tensor([3.0, 4.0]) * 0.001 * 2**0.5 / (5 + 1e-8)
    torch.testing.assert_close(b.detach(), torch.tensor([1.0, 1.0]) - d1)
    w1 = b.detach().clone()
    b.grad = torch.tensor([3.0, 4.0])
    opt.step()
    d2 = torch.tensor([3.0, 4.0]) * 0.001 * float(torch.linalg.norm(w1)) / (5 + 1e-8)
    torch.testing.assert_close(b.detach(), w1 - (0.9 * d1 + d2))
