"""Methods are found by scanning the methods package; the config's method.name choices name exactly those."""

from __future__ import annotations

import pytest

from simsiam_tui.config import resolve_config
from simsiam_tui.config.schema import METHODS
from simsiam_tui.errors import SimsiamError
from simsiam_tui.train.methods import available, build_method


def test_every_method_module_is_discovered_and_the_config_allows_exactly_those() -> None:
    assert available() == sorted(METHODS)


def test_an_unknown_method_is_a_user_error() -> None:
    cfg = resolve_config("simsiam", "digits")
    cfg.method.name = "nope"  # past validation, e.g. a hand-edited config.json
    with pytest.raises(SimsiamError, match="unknown method 'nope'; known: barlow_twins, byol"):
        build_method(cfg)
