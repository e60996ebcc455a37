"""What a launch asks for, resolved once for the CLI (`launch`, `slurm submit`, `demo`) and the app's dialog."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from simsiam_tui.config.data_check import check_data
from simsiam_tui.config.errors import ConfigError
from simsiam_tui.config.presets import load_suite, resolve_config
from simsiam_tui.config.schema import RunConfig


def resolve_launch(
    presets: Sequence[str],
    suite: str | None = None,
    scale: str | None = None,
    overrides: Sequence[str] = (),
    presets_dir: str | Path | None = None,
) -> list[RunConfig]:
    """Every run config of a launch, validated before anything starts.

    Order: the suite's presets as the suite lists them, then the given presets that the suite does
    not name, in the order given (a preset given twice runs twice). The suite's scale applies unless `scale` is given; its overrides come before `overrides`.
    """
    names = list(presets)  # `--preset simsiam --preset simsiam` is two runs
    suite_overrides: list[str] = []
    if suite:
        loaded = load_suite(suite, presets_dir)
        names = loaded.presets + [n for n in names if n not in loaded.presets]
        scale = scale or loaded.scale
        suite_overrides = list(loaded.overrides)
    if not names:
        raise ConfigError("give --preset NAME (repeatable) or --suite NAME; see `simsiam-tui presets ls`")
    configs = [resolve_config(name, scale, [*suite_overrides, *overrides], presets_dir) for name in names]
    for cfg in configs:  # before any folder is made, and in --dry-run too
        check_data(cfg)
    return configs
