"""SimSiam's section: a scale on its loss; its switches (stop_grad, predictor, symmetric, similarity) are the common [method] ones."""

from __future__ import annotations

from dataclasses import dataclass

from simsiam_tui.config.methods import param, section


@section("simsiam", switches=("stop_grad", "stop_grad_at", "predictor", "symmetric", "similarity"))
@dataclass
class SimSiamParams:
    """[method.simsiam]: the ablation presets flip the common [method] switches; `loss_scale` tests a claim of the notes."""

    loss_scale: float = param(
        1.0, "a factor on the loss (0.5 without stop-grad: 'equivalent to the stop-gradient' by the seed's notes)", "positive"
    )
