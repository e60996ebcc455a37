"""Registry of self-supervised methods, found by scanning this package: a module that `register`s a factory adds one."""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable
from typing import TYPE_CHECKING

from simsiam_tui.train.errors import UserFacingError
from simsiam_tui.train.methods.base import Batch, Method, MethodOutput

if TYPE_CHECKING:
    from simsiam_tui.config.schema import RunConfig

MethodFactory = Callable[["RunConfig"], Method]
_REGISTRY: dict[str, MethodFactory] = {}


def register(name: str) -> Callable[[MethodFactory], MethodFactory]:
    """Class or function decorator: make `method.name == name` build with the decorated factory."""

    def deco(factory: MethodFactory) -> MethodFactory:
        if name in _REGISTRY:
            raise ValueError(f"method {name!r} registered twice")
        _REGISTRY[name] = factory
        return factory

    return deco


def _load_builtin() -> None:
    """Import every module of this package (pkgutil); each method module registers itself, helpers register nothing."""
    for info in pkgutil.iter_modules(__path__):
        if not info.name.startswith("_"):
            importlib.import_module(f"{__name__}.{info.name}")


def available() -> list[str]:
    """Names of the registered methods."""
    _load_builtin()
    return sorted(_REGISTRY)


def build_method(cfg: RunConfig) -> Method:
    """Build the Method named by `cfg.method.name` from the config."""
    _load_builtin()
    try:
        factory = _REGISTRY[cfg.method.name]
    except KeyError:
        known = ", ".join(sorted(_REGISTRY))
        raise UserFacingError(f"unknown method '{cfg.method.name}'; known: {known}") from None
    return factory(cfg)


__all__ = ["Batch", "Method", "MethodOutput", "available", "build_method", "register"]
