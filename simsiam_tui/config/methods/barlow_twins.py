"""Barlow Twins' section: lambda, the weight of the redundancy-reduction (off-diagonal) terms."""

from __future__ import annotations

from dataclasses import dataclass

from simsiam_tui.config.methods import param, section


@section("barlow_twins")
@dataclass
class BarlowTwinsParams:
    """[method.barlow_twins]; `lambd` is the official code's name (--lambd) for the paper's lambda."""

    # The paper's lambda = 5e-3 (Zbontar et al. 2021, implementation details); the official main.py's
    # --lambd default is 0.0051. We follow the paper; `--set method.barlow_twins.lambd=0.0051` runs the code's value.
    lambd: float = param(5e-3, "lambda, the weight of the off-diagonal terms of C (the paper's 5e-3; main.py's 0.0051)", "non_negative")
