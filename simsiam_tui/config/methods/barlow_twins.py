"""Barlow Twins' section: lambda, the weight of the redundancy-reduction (off-diagonal) terms."""

from __future__ import annotations

from dataclasses import dataclass

from simsiam_tui.config.methods import param, section


@section("barlow_twins")
@dataclass
class BarlowTwinsParams:
    """[method.barlow_twins]; `lambd` is the official code's name (--lambd) for the paper's lambda."""

    lambd: float = param(5e-3, "lambda, the weight of the off-diagonal terms of C", "non_negative")
