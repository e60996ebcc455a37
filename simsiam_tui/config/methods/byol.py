"""BYOL's section (EMA target network, no negatives): the target's momentum and its schedule."""

from __future__ import annotations

from dataclasses import dataclass

from simsiam_tui.config.methods import param, section


@section("byol")
@dataclass
class BYOLParams:
    """[method.byol]."""

    base_momentum: float = param(0.996, "m at the first step; rises to 1 on a cosine schedule", "unit_interval")
    # "constant": m = base_momentum at every step, for the claim that SimSiam's stop-gradient is a momentum encoder with
    # m = 0 (BYOL's paper and code use the cosine schedule, as every run before this key did).
    momentum_schedule: str = param("cosine", "cosine: m rises from base_momentum to 1 (BYOL); constant: m stays", ("cosine", "constant"))
