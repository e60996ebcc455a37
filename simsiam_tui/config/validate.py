"""Turn nested dicts and `KEY=VALUE` strings into a checked RunConfig, with one-line errors."""

from __future__ import annotations

import dataclasses
import difflib
import json
import math
from typing import Any

from simsiam_tui.config.errors import ConfigError
from simsiam_tui.config.schema import (
    CHOICES,
    MAXIMUM,
    NON_NEGATIVE,
    POSITIVE,
    SECTIONS,
    TOP_LEVEL_KEYS,
    UNIT_INTERVAL,
    RunConfig,
)


def valid_keys() -> list[str]:
    """Every dotted key a user may set."""
    keys = list(TOP_LEVEL_KEYS)
    for section, cls in SECTIONS.items():
        keys += [f"{section}.{f.name}" for f in dataclasses.fields(cls)]
    return keys


def _field_type(key: str) -> type:
    if key in TOP_LEVEL_KEYS:
        return str
    section, name = key.split(".", 1)
    default = getattr(SECTIONS[section](), name)
    return type(default)


def unknown_key_error(key: str, where: str = "") -> ConfigError:
    """An error naming an unknown key and its nearest valid spelling."""
    near = difflib.get_close_matches(key, valid_keys(), n=1, cutoff=0.0)
    hint = f"; did you mean '{near[0]}'?" if near else ""
    return ConfigError(f"unknown config key '{key}'{where}{hint}")


def _allowed(key: str, kind: type) -> str:
    if key in CHOICES:
        return "one of " + ", ".join(CHOICES[key])
    if key in UNIT_INTERVAL:
        return "a number in [0, 1]"
    if key in POSITIVE:
        return f"a positive {'integer' if kind is int else 'number'}"
    if key in NON_NEGATIVE:
        return f"a non-negative {'integer' if kind is int else 'number'}"
    return {bool: "true or false", int: "an integer", float: "a number", str: "a string"}[kind]


def check_value(key: str, value: Any, where: str = "") -> Any:
    """Return `value` coerced to the key's type, or raise a ConfigError naming key, value and what is allowed."""
    kind = _field_type(key)

    def bad() -> ConfigError:
        return ConfigError(f"invalid value {value!r} for '{key}'{where}: expected {_allowed(key, kind)}")

    if kind is bool:
        if not isinstance(value, bool):
            raise bad()
    elif kind is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise bad()
    elif kind is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            raise bad()
        value = float(value)
    elif not isinstance(value, str):
        raise bad()
    if key in CHOICES and value not in CHOICES[key]:
        raise bad()
    if key in POSITIVE and value <= 0:
        raise bad()
    if key in NON_NEGATIVE and value < 0:
        raise bad()
    if key in UNIT_INTERVAL and not 0 <= value <= 1:
        raise bad()
    if key in MAXIMUM and value > MAXIMUM[key]:
        raise ConfigError(f"invalid value {value!r} for '{key}'{where}: expected at most {MAXIMUM[key]} (2^63 - 1)")
    return value


def parse_override(text: str) -> tuple[str, Any]:
    """Parse `KEY=VALUE` from the command line; VALUE is read as TOML/JSON where it can be, else a string."""
    if "=" not in text:
        raise ConfigError(f"--set expects KEY=VALUE, got '{text}' (for example --set optim.lr=0.05)")
    key, raw = (part.strip() for part in text.split("=", 1))
    if key not in valid_keys():
        raise unknown_key_error(key, " in --set")
    lowered = raw.lower()
    if lowered in ("true", "false"):
        return key, lowered == "true"
    try:
        value = json.loads(raw)
    except ValueError:
        value = raw.strip("'\"")
    if _field_type(key) is str and not isinstance(value, str):
        value = raw
    return key, value


def flatten(table: dict[str, Any], where: str = "") -> dict[str, Any]:
    """Flatten a TOML table of sections into dotted keys, rejecting unknown keys and sections."""
    flat: dict[str, Any] = {}
    for name, value in table.items():
        if name in TOP_LEVEL_KEYS:
            flat[name] = value
        elif name in SECTIONS and isinstance(value, dict):
            for sub, subvalue in value.items():
                flat[f"{name}.{sub}"] = subvalue
        else:
            raise unknown_key_error(name, where)
    for key in flat:
        if key not in valid_keys():
            raise unknown_key_error(key, where)
    return flat


def build_config(flat: dict[str, Any], sources: dict[str, str] | None = None) -> RunConfig:
    """Build a RunConfig from dotted keys, checking every value; `sources` names where each came from."""
    cfg = RunConfig()
    sources = sources or {}
    for key, value in flat.items():
        where = f" (from {sources[key]})" if key in sources else ""
        value = check_value(key, value, where)
        if "." in key:
            section, name = key.split(".", 1)
            setattr(getattr(cfg, section), name, value)
        else:
            setattr(cfg, key, value)
    _check_consistency(cfg)
    return cfg


def _check_consistency(cfg: RunConfig) -> None:
    if cfg.model.pred_dim > cfg.model.dim * 4:
        raise ConfigError(
            f"invalid value {cfg.model.pred_dim} for 'model.pred_dim': expected at most 4 x model.dim ({cfg.model.dim})"
        )
    if cfg.model.proj_layers > 3:
        raise ConfigError(f"invalid value {cfg.model.proj_layers} for 'model.proj_layers': expected 1, 2 or 3")


def config_to_dict(cfg: RunConfig) -> dict[str, Any]:
    """The nested dict form of a RunConfig, as stored in config.json."""
    return dataclasses.asdict(cfg)


def config_from_dict(data: Any, where: str = "") -> RunConfig:
    """Rebuild and re-validate a RunConfig from its nested dict form."""
    if not isinstance(data, dict):
        raise ConfigError(f"run config{where} must be a JSON object of sections, not a {type(data).__name__}")
    return build_config(flatten(data, where))
