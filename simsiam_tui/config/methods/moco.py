"""MoCo v2's section (momentum key encoder + queue): temperature, queue length and key-encoder momentum."""

from __future__ import annotations

from dataclasses import dataclass

from simsiam_tui.config.methods import param, section


@section("moco", switches=("symmetric",))
@dataclass
class MoCoParams:
    """[method.moco]; `symmetric` in the common [method] section symmetrizes its InfoNCE."""

    temperature: float = param(0.2, "InfoNCE temperature t", "positive")
    queue_size: int = param(4096, "K, the negatives kept in the FIFO queue of keys", "positive")
    momentum: float = param(0.99, "m in theta_k <- m theta_k + (1 - m) theta_q", "unit_interval")
