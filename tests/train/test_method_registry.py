"""Methods are found by scanning the methods packages; a new method is its two modules, and the batch is one object."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
import torch

from simsiam_tui.config import methods as method_schemas
from simsiam_tui.config import resolve_config
from simsiam_tui.errors import SimsiamError
from simsiam_tui.store import RunPaths
from simsiam_tui.train import methods as train_methods
from simsiam_tui.train.methods import Batch, available, build_method
from simsiam_tui.train.methods.vicreg import VICReg
from simsiam_tui.train.worker import _load_config


def test_every_method_module_is_discovered_and_the_config_allows_exactly_those() -> None:
    assert available() == list(method_schemas.method_names())


def test_an_unknown_method_is_a_user_error() -> None:
    cfg = resolve_config("simsiam", "digits")
    cfg.method.name = "nope"  # past validation, e.g. a hand-edited config.json
    with pytest.raises(SimsiamError, match="unknown method 'nope'; known: barlow_twins, byol"):
        build_method(cfg)


SCHEMA = '''
"""The toy method's section."""
from dataclasses import dataclass
from simsiam_tui.config.methods import param, section

@section("toy")
@dataclass
class ToyParams:
    """[method.toy]."""
    scale: float = param(1.0, "the loss's weight", "positive")
'''

METHOD = '''
"""A toy method reading every view of the batch (a multi-crop method's shape)."""
import torch
from simsiam_tui.config.methods.toy import ToyParams
from simsiam_tui.train.backbones import build_backbone, feature_dim
from simsiam_tui.train.methods import register
from simsiam_tui.train.methods.base import Batch, Method, MethodOutput

class Toy(Method):
    def __init__(self, backbone, scale):
        super().__init__()
        self.backbone, self.scale, self.out_dim = backbone, scale, feature_dim(backbone)

    def forward(self, batch: Batch) -> MethodOutput:
        zs = [self.backbone(x) for x in batch.views]  # V x (N x C)
        loss = self.scale * torch.stack([(z - zs[0]).pow(2).mean() for z in zs[1:]]).mean()
        return MethodOutput(loss=loss, z=zs[0].detach(), extras={"views": float(len(zs))})

@register("toy")
def build_toy(cfg):
    return Toy(build_backbone(cfg.model.backbone, cfg.model.width), cfg.method.params(ToyParams).scale)
'''


@pytest.fixture
def toy_method(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A new method as its two modules, dropped into folders on the two packages' paths, gone again afterwards."""
    (tmp_path / "config").mkdir()
    (tmp_path / "config" / "toy.py").write_text(SCHEMA)
    (tmp_path / "train").mkdir()
    (tmp_path / "train" / "toy.py").write_text(METHOD)
    available()  # the shipped methods registered first, so the registry's copy below holds them
    monkeypatch.setattr(method_schemas, "__path__", [*method_schemas.__path__, str(tmp_path / "config")])
    monkeypatch.setattr(train_methods, "__path__", [*train_methods.__path__, str(tmp_path / "train")])
    monkeypatch.setattr(train_methods, "_REGISTRY", dict(train_methods._REGISTRY))
    yield
    for name in ("simsiam_tui.config.methods.toy", "simsiam_tui.train.methods.toy"):
        sys.modules.pop(name, None)


@pytest.mark.usefixtures("toy_method")
def test_a_new_method_is_its_schema_and_method_modules_and_takes_more_than_two_views() -> None:
    cfg = resolve_config("simsiam", "digits", ["method.name=toy", "method.toy.scale=2.0", "model.width=4"])
    assert "toy" in available()
    model = build_method(cfg)
    assert model.scale == 2.0
    g = torch.Generator().manual_seed(0)
    views = [torch.randn(4, 3, 8, 8, generator=g) for _ in range(3)]  # two global views and a third crop
    out = model(Batch(views, torch.arange(4)))
    assert out.extras["views"] == 3.0 and out.loss.requires_grad


def test_a_two_view_method_refuses_a_three_view_batch_in_one_line() -> None:
    model = build_method(resolve_config("simsiam", "digits", ["model.width=4"]))
    x = torch.randn(4, 3, 8, 8)
    with pytest.raises(ValueError, match="^this method takes 2 views, the batch has 3$"):
        model(Batch([x, x, x], torch.arange(4)))


def test_an_old_run_folder_in_the_flat_layout_builds_its_method_with_its_old_values(tmp_path: Path) -> None:
    """What `runs resume` does with a run written by the previous version: the worker loads its config.json."""
    old = {
        "variant": "vicreg", "scale": "digits",
        "method": {"name": "vicreg", "temperature": 0.5, "queue_size": 4096, "bank_negatives": 4096,
                   "bank_momentum": 0.5, "ema_momentum": 0.99, "vicreg_lambda": 10.0, "vicreg_mu": 20.0,
                   "vicreg_nu": 2.0, "bt_lambda": 0.005},
        "model": {"backbone": "resnet-small", "width": 4, "dim": 16, "pred_dim": 8, "proj_layers": 3},
    }
    (tmp_path / "config.json").write_text(json.dumps(old))
    model = build_method(_load_config(RunPaths(tmp_path)))
    assert isinstance(model, VICReg) and (model.lam, model.mu, model.nu) == (10.0, 20.0, 2.0)
