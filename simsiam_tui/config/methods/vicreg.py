"""VICReg's section: the weights of its invariance, variance and covariance terms (lambda, mu, nu of eq. 6)."""

from __future__ import annotations

from dataclasses import dataclass

from simsiam_tui.config.methods import param, section


@section("vicreg")
@dataclass
class VICRegParams:
    """[method.vicreg]; the names are the official code's (--sim-coeff, --std-coeff, --cov-coeff)."""

    sim_coeff: float = param(25.0, "lambda, the invariance (mean squared error) weight", "non_negative")
    std_coeff: float = param(25.0, "mu, the variance (std hinge) weight", "non_negative")
    cov_coeff: float = param(1.0, "nu, the covariance (off-diagonal) weight", "non_negative")
