"""Each method's own hyperparameters, one torch-free module per method, found by scanning this package.

A module here defines a dataclass of its method's parameters, each with a default, a one-line doc and
its allowed values (`param`), and marks it with `@section("name")`: the TOML table
`[method.<name>]` and the `--set method.<name>.<key>=...` keys are its fields, and `method.name` may
be any registered name. The training side (simsiam_tui/train/methods/<name>.py) reads its section with
`cfg.method.params(TheDataclass)`.
"""

from __future__ import annotations

import dataclasses
import importlib
import pkgutil
from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T")
# An allowed-values rule: "positive" | "non_negative" | "unit_interval" (a number in [0, 1]) | a tuple of choices.
Rule = str | tuple[str, ...]
RULES = ("positive", "non_negative", "unit_interval")
_cache: tuple[tuple[str, ...], dict[str, type[Any]]] | None = None  # (package path scanned, what it found)


def param(default: Any, doc: str, rule: Rule | None = None) -> Any:
    """A section field: its default, what it does (shown in docs and errors) and its allowed values."""
    if isinstance(rule, str) and rule not in RULES:
        raise ValueError(f"unknown rule {rule!r}; use one of {', '.join(RULES)} or a tuple of choices")
    return dataclasses.field(default=default, metadata={"doc": doc, "rule": rule})


# The SimSiam ablation switches of the common [method] section; a method names the ones it reads.
SWITCHES = ("stop_grad", "stop_grad_at", "predictor", "symmetric", "similarity")


def section(name: str, switches: tuple[str, ...] = ()) -> Callable[[type[T]], type[T]]:
    """Class decorator: mark a dataclass as the parameters of method `name` (`[method.<name>]`).

    switches: which of the common [method] switches (SWITCHES) the method reads; setting another one for it
    is an error, not a silently different experiment.
    """
    unknown = [s for s in switches if s not in SWITCHES]
    if unknown:
        raise ValueError(f"method {name!r} names unknown switches {unknown}; the switches are {', '.join(SWITCHES)}")

    def deco(cls: type[T]) -> type[T]:
        if not dataclasses.is_dataclass(cls):
            raise TypeError(f"{cls.__name__} must be a dataclass to be method {name!r}'s section")
        cls.__method_section__ = name  # type: ignore[attr-defined]
        cls.__method_switches__ = tuple(switches)  # type: ignore[attr-defined]
        return cls

    return deco


def sections() -> dict[str, type[Any]]:
    """Every method's parameter dataclass, by method name (sorted), found in this package's public modules.

    A module's own classes marked by `@section` count (not ones it imports); the scan is kept per package path.
    """
    global _cache
    path = tuple(__path__)
    if _cache is not None and _cache[0] == path:
        return dict(_cache[1])
    found: dict[str, type[Any]] = {}
    for info in pkgutil.iter_modules(__path__):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module(f"{__name__}.{info.name}")
        for obj in vars(module).values():
            name = getattr(obj, "__method_section__", None)
            if isinstance(obj, type) and name and obj.__module__ == module.__name__:
                if name in found:
                    raise ValueError(f"method {name!r} has two parameter sections")
                found[name] = obj
    _cache = (path, dict(sorted(found.items())))
    return dict(_cache[1])


def method_names() -> tuple[str, ...]:
    """The allowed values of `method.name`: every method with a section here."""
    return tuple(sections())


def switches_of(name: str) -> tuple[str, ...]:
    """The common [method] switches that method `name` reads."""
    switches: tuple[str, ...] = getattr(sections()[name], "__method_switches__", ())
    return switches


def name_of(cls: type[Any]) -> str:
    """The method name a parameter dataclass is registered under."""
    name = getattr(cls, "__method_section__", None)
    if not isinstance(name, str):
        raise KeyError(f"{cls.__name__} is not a method section (no @section)")
    return name


def rule_of(name: str, key: str) -> Rule | None:
    """The allowed-values rule of `method.<name>.<key>` (None: any value of the field's type)."""
    for f in dataclasses.fields(sections()[name]):
        if f.name == key:
            rule: Rule | None = f.metadata.get("rule")
            return rule
    raise KeyError(f"method.{name}.{key}")
