"""SimCLR's section (end-to-end, in-batch negatives): the NT-Xent temperature."""

from __future__ import annotations

from dataclasses import dataclass

from simsiam_tui.config.methods import param, section


@section("simclr")
@dataclass
class SimCLRParams:
    """[method.simclr]."""

    temperature: float = param(0.5, "NT-Xent temperature t (SimCLR's CIFAR-10 value; 0.1 on ImageNet)", "positive")
