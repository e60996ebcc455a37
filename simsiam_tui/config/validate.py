"""Turn nested dicts and `KEY=VALUE` strings into a checked RunConfig, with one-line errors."""

from __future__ import annotations

import dataclasses
import difflib
import json
import math
from typing import Any

from simsiam_tui.config.errors import ConfigError
from simsiam_tui.config.legacy import LEGACY_KEYS, moved_hint, upgrade
from simsiam_tui.config.methods import SWITCHES, Rule, method_names, rule_of, sections, switches_of
from simsiam_tui.config.schema import (
    CHOICES,
    COMMON_METHOD_KEYS,
    INT_MAXIMUM,
    MAXIMUM,
    NON_NEGATIVE,
    POSITIVE,
    SECTIONS,
    TOP_LEVEL_KEYS,
    UNIT_INTERVAL,
    MethodConfig,
    RunConfig,
)


def valid_keys() -> list[str]:
    """Every dotted key a user may set: the sections' keys, then each method's own (method.<name>.<key>)."""
    keys = list(TOP_LEVEL_KEYS)
    for section, cls in SECTIONS.items():
        keys += [f"{section}.{f.name}" for f in dataclasses.fields(cls) if f.name != "sections"]
    for name, cls in sections().items():
        if name in COMMON_METHOD_KEYS:
            raise ConfigError(f"method section '{name}' would hide the common key 'method.{name}'; rename the method")
        keys += [f"method.{name}.{f.name}" for f in dataclasses.fields(cls)]
    return keys


def _method_key(key: str) -> tuple[str, str] | None:
    """(method name, field) for a key of a method's own section, method.<name>.<field>."""
    parts = key.split(".")
    return (parts[1], parts[2]) if len(parts) == 3 and parts[0] == "method" else None


def _field_type(key: str) -> type:
    if key in TOP_LEVEL_KEYS:
        return str
    own = _method_key(key)
    if own:
        return type(getattr(sections()[own[0]](), own[1]))
    section, name = key.split(".", 1)
    default = getattr(SECTIONS[section](), name)
    return type(default)


def _rule(key: str) -> Rule | None:
    """The allowed values of a key: a tuple of choices, "unit_interval", "positive", "non_negative" or None."""
    if key == "method.name":
        return method_names()
    own = _method_key(key)
    if own:
        return rule_of(*own)
    if key in CHOICES:
        return CHOICES[key]
    for rule, keys in (("unit_interval", UNIT_INTERVAL), ("positive", POSITIVE), ("non_negative", NON_NEGATIVE)):
        if key in keys:
            return rule
    return None


def shown(value: Any, limit: int = 80) -> str:
    """A user's value for a one-line error: repr (control characters escaped), cut when long."""
    try:
        text = repr(value)
    except (RecursionError, ValueError):  # nested past the recursion limit; an int of thousands of digits
        return f"a {type(value).__name__} too large to show"
    return text if len(text) <= limit else f"{text[:limit]}... ({len(text)} characters)"


def brief(text: str, limit: int = 80) -> str:
    """`text` as is when it is short and printable, else shown()."""
    return text if len(text) <= limit and text.isprintable() else shown(text, limit)


def unknown_key_error(key: str, where: str = "", candidates: list[str] | None = None) -> ConfigError:
    """An error naming an unknown key and its nearest valid spelling (or where a legacy key moved)."""
    if key in LEGACY_KEYS:
        return ConfigError(f"unknown config key {shown(key)}{where}{moved_hint(key)}")
    near = difflib.get_close_matches(key[:200], candidates or valid_keys(), n=1, cutoff=0.0)
    hint = f"; did you mean '{near[0]}'?" if near else ""
    return ConfigError(f"unknown config key {shown(key)}{where}{hint}")


def _allowed(rule: Rule | None, kind: type) -> str:
    if isinstance(rule, tuple):
        return "one of " + ", ".join(rule)
    if rule == "unit_interval":
        return "a number in [0, 1]"
    if rule in ("positive", "non_negative"):
        return f"a {rule.replace('_', '-')} {'integer' if kind is int else 'number'}"
    return {bool: "true or false", int: "an integer", float: "a number", str: "a string"}[kind]


def check_value(key: str, value: Any, where: str = "") -> Any:
    """Return `value` coerced to the key's type, or raise a ConfigError naming key, value and what is allowed."""
    kind, rule = _field_type(key), _rule(key)

    def bad() -> ConfigError:
        return ConfigError(f"invalid value {shown(value)} for '{key}'{where}: expected {_allowed(rule, kind)}")

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
    if isinstance(rule, tuple) and value not in rule:
        raise bad()
    if rule == "positive" and value <= 0:
        raise bad()
    if rule == "non_negative" and value < 0:
        raise bad()
    if rule == "unit_interval" and not 0 <= value <= 1:
        raise bad()
    limit = MAXIMUM.get(key, INT_MAXIMUM if kind is int else None)
    if limit is not None and value > limit:
        note = " (2^63 - 1)" if limit == 2**63 - 1 else ""
        raise ConfigError(f"invalid value {shown(value)} for '{key}'{where}: expected at most {limit}{note}")
    return value


