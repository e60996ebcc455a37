"""BYOL's section (EMA target network, no negatives): the base momentum of the target's cosine schedule."""

from __future__ import annotations

from dataclasses import dataclass

from simsiam_tui.config.methods import param, section


@section("byol")
@dataclass
class BYOLParams:
    """[method.byol]."""

    base_momentum: float = param(0.996, "m at the first step; rises to 1 on a cosine schedule", "unit_interval")
