"""SimSiam's section: empty, its switches (stop_grad, predictor, symmetric, similarity) are the common [method] ones."""

from __future__ import annotations

from dataclasses import dataclass

from simsiam_tui.config.methods import section


@section("simsiam", switches=("stop_grad", "stop_grad_at", "predictor", "symmetric", "similarity"))
@dataclass
class SimSiamParams:
    """[method.simsiam]: no parameters of its own; the ablation presets flip the common [method] switches."""