def parse_override(text: str) -> tuple[str, Any]:
    """Parse `KEY=VALUE` from the command line; VALUE is read as TOML/JSON where it can be, else a string."""
    if "=" not in text:
        raise ConfigError(f"--set expects KEY=VALUE, got {shown(text)} (for example --set optim.lr=0.05)")
    key, raw = (part.strip() for part in text.split("=", 1))
    if key not in valid_keys():
        raise unknown_key_error(key, " in --set")
    lowered = raw.lower()
    if lowered in ("true", "false"):
        return key, lowered == "true"
    is_text = _field_type(key) is str
    try:
        value = json.loads(raw)
    except ValueError:  # not JSON (or an integer of thousands of digits): the text itself
        value = raw.strip("'\"")
    except RecursionError:  # [[[[... nested past Python's recursion limit
        if not is_text:
            raise ConfigError(f"invalid value for '{key}' in --set: nested too deeply to read") from None
        value = raw
    if is_text and not isinstance(value, str):
        value = raw
    return key, value


def flatten(table: dict[str, Any], where: str = "") -> dict[str, Any]:
    """Flatten a TOML table of sections into dotted keys, rejecting unknown keys and sections.

    `[method.<name>]` tables become method.<name>.<key>; the flat method keys of earlier versions
    are mapped to their sections here (config/legacy.py), so old run folders still load.
    """
    flat: dict[str, Any] = {}
    for name, value in table.items():
        if name in TOP_LEVEL_KEYS:
            flat[name] = value
        elif name in SECTIONS and isinstance(value, dict):
            for sub, subvalue in value.items():
                if name == "method" and isinstance(subvalue, dict):  # [method.<name>]: one method's own section
                    if sub not in sections():
                        raise unknown_key_error(f"method.{sub}", where, [f"method.{n}" for n in sections()])
                    flat.update({f"method.{sub}.{k}": v for k, v in subvalue.items()})
                else:
                    flat[f"{name}.{sub}"] = subvalue
        else:
            raise unknown_key_error(name, where)
    flat = upgrade(flat)
    known = set(valid_keys())
    for key in flat:
        if key not in known:
            raise unknown_key_error(key, where)
    return flat


def build_config(flat: dict[str, Any], sources: dict[str, str] | None = None) -> RunConfig:
    """Build a RunConfig from dotted keys, checking every value; `sources` names where each came from."""
    cfg = RunConfig()
    sources = sources or {}
    for key, value in flat.items():
        where = f" (from {sources[key]})" if key in sources else ""
        value = check_value(key, value, where)
        own = _method_key(key)
        if own:
            setattr(cfg.method.sections[own[0]], own[1], value)
        elif "." in key:
            section, name = key.split(".", 1)
            setattr(getattr(cfg, section), name, value)
        else:
            setattr(cfg, key, value)
    _check_consistency(cfg)
    return cfg


def check_switches(cfg: RunConfig, sources: dict[str, str] | None = None) -> None:
    """A [method] switch set away from its default for a method that does not read it is one clear error.

    Checked where a run is configured (presets and --set), not on a stored run's config: an old run resumes.
    """
    defaults = MethodConfig()
    reads = switches_of(cfg.method.name)
    for key in SWITCHES:
        value = getattr(cfg.method, key)
        if key not in reads and value != getattr(defaults, key):
            source = (sources or {}).get(f"method.{key}")
            where = f" (from {source})" if source else ""
            uses = ", ".join(f"method.{s}" for s in reads) or "none of the [method] switches"
            raise ConfigError(
                f"method.{key} = {value!r}{where} has no effect on method '{cfg.method.name}' (it reads {uses}); "
                "remove it, or choose a method that reads it"
            )


def _check_consistency(cfg: RunConfig) -> None:
    if cfg.model.pred_dim > cfg.model.dim * 4:
        raise ConfigError(
            f"invalid value {cfg.model.pred_dim} for 'model.pred_dim': expected at most 4 x model.dim ({cfg.model.dim})"
        )
    if cfg.model.proj_layers > 3:
        raise ConfigError(f"invalid value {cfg.model.proj_layers} for 'model.proj_layers': expected 1, 2 or 3")


def config_to_dict(cfg: RunConfig) -> dict[str, Any]:
    """The nested dict form of a RunConfig, as stored in config.json: each method's section as method.<name>."""
    return cfg.to_dict()


def config_from_dict(data: Any, where: str = "") -> RunConfig:
    """Rebuild and re-validate a RunConfig from its nested dict form."""
    if not isinstance(data, dict):
        raise ConfigError(f"run config{where} must be a JSON object of sections, not a {type(data).__name__}")
    return build_config(flatten(data, where))
