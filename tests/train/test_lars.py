"""LARS: one step against the formula (trust ratio on weights, plain momentum SGD on biases), and the preset wiring."""

from __future__ import annotations

import torch

from simsiam_tui.config import resolve_config
from simsiam_tui.config.methods.barlow_twins import BarlowTwinsParams
from simsiam_tui.config.methods.vicreg import VICRegParams
from simsiam_tui.train.lars import LARS


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
