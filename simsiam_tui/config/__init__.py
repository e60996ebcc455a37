"""Run configuration: dataclasses, TOML presets/suites/scales and validation (stdlib only)."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from simsiam_tui.config.errors import ConfigError
from simsiam_tui.config.presets import (
    Suite,
    describe_preset,
    list_presets,
    list_scales,
    list_suites,
    load_suite,
    resolve_config,
)
from simsiam_tui.config.schema import RunConfig
from simsiam_tui.config.validate import config_from_dict, config_to_dict, parse_override, valid_keys


def config_digest(cfg: RunConfig) -> str:
    """A short stable hash of a config, written in `start` events."""
    text = json.dumps(config_to_dict(cfg), sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def parse_config_file(data: bytes, path: str | Path) -> RunConfig:
    """Re-validate a run's config.json from its bytes (read by the store's opener: never a FIFO, never huge)."""
    try:
        loaded = json.loads(data)
    except ValueError as exc:  # UnicodeDecodeError too
        raise ConfigError(f"run config {path} is not valid JSON: {exc}") from None
    except RecursionError:
        raise ConfigError(f"run config {path} is nested too deeply to be a config") from None
    if not isinstance(loaded, dict):
        raise ConfigError(f"run config {path} is not a JSON object")
    return config_from_dict(loaded, f" in {path}")


__all__ = [
    "ConfigError",
    "RunConfig",
    "Suite",
    "config_digest",
    "config_from_dict",
    "config_to_dict",
    "describe_preset",
    "list_presets",
    "list_scales",
    "list_suites",
    "parse_config_file",
    "load_suite",
    "parse_override",
    "resolve_config",
    "valid_keys",
]
