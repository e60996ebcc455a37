"""Each method's own hyperparameters, one torch-free module per method, found by scanning this package.

A module here defines a dataclass of its method's parameters, each with a default, a one-line doc and
its allowed values (`param`), and registers it with `@section("name")`: the TOML table
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
_SECTIONS: dict[str, type[Any]] = {}


def param(default: Any, doc: str, rule: Rule | None = None) -> Any:
    """A section field: its default, what it does (shown in docs and errors) and its allowed values."""
    if isinstance(rule, str) and rule not in RULES:
        raise ValueError(f"unknown rule {rule!r}; use one of {', '.join(RULES)} or a tuple of choices")
    return dataclasses.field(default=default, metadata={"doc": doc, "rule": rule})


def section(name: str) -> Callable[[type[T]], type[T]]:
    """Class decorator: register a dataclass as the parameters of method `name` (`[method.<name>]`)."""

    def deco(cls: type[T]) -> type[T]:
        if not dataclasses.is_dataclass(cls):
            raise TypeError(f"{cls.__name__} must be a dataclass to be method {name!r}'s section")
        if _SECTIONS.get(name, cls) is not cls:
            raise ValueError(f"method {name!r} has two parameter sections")
        _SECTIONS[name] = cls
        return cls

    return deco


def _discover() -> None:
    """Import every public module of this package (pkgutil); each registers its method's section."""
    for info in pkgutil.iter_modules(__path__):
        if not info.name.startswith("_"):
            importlib.import_module(f"{__name__}.{info.name}")


def sections() -> dict[str, type[Any]]:
    """Every discovered method's parameter dataclass, by method name (sorted)."""
    _discover()
    return dict(sorted(_SECTIONS.items()))


def method_names() -> tuple[str, ...]:
    """The allowed values of `method.name`: every method with a section here."""
    return tuple(sections())


def name_of(cls: type[Any]) -> str:
    """The method name a parameter dataclass is registered under."""
    for name, registered in sections().items():
        if registered is cls:
            return name
    raise KeyError(f"{cls.__name__} is not a registered method section")


def rule_of(name: str, key: str) -> Rule | None:
    """The allowed-values rule of `method.<name>.<key>` (None: any value of the field's type)."""
    for f in dataclasses.fields(sections()[name]):
        if f.name == key:
            rule: Rule | None = f.metadata.get("rule")
            return rule
    raise KeyError(f"method.{name}.{key}")
