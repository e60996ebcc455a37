"""The seed's notes, claim by claim, where a gradient decides: stop-gradient vs a half-scaled loss, BYOL at m = 0."""

from __future__ import annotations

import pytest
import torch

from simsiam_tui.config import list_presets, load_suite, resolve_config
from simsiam_tui.config.methods.byol import BYOLParams
from simsiam_tui.config.methods.simsiam import SimSiamParams
from simsiam_tui.train.backbones import resnet_small
from simsiam_tui.train.contrastive import ema_update
from simsiam_tui.train.methods import Batch
from simsiam_tui.train.methods.byol import BYOL
from simsiam_tui.train.methods.simsiam import SimSiam

CLAIM_PRESETS = ("no-stop-grad-half", "asymmetric-no-predictor", "byol-m0")


def _views() -> Batch:
    g = torch.Generator().manual_seed(1)
    x1, x2 = (torch.randn(8, 3, 8, 8, generator=g, dtype=torch.float64) for _ in range(2))
    return Batch([x1, x2], torch.arange(8))


def _simsiam(**kw: object) -> SimSiam:
    torch.manual_seed(0)
    return SimSiam(resnet_small(4), dim=16, pred_dim=4, **kw).double()  # type: ignore[arg-type]


def _grads(m: torch.nn.Module, batch: Batch) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
    m.zero_grad(set_to_none=True)
    loss = m(batch).loss
    loss.backward()
    return loss.detach(), {n: p.grad.clone() for n, p in m.named_parameters() if p.grad is not None}


def test_half_scaled_no_stop_grad_equals_stop_grad_only_without_a_predictor() -> None:
    """'The symmetric loss with stop-gradient is the loss without it at half scale': true with h = identity, not with h."""
    batch = _views()
    for predictor, holds in (("none", True), ("mlp", False)):
        sg = _simsiam(predictor=predictor)
        half = _simsiam(predictor=predictor, stop_grad=False, loss_scale=0.5)
        half.load_state_dict(sg.state_dict())
        _, g_sg = _grads(sg, batch)
        _, g_half = _grads(half, batch)
        encoder = [n for n in g_sg if n.startswith(("backbone.", "projector."))]
        close = all(torch.allclose(g_sg[n], g_half[n], atol=1e-12, rtol=1e-9) for n in encoder)
        assert close is holds, predictor


def test_byol_at_momentum_zero_is_simsiam_up_to_the_losss_scale() -> None:
    """m = 0: the target is the online network without gradient, so L_BYOL = 2 + 2 L_SimSiam and its gradient is 2x."""
    batch = _views()
    simsiam = _simsiam()
    byol = BYOL(resnet_small(4), dim=16, pred_dim=4, base_momentum=0.0, momentum_schedule="constant").double()
    byol.load_state_dict(simsiam.state_dict(), strict=False)  # online = SimSiam's encoder and predictor
    ema_update(byol.target_params(), byol.online_params(), 0.0)  # target = online
    opts = [torch.optim.SGD(m.parameters(), lr=0.1) for m in (simsiam, byol)]
    for step in range(3):
        l_sim, g_sim = _grads(simsiam, batch)
        l_byol, g_byol = _grads(byol, batch)
        assert float(l_byol) == pytest.approx(2 + 2 * float(l_sim), abs=1e-12)
        assert set(g_sim) == set(g_byol)
        for name, g in g_sim.items():
            torch.testing.assert_close(g_byol[name], 2 * g, atol=1e-12, rtol=1e-9)
        for opt, m in zip(opts, (simsiam, byol), strict=True):
            for p in m.parameters():
                if p.grad is not None and m is byol:
                    p.grad /= 2  # the same step for both: the scale is the only difference
            opt.step()
        byol.after_step(step, 3)
        for t, o in zip(byol.target_params(), byol.online_params(), strict=True):
            assert torch.equal(t, o)  # theta_T <- 0 theta_T + 1 theta


def test_constant_schedule_keeps_m_and_the_update_is_the_formula() -> None:
    """theta_T <- m theta_T + (1 - m) theta at every step with m = base_momentum (the claim's m = 0.9, 0.99 runs)."""
    torch.manual_seed(0)
    byol = BYOL(resnet_small(4), dim=16, pred_dim=4, base_momentum=0.9, momentum_schedule="constant")
    with torch.no_grad():
        for p in byol.online_params():
            p.add_(1.0)
    before = [t.clone() for t in byol.target_params()]
    online = [p.clone() for p in byol.online_params()]
    byol.after_step(500, 1000)  # mid-run: a cosine schedule would have moved m
    assert byol.last_momentum == 0.9
    for t, t0, o in zip(byol.target_params(), before, online, strict=True):
        torch.testing.assert_close(t, 0.9 * t0 + 0.1 * o)


def test_the_claims_presets_and_suite() -> None:
    assert set(CLAIM_PRESETS) <= set(list_presets())
    half = resolve_config("no-stop-grad-half", "digits").method
    assert (half.name, half.stop_grad, half.params(SimSiamParams).loss_scale) == ("simsiam", False, 0.5)
    asym = resolve_config("asymmetric-no-predictor", "digits").method
    assert (asym.symmetric, asym.predictor, asym.stop_grad) == (False, "none", True)
    byol = resolve_config("byol-m0", "digits").method.params(BYOLParams)
    assert (byol.base_momentum, byol.momentum_schedule) == (0.0, "constant")
    assert resolve_config("byol", "digits").method.params(BYOLParams).momentum_schedule == "cosine"
    assert resolve_config("simsiam", "digits").method.params(SimSiamParams).loss_scale == 1.0
    assert set(CLAIM_PRESETS) <= set(load_suite("seed-claims").presets)
