"""Device color ops against torchvision (one op at a time) and the lr schedule; see test_augment.py for the rest."""

from __future__ import annotations

import torch
import torchvision.transforms.functional as TF

from simsiam_tui.train.augment import color_jitter, hsv_to_rgb, rgb_to_hsv
from simsiam_tui.train.backbones import resnet_small
from simsiam_tui.train.methods.simsiam import SimSiam
from simsiam_tui.train.optim import CosineSchedule, build_optimizer

from .conftest import tiny_config


def test_color_ops_match_torchvision() -> None:
    x = torch.rand(4, 3, 6, 6)
    assert torch.allclose(hsv_to_rgb(rgb_to_hsv(x)), x, atol=1e-5)
    order = torch.tensor([[0, 1, 2, 3]] * 4)
    cases = [
        ([1.3, 1, 1, 0], lambda y: TF.adjust_brightness(y, 1.3)),
        ([1, 0.7, 1, 0], lambda y: TF.adjust_contrast(y, 0.7)),
        ([1, 1, 1.4, 0], lambda y: TF.adjust_saturation(y, 1.4)),
        ([1, 1, 1, -0.08], lambda y: TF.adjust_hue(y, -0.08)),
    ]
    for f, ref in cases:
        out = color_jitter(x, torch.tensor([f] * 4, dtype=torch.float32), order)
        assert torch.allclose(out, ref(x), atol=1e-3)


def test_cosine_schedule_and_fixed_predictor_lr() -> None:
    cfg = tiny_config()
    m = SimSiam(resnet_small(4), dim=16, pred_dim=4)
    opt = build_optimizer(m, cfg, 512)
    base = cfg.optim.lr * 512 / 256
    sched = CosineSchedule(total_steps=100, warmup_steps=10, fix_pred_lr=True)
    assert abs(sched.apply(opt, 0) - base / 10) < 1e-9
    assert abs(sched.apply(opt, 10) - base) < 1e-9
    lr = sched.apply(opt, 99)
    assert lr < base * 0.01
    groups = {g["name"]: g for g in opt.param_groups}
    assert groups["predictor"]["lr"] == base and groups["encoder"]["lr"] == lr
    sched.fix_pred_lr = False
    sched.apply(opt, 99)
    assert groups["predictor"]["lr"] == groups["encoder"]["lr"]
