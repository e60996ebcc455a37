"""Gradient identities of SimSiam's switches: stop-grad, predictor kinds, sg-encoder-mlp."""

from __future__ import annotations

import torch
from torch import nn

from simsiam_tui.train.backbones import resnet_small
from simsiam_tui.train.methods import Batch, build_method
from simsiam_tui.train.methods.simsiam import SimSiam
from simsiam_tui.train.optim import build_optimizer

from .conftest import tiny_config


def _method(**kw: object) -> SimSiam:
    torch.manual_seed(0)
    return SimSiam(resnet_small(4), dim=16, pred_dim=4, **kw)  # type: ignore[arg-type]


def _views(dtype: torch.dtype = torch.float32) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(1)
    return torch.randn(8, 3, 8, 8, generator=g, dtype=dtype), torch.randn(8, 3, 8, 8, generator=g, dtype=dtype)


def pair(x1: torch.Tensor, x2: torch.Tensor) -> Batch:
    """The Batch the loop builds from two views (indices 0..N-1: these methods read none)."""
    return Batch([x1, x2], torch.arange(x1.shape[0]))


def _grads(m: nn.Module, x1: torch.Tensor, x2: torch.Tensor) -> dict[str, torch.Tensor]:
    m.zero_grad(set_to_none=True)
    m(pair(x1, x2)).loss.backward()
    return {n: p.grad.clone() for n, p in m.named_parameters() if p.grad is not None}


def test_no_predictor_stop_grad_gradient_is_half() -> None:
    """The paper's identity: without h, sym. loss with sg has exactly half the gradient of the loss without."""
    x1, x2 = _views(torch.float64)
    with_sg = _method(predictor="none", stop_grad=True).double()
    without = _method(predictor="none", stop_grad=False).double()
    without.load_state_dict(with_sg.state_dict())
    g_sg, g_full = _grads(with_sg, x1, x2), _grads(without, x1, x2)
    encoder = [n for n, _ in with_sg.named_parameters() if n.startswith(("backbone.", "projector."))]
    assert encoder and set(encoder) <= set(g_sg) and set(g_sg) == set(g_full)
    for name in encoder:
        assert torch.allclose(g_sg[name], 0.5 * g_full[name], atol=1e-6, rtol=0), name
    assert any(g.abs().max() > 1e-6 for g in g_full.values())


def test_stop_grad_blocks_target_branch_and_without_it_gradients_flow() -> None:
    x1, x2 = _views()
    for stop_grad in (True, False):
        m = _method(stop_grad=stop_grad)
        seen: list[torch.Tensor] = []
        orig = m.projector.forward

        def spy(h: torch.Tensor, orig: object = orig, seen: list = seen) -> torch.Tensor:
            z = orig(h)  # type: ignore[operator]
            z.retain_grad()
            seen.append(z)
            return z

        m.projector.forward = spy  # type: ignore[method-assign]
        out = m(pair(x1, x2))
        # the loss as a function of the targets only: remove the predictor path's contribution
        z1, z2 = seen
        p1, p2 = m.predictor(z1.detach()), m.predictor(z2.detach())
        t1, t2 = (z1.detach(), z2.detach()) if stop_grad else (z1, z2)
        loss_through_targets = 0.5 * m.similarity(p1.detach(), t2) + 0.5 * m.similarity(p2.detach(), t1)
        if stop_grad:
            assert not loss_through_targets.requires_grad  # sg: no path from the loss into the targets
        else:
            grads = torch.autograd.grad(loss_through_targets, [z1, z2])
            assert all(g.abs().sum() > 0 for g in grads)
        out.loss.backward()
        assert all(p.grad is not None for p in m.backbone.parameters())


def test_fixed_random_predictor_is_bit_identical_after_training() -> None:
    cfg = tiny_config(method={"predictor": "fixed-random"})
    torch.manual_seed(0)
    m = build_method(cfg)
    before = {k: v.clone() for k, v in m.predictor.state_dict().items() if "num_batches" not in k}
    opt = build_optimizer(m, cfg, 16)
    assert not any(p.requires_grad for p in m.predictor.parameters())
    in_opt = {id(p) for g in opt.param_groups for p in g["params"]}
    assert not any(id(p) in in_opt for p in m.predictor.parameters())
    x1, x2 = torch.randn(16, 3, 8, 8), torch.randn(16, 3, 8, 8)
    for _ in range(3):
        opt.zero_grad()
        m(pair(x1, x2)).loss.backward()
        opt.step()
    after = {k: v for k, v in m.predictor.state_dict().items() if "num_batches" not in k}
    for k in before:
        assert torch.equal(before[k], after[k]), k
    assert all(p.grad is None for p in m.predictor.parameters())


