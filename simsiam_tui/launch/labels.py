"""The one naming rule of a launch: what `launch`, `slurm submit` and the app call each run they create."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from simsiam_tui.config.sweep import label_of
from simsiam_tui.store import check_name


def run_labels(configs: Sequence[Any], name: str | None = None) -> list[str]:
    """`--name` or the variant, then the sweep point (`simsiam-lr0.03`), then the seed of a replica of `--seeds`
    (`-s1`); each checked as a run name."""
    out = []
    for cfg in configs:
        label = name if name and len(configs) == 1 else (f"{name}-{cfg.variant}" if name else str(cfg.variant or "run"))
        if getattr(cfg, "sweep", ""):
            label = f"{label}-{label_of(cfg.sweep)}"
        if getattr(cfg, "group", "") and not (name and len(configs) == 1):
            label = f"{label}-s{cfg.train.seed}"
        out.append(check_name(label))
    return out
