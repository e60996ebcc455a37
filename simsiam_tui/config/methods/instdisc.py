"""InstDisc's section (memory bank): temperature, negatives drawn per step and the bank's update momentum."""

from __future__ import annotations

from dataclasses import dataclass

from simsiam_tui.config.methods import param, section


@section("instdisc")
@dataclass
class InstDiscParams:
    """[method.instdisc]."""

    temperature: float = param(0.07, "InfoNCE temperature t", "positive")
    negatives: int = param(4096, "K negatives sampled from the bank each step (the whole bank when K >= N)", "positive")
    bank_momentum: float = param(0.5, "m in v <- normalize(m v + (1 - m) f)", "unit_interval")