def test_sg_encoder_mlp_gradients_reach_both_mlps_never_the_target_encoder_path() -> None:
    x1, x2 = _views()
    m = _method(stop_grad_at="encoder")
    assert m.target_mlp is not None
    out = m(pair(x1, x2))
    out.loss.backward()
    for part in (m.projector, m.predictor, m.target_mlp):
        assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in part.parameters())
    # the encoder's gradient equals the one through the online branch alone (target input detached)
    g_full = {n: p.grad.clone() for n, p in m.backbone.named_parameters()}
    m.zero_grad(set_to_none=True)
    h1, h2 = m.backbone(x1), m.backbone(x2)
    z1, z2 = m.projector(h1), m.projector(h2)
    t1, t2 = m.target_mlp(h1.detach()), m.target_mlp(h2.detach())
    online_only = 0.5 * m.similarity(m.predictor(z1), t2.detach()) + 0.5 * m.similarity(m.predictor(z2), t1.detach())
    online_only.backward()
    for n, p in m.backbone.named_parameters():
        assert torch.allclose(g_full[n], p.grad, atol=1e-6), n


def test_param_groups_split_predictor_for_fix_pred_lr() -> None:
    m = _method()
    groups = {g["name"]: g for g in m.param_groups()}
    assert groups["predictor"]["fix_lr"] and not groups["encoder"]["fix_lr"]
    n = sum(len(g["params"]) for g in groups.values())
    assert n == len(list(m.parameters()))


def test_sg_after_encoder_two_mlps_stops_after_the_projector() -> None:
    """The second reading: P1 f(x1) vs P2 sg(f(x2)), f = backbone + projector; the stop sits after f."""
    x1, x2 = _views()
    m = _method(stop_grad_at="projector")
    assert m.target_mlp is not None
    m(pair(x1, x2)).loss.backward()
    for part in (m.backbone, m.projector, m.predictor, m.target_mlp):  # P1 and P2 both learn, and f
        assert all(p.grad is not None for p in part.parameters())
        assert any(p.grad.abs().sum() > 0 for p in part.parameters())  # type: ignore[union-attr]
    g_full = {n: p.grad.clone() for n, p in m.named_parameters() if p.grad is not None}
    # f's gradient (backbone AND projector) is the online branch's alone: targets as constants change nothing
    m.zero_grad(set_to_none=True)
    z1, z2 = m.projector(m.backbone(x1)), m.projector(m.backbone(x2))
    t1, t2 = m.target_mlp(z1.detach()).detach(), m.target_mlp(z2.detach()).detach()
    (0.5 * m.similarity(m.predictor(z1), t2) + 0.5 * m.similarity(m.predictor(z2), t1)).backward()
    for n, p in [*m.backbone.named_parameters("backbone"), *m.projector.named_parameters("projector")]:
        assert torch.allclose(g_full[n], p.grad, atol=1e-6), n
    # and P2's gradient comes through its own output only: the target branch from sg(f(x)) on
    m.zero_grad(set_to_none=True)
    z1, z2 = (z.detach() for z in (z1, z2))
    p1, p2 = m.predictor(z1).detach(), m.predictor(z2).detach()
    (0.5 * m.similarity(p1, m.target_mlp(z2)) + 0.5 * m.similarity(p2, m.target_mlp(z1))).backward()
    for n, p in m.target_mlp.named_parameters("target_mlp"):
        assert torch.allclose(g_full[n], p.grad, atol=1e-6), n
    # unlike sg-encoder-mlp, the projector is shared by both branches' inputs, and P2 is predictor-shaped
    assert isinstance(m.target_mlp[-1], nn.Linear) and m.target_mlp[0].out_features == 4
    groups = {g["name"]: g for g in m.param_groups()}
    assert {id(p) for p in m.target_mlp.parameters()} <= {id(p) for p in groups["predictor"]["params"]}


def test_the_two_readings_differ_where_the_stop_is() -> None:
    """sg-encoder-mlp stops at the backbone: its projector gets no gradient from the target branch either."""
    x1, x2 = _views()
    enc, proj = _method(stop_grad_at="encoder"), _method(stop_grad_at="projector")
    assert enc.target_mlp is not None and proj.target_mlp is not None
    # sg-encoder-mlp's target MLP reads the backbone (C features), the new reading's P2 reads z (d = 16)
    assert enc.target_mlp[0].in_features == int(enc.backbone.out_dim)  # type: ignore[arg-type]
    assert proj.target_mlp[0].in_features == 16
    out = proj(pair(x1, x2))
    assert out.loss.requires_grad and out.z.shape == (8, 16)
