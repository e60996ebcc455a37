"""Layer-wise adaptive rates: LARS as Barlow Twins' and VICReg's pre-training code, LARC as SimSiam's linear evaluation.

LARS (You et al., 2017; the form of the Barlow Twins / VICReg official code): each weight matrix's step is
d = (g + wd w) x eta ||w|| / ||g + wd w||, then momentum SGD; one-dimensional parameters (biases, BN) take
plain momentum SGD steps with no weight decay (their `exclude_bias_and_norm`).

LARC (NVIDIA apex's LARC, which SimSiam's main_lincls.py --lars wraps around SGD with trust 0.001 and clip False):
every parameter whose weight and gradient norms are both non-zero, biases included, steps by
d = (g + wd w) x ratio, ratio = eta ||w|| / (||g|| + wd ||w|| + eps); with `clip` the local lr is
min(ratio / lr, 1) x lr instead. A parameter with a zero norm (the classifier's zero-initialized bias at its first
step) takes a plain SGD step without weight decay, as apex's.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import torch


def _momentum_step(state: dict[str, Any], p: torch.Tensor, d: torch.Tensor, momentum: float, lr: float) -> None:
    """torch SGD's momentum (no dampening): buf = d at the first step, else momentum x buf + d; p -= lr x buf."""
    if "momentum_buffer" not in state:
        state["momentum_buffer"] = d.clone()
    else:
        state["momentum_buffer"].mul_(momentum).add_(d)
    p.add_(state["momentum_buffer"], alpha=-lr)


class LARS(torch.optim.Optimizer):
    """LARS for pre-training (optim.name = "lars"): trust ratio on weight matrices, plain momentum SGD on 1-d parameters."""

    def __init__(
        self, params: Iterable[Any], lr: float, momentum: float = 0.9, weight_decay: float = 0.0, trust: float = 0.001
    ) -> None:
        super().__init__(params, {"lr": lr, "momentum": momentum, "weight_decay": weight_decay, "trust": trust})

    @torch.no_grad()
    def step(self, closure: Callable[[], float] | None = None) -> float | None:  # type: ignore[override]
        """One update of every parameter with a gradient."""
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                d = p.grad
                if p.ndim > 1:
                    d = d.add(p, alpha=group["weight_decay"])
                    w_norm, d_norm = torch.linalg.vector_norm(p), torch.linalg.vector_norm(d)
                    ratio = torch.where((w_norm > 0) & (d_norm > 0), group["trust"] * w_norm / d_norm, 1.0)
                    d = d * ratio
                _momentum_step(self.state[p], p, d, group["momentum"], group["lr"])
        return loss


class LARC(torch.optim.Optimizer):
    """apex's LARC around momentum SGD, as main_lincls.py --lars: every parameter with non-zero norms is scaled."""

    def __init__(
        self,
        params: Iterable[Any],
        lr: float,
        momentum: float = 0.9,
        weight_decay: float = 0.0,
        trust: float = 0.001,
        clip: bool = False,
        eps: float = 1e-8,
    ) -> None:
        defaults = {"lr": lr, "momentum": momentum, "weight_decay": weight_decay, "trust": trust, "clip": clip, "eps": eps}
        super().__init__(params, defaults)

    @torch.no_grad()
    def step(self, closure: Callable[[], float] | None = None) -> float | None:  # type: ignore[override]
        """One update of every parameter with a gradient."""
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for group in self.param_groups:
            lr, wd = group["lr"], group["weight_decay"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                g = p.grad
                w_norm, g_norm = torch.linalg.vector_norm(p), torch.linalg.vector_norm(g)
                ratio = group["trust"] * w_norm / (g_norm + wd * w_norm + group["eps"])
                if group["clip"]:
                    ratio = torch.clamp(ratio / lr, max=1.0)  # the local lr becomes min(ratio, lr)
                d = torch.where((w_norm != 0) & (g_norm != 0), (g + wd * p) * ratio, g)
                _momentum_step(self.state[p], p, d, group["momentum"], lr)
        return loss
