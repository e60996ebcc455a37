"""LARS (You et al. 2017), as Barlow Twins and VICReg train on ImageNet: SGD whose step per layer is scaled by a trust ratio."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import torch


class LARS(torch.optim.Optimizer):
    """SGD with momentum where each weight matrix's update is scaled by eta ||w|| / ||g + wd w||.

    Biases and BatchNorm parameters (1-d tensors) get neither weight decay nor the trust ratio, as in the
    Barlow Twins and VICReg code. Param groups keep any extra keys (name, fix_lr, initial_lr).
    """

    def __init__(
        self, params: Iterable[Any], lr: float, momentum: float = 0.9, weight_decay: float = 0.0, eta: float = 0.001
    ) -> None:
        super().__init__(params, {"lr": lr, "momentum": momentum, "weight_decay": weight_decay, "eta": eta})

    @torch.no_grad()
    def step(self, closure: Any = None) -> Any:
        """One update of every parameter with a gradient."""
        loss = closure() if closure is not None else None
        for group in self.param_groups:
            for w in group["params"]:
                if w.grad is None:
                    continue
                g = w.grad
                if w.ndim > 1:  # weights: decay, then the layer-wise trust ratio
                    g = g.add(w, alpha=group["weight_decay"])
                    w_norm, g_norm = torch.norm(w), torch.norm(g)
                    ratio = torch.where((w_norm > 0) & (g_norm > 0), group["eta"] * w_norm / g_norm, torch.ones_like(w_norm))
                    g = g.mul(ratio)
                state = self.state[w]
                if "mu" not in state:
                    state["mu"] = torch.zeros_like(w)
                mu = state["mu"].mul_(group["momentum"]).add_(g)
                w.add_(mu, alpha=-group["lr"])
        return loss
