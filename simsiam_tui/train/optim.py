"""SGD with lr = base x batch/256, cosine decay per step, optional linear warm-up, fixed predictor lr."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import torch

if TYPE_CHECKING:
    from simsiam_tui.config.schema import RunConfig
    from simsiam_tui.train.methods.base import Method


def scaled_lr(base_lr: float, batch_size: int) -> float:
    """The linear scaling rule: lr = base_lr x batch / 256."""
    return base_lr * batch_size / 256


def build_optimizer(method: Method, cfg: RunConfig, global_batch: int) -> torch.optim.SGD:
    """SGD over the method's parameter groups, each remembering its initial lr and fix_lr flag."""
    lr = scaled_lr(cfg.optim.lr, global_batch)
    groups = []
    for g in method.param_groups():
        if not g["params"]:
            continue
        groups.append({**g, "lr": lr, "initial_lr": lr})
    return torch.optim.SGD(
        groups, lr=lr, momentum=cfg.optim.momentum, weight_decay=cfg.optim.weight_decay
    )


class CosineSchedule:
    """lr(step) = lr0 x warm-up ramp, then lr0 x (1 + cos(pi x progress)) / 2; fix_lr groups stay at lr0."""

    def __init__(self, total_steps: int, warmup_steps: int = 0, fix_pred_lr: bool = True) -> None:
        self.total_steps = max(1, total_steps)
        self.warmup_steps = max(0, warmup_steps)
        self.fix_pred_lr = fix_pred_lr

    def factor(self, step: int) -> float:
        """Multiplier of the initial lr at optimizer step `step` (0-based)."""
        if step < self.warmup_steps:
            return (step + 1) / self.warmup_steps
        span = max(1, self.total_steps - self.warmup_steps)
        progress = min(1.0, (step - self.warmup_steps) / span)
        return 0.5 * (1.0 + math.cos(math.pi * progress))

    def apply(self, optimizer: torch.optim.Optimizer, step: int) -> float:
        """Set every group's lr for `step`; return the encoder (first scheduled) group's lr."""
        f = self.factor(step)
        main_lr = None
        for g in optimizer.param_groups:
            fixed = self.fix_pred_lr and g.get("fix_lr", False)
            g["lr"] = g["initial_lr"] if fixed else g["initial_lr"] * f
            if main_lr is None and not g.get("fix_lr", False):
                main_lr = g["lr"]
        return float(main_lr if main_lr is not None else optimizer.param_groups[0]["lr"])
