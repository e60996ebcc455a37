"""Registry of self-supervised methods: `register` a Method class, `build_method(cfg)` builds one."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from simsiam_tui.train.methods.base import Method, MethodOutput

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
    """Import the modules that register the built-in methods (optional ones may be absent)."""
    import importlib

    for module in ("simsiam", "simclr", "instdisc", "moco", "byol", "vicreg", "barlow_twins"):
        try:
            importlib.import_module(f"simsiam_tui.train.methods.{module}")
        except ModuleNotFoundError as err:
            if err.name != f"simsiam_tui.train.methods.{module}":
                raise


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
        raise ValueError(f"unknown method {cfg.method.name!r}; known: {', '.join(sorted(_REGISTRY))}") from None
    return factory(cfg)


__all__ = ["Method", "MethodOutput", "available", "build_method", "register"]
