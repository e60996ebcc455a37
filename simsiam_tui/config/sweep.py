"""`launch --sweep KEY=V1,V2,...` (repeatable): the grid of config points a launch runs, each recorded in its config.

A sweep is every combination of the given values (presets x sweep points x seeds); each run's config
says which point it trains (`sweep = "optim.lr=0.03"`) and its group names the point, so replicas of one
point pool and points never do. Every point is validated before anything starts.
"""

from __future__ import annotations

import itertools
import re
from typing import Any

from simsiam_tui.config.errors import ConfigError
from simsiam_tui.config.validate import parse_override, shown

MAX_GRID = 1000  # runs per launch at most: past it a typo (`--sweep x=1,...` with 10^4 values) starts nothing
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def parse_sweep(text: str) -> tuple[str, list[Any]]:
    """`optim.lr=0.01,0.03` as ("optim.lr", [0.01, 0.03]); each value read as `--set` reads it."""
    key, sep, values = text.partition("=")
    items = [v.strip() for v in values.split(",")]
    if not sep or not key.strip() or not all(items):
        raise ConfigError(f"--sweep expects KEY=V1,V2,..., got {shown(text)} (for example --sweep optim.lr=0.01,0.03)")
    parsed = [parse_override(f"{key.strip()}={item}") for item in items]
    key = parsed[0][0]
    out: list[Any] = []
    for _, value in parsed:
        if value in out:
            raise ConfigError(f"--sweep {key}: the value {shown(value)} is given twice")
        out.append(value)
    return key, out


def sweep_points(sweeps: list[str]) -> list[dict[str, Any]]:
    """Every combination of the sweeps' values, in the order given ([{}] without sweeps)."""
    axes = [parse_sweep(text) for text in sweeps]
    keys = [key for key, _ in axes]
    repeated = {k for k in keys if keys.count(k) > 1}
    if repeated:
        raise ConfigError(f"--sweep {', '.join(sorted(repeated))} is given twice; give each key once with all its values")
    size = 1
    for _, values in axes:
        size *= len(values)
        if size > MAX_GRID:
            raise ConfigError(f"--sweep grid has more than {MAX_GRID} points; sweep fewer values at once")
    return [dict(zip(keys, combo, strict=True)) for combo in itertools.product(*(values for _, values in axes))]


def point_text(point: dict[str, Any]) -> str:
    """A point as config.json records it: `optim.lr=0.03,optim.weight_decay=0.0005`."""
    return ",".join(f"{key}={_value(value)}" for key, value in point.items())


def point_label(point: dict[str, Any]) -> str:
    """A point as part of a run name: `lr0.03-weight_decay0.0005` (the last part of each key, name-safe)."""
    parts = [f"{key.rsplit('.', 1)[-1]}{_value(value)}" for key, value in point.items()]
    return _UNSAFE.sub("_", "-".join(parts)).strip("._-")[:40]


def label_of(text: str) -> str:
    """point_label of a point as config.json records it (point_text's form)."""
    point = dict(item.partition("=")[::2] for item in text.split(",") if item)
    return point_label(point)


def point_overrides(point: dict[str, Any]) -> list[str]:
    """A point as `--set` items, for the config resolver (which validates each value)."""
    return [f"{key}={_value(value)}" for key, value in point.items()]


def _value(value: Any) -> str:
    return ("true" if value else "false") if isinstance(value, bool) else str(value)
