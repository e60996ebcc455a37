"""`--seeds N`: N replicas of each run config with seeds seed .. seed+N-1, one `group` per variant."""

from __future__ import annotations

import copy
import time

from simsiam_tui.config.errors import ConfigError
from simsiam_tui.config.schema import RunConfig
from simsiam_tui.config.sweep import label_of


def replicate(configs: list[RunConfig], seeds: int, stamp: str | None = None) -> list[RunConfig]:
    """Each config `seeds` times, seeds counting up from its own train.seed; replicas share a `group`.

    The group names the variant, scale and launch time (`simsiam@digits-20261128-120000`), so two
    launches of the same variant stay apart; `seeds == 1` returns the configs unchanged.
    """
    if seeds < 1:
        raise ConfigError(f"invalid value {seeds} for --seeds: expected a positive integer")
    if seeds == 1:
        return configs
    stamp = stamp or time.strftime("%Y%m%d-%H%M%S")
    out: list[RunConfig] = []
    for cfg in configs:
        point = f"-{label_of(cfg.sweep)}" if cfg.sweep else ""  # one group per sweep point: points never pool
        group = f"{cfg.variant}@{cfg.scale}{point}-{stamp}"
        for i in range(seeds):
            replica = copy.deepcopy(cfg)
            replica.train.seed = cfg.train.seed + i
            replica.group = group
            out.append(replica)
    return out
