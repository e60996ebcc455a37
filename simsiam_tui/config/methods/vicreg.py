"""VICReg's section: the weights of its invariance, variance and covariance terms, with the official code's meaning."""

from __future__ import annotations

from dataclasses import dataclass

from simsiam_tui.config.methods import param, section

# How mu weighs the two branches' variance terms. "mean" is the official main_vicreg.py:
# std_loss = v(Z)/2 + v(Z')/2, so `std_coeff = 25` means `--std-coeff 25`. "sum" is the paper's eq. 6 as printed,
# mu [v(Z) + v(Z')], twice the official term: every run stored before this key existed trained with it
# (config/legacy.py marks such configs "sum" so that they resume as they trained).
STD_BRANCHES = ("mean", "sum")


@section("vicreg")
@dataclass
class VICRegParams:
    """[method.vicreg]; the names and meanings are the official code's (--sim-coeff, --std-coeff, --cov-coeff)."""

    sim_coeff: float = param(25.0, "lambda, the invariance (mean squared error) weight", "non_negative")
    std_coeff: float = param(25.0, "mu, the variance weight, on [v(Z) + v(Z')] / 2 as the official --std-coeff", "non_negative")
    cov_coeff: float = param(1.0, "nu, the covariance weight, on c(Z) + c(Z') as the official --cov-coeff", "non_negative")
    std_branches: str = param(
        "mean", "mean: mu [v(Z) + v(Z')] / 2 (official code); sum: mu [v(Z) + v(Z')] (paper's eq. 6, runs before it)", STD_BRANCHES
    )
