"""The compared architectures' mechanics: losses vs loop references, EMA, MoCo's queue, InstDisc's bank, state round trip."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F
from torch import nn
from torch.utils._python_dispatch import TorchDispatchMode

from simsiam_tui.config import resolve_config
from simsiam_tui.config.methods.byol import BYOLParams
from simsiam_tui.config.methods.instdisc import InstDiscParams
from simsiam_tui.config.methods.moco import MoCoParams
from simsiam_tui.config.methods.simclr import SimCLRParams
from simsiam_tui.config.presets import describe_preset, load_suite
from simsiam_tui.train import contrastive
from simsiam_tui.train.checkpoint import load_checkpoint, save_checkpoint
from simsiam_tui.train.contrastive import cosine_momentum, ema_update, info_nce, normalized_mse, nt_xent
from simsiam_tui.train.data import MemorySource
from simsiam_tui.train.datasets import ImageSet
from simsiam_tui.train.methods import Batch, build_method
from simsiam_tui.train.methods.byol import BYOL
from simsiam_tui.train.methods.instdisc import InstDisc, keyed_indices
from simsiam_tui.train.methods.moco import MoCo

from .conftest import tiny_config


class TinyNet(nn.Module):
    """A flatten + linear backbone: fast, and enough to exercise the methods' state."""

    def __init__(self, out_dim: int = 6) -> None:
        super().__init__()
        self.out_dim = out_dim
        self.fc = nn.Linear(3 * 4 * 4, out_dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(x.flatten(1))


def views(n: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    return torch.randn(n, 3, 4, 4, generator=g), torch.randn(n, 3, 4, 4, generator=g)


def pair(x1: torch.Tensor, x2: torch.Tensor) -> Batch:
    """The Batch the loop builds from two views (indices 0..N-1: these methods read none)."""
    return Batch([x1, x2], torch.arange(x1.shape[0]))


# -- losses against naive loops -----------------------------------------------------------------


def test_info_nce_matches_a_loop_reference() -> None:
    g = torch.Generator().manual_seed(0)
    q, k = (F.normalize(torch.randn(5, 8, generator=g), dim=1) for _ in range(2))
    neg = F.normalize(torch.randn(7, 8, generator=g), dim=1)
    mask = torch.zeros(5, 7, dtype=torch.bool)
    mask[1, 3] = mask[4, 0] = True
    t = 0.2
    for m in (None, mask):
        total = 0.0
        for i in range(5):
            pos = math.exp(float(q[i] @ k[i]) / t)
            negs = sum(math.exp(float(q[i] @ neg[j]) / t) for j in range(7) if m is None or not m[i, j])
            total += -math.log(pos / (pos + negs))
        assert float(info_nce(q, k, neg, t, m)) == pytest.approx(total / 5, rel=1e-5)


def test_nt_xent_matches_a_loop_reference_with_2n_minus_2_negatives() -> None:
    g = torch.Generator().manual_seed(1)
    z1, z2 = torch.randn(4, 6, generator=g), torch.randn(4, 6, generator=g)
    t = 0.5
    z = F.normalize(torch.cat([z1, z2]), dim=1)
    n2 = z.shape[0]
    total = 0.0
    for i in range(n2):
        j = (i + 4) % n2  # the other view of the same image
        sims = {a: math.exp(float(z[i] @ z[a]) / t) for a in range(n2) if a != i}
        assert len(sims) - 1 == n2 - 2  # one positive, 2N - 2 negatives
        total += -math.log(sims[j] / sum(sims.values()))
    assert float(nt_xent(z1, z2, t)) == pytest.approx(total / n2, rel=1e-5)


def test_normalized_mse_is_two_minus_two_cosine() -> None:
    g = torch.Generator().manual_seed(2)
    p, z = torch.randn(3, 5, generator=g), torch.randn(3, 5, generator=g)
    ref = sum(float(((F.normalize(p[i], dim=0) - F.normalize(z[i], dim=0)) ** 2).sum()) for i in range(3)) / 3
    assert float(normalized_mse(p, z)) == pytest.approx(ref, rel=1e-5)


# -- momentum updates ---------------------------------------------------------------------------


def test_ema_update_formula_is_exact() -> None:
    target, online = [torch.full((3,), 1.0), torch.full((2, 2), -2.0)], [torch.full((3,), 3.0), torch.full((2, 2), 6.0)]
    ema_update(target, online, 0.75)  # dyadic numbers: every rounding is exact
    assert torch.equal(target[0], torch.full((3,), 1.5)) and torch.equal(target[1], torch.full((2, 2), 0.0))
    g = torch.Generator().manual_seed(3)
    t, o = torch.randn(100, generator=g), torch.randn(100, generator=g)
    expected = 0.99 * t + (1 - 0.99) * o
    ema_update([t], [o], 0.99)
    torch.testing.assert_close(t, expected, rtol=0, atol=1e-7)


def test_moco_key_encoder_moves_by_the_momentum_formula() -> None:
    torch.manual_seed(0)
    model = MoCo(TinyNet(), dim=4, proj_layers=2, queue_size=8, momentum=0.9)
    assert all(torch.equal(k, q) for k, q in zip(model.key_params(), model.query_params(), strict=True))  # theta_k = theta_q
    assert all(not p.requires_grad for p in model.key_params())
    opt = torch.optim.SGD(model.param_groups()[0]["params"], lr=0.5)
    x1, x2 = views(6, 0)
    model(pair(x1, x2)).loss.backward()
    opt.step()
    before_k = [p.clone() for p in model.key_params()]
    model.after_step(0, 10)
    for k, k0, q in zip(model.key_params(), before_k, model.query_params(), strict=True):
        torch.testing.assert_close(k, 0.9 * k0 + 0.1 * q, rtol=0, atol=1e-7)
    assert any(not torch.equal(k, k0) for k, k0 in zip(model.key_params(), before_k, strict=True))


def test_byol_target_follows_the_cosine_momentum_schedule() -> None:
    assert cosine_momentum(0.996, 0, 100) == pytest.approx(0.996)
    assert cosine_momentum(0.996, 50, 100) == pytest.approx(0.998)
    assert cosine_momentum(0.996, 100, 100) == 1.0
    torch.manual_seed(0)
    model = BYOL(TinyNet(), dim=4, pred_dim=2, proj_layers=2, base_momentum=0.9)
    opt = torch.optim.SGD(model.param_groups()[0]["params"], lr=0.5)
    for step in (0, 3):
        x1, x2 = views(6, step)
        out = model(pair(x1, x2))
        assert 0.0 <= float(out.loss.detach()) <= 4.0
        out.loss.backward()
        opt.step()
        before = [p.clone() for p in model.target_params()]
        model.after_step(step, 6)
        m = 1 - (1 - 0.9) * (math.cos(math.pi * step / 6) + 1) / 2
        assert model.last_momentum == pytest.approx(m)
        for t, t0, o in zip(model.target_params(), before, model.online_params(), strict=True):
            torch.testing.assert_close(t, m * t0 + (1 - m) * o, rtol=0, atol=1e-7)
    assert not any(p.requires_grad for p in model.target_params())
    assert {id(p) for g in model.param_groups() for p in g["params"]}.isdisjoint(map(id, model.target_params()))


# -- MoCo's queue -------------------------------------------------------------------------------


def test_queue_is_fifo_and_wraps_around() -> None:
    model = MoCo(TinyNet(), dim=2, queue_size=5)
    keys = torch.arange(14, dtype=torch.float32).view(7, 2)
    model.enqueue(keys[0:2])
    model.enqueue(keys[2:4])
    assert int(model.queue_ptr) == 4 and torch.equal(model.queue[:4], keys[:4])
    model.enqueue(keys[4:6])  # slots 4 then 0: the oldest key goes first
    assert int(model.queue_ptr) == 1
    assert torch.equal(model.queue, torch.stack([keys[5], keys[1], keys[2], keys[3], keys[4]]))
    model.enqueue(torch.cat([keys, keys[:1]]))  # more keys than slots: the newest 5 stay
    assert int(model.queue_ptr) == 1
    assert set(map(tuple, model.queue.tolist())) == set(map(tuple, torch.cat([keys[3:], keys[:1]]).tolist()))


@pytest.mark.parametrize("symmetric", [False, True])
def test_queue_enqueues_after_the_loss_and_never_uses_current_keys(
    symmetric: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    torch.manual_seed(0)
    model = MoCo(TinyNet(), dim=4, queue_size=12, temperature=0.2, symmetric=symmetric)
    seen: list[torch.Tensor] = []

    def spy(q: torch.Tensor, k: torch.Tensor, negatives: torch.Tensor, t: float, mask: object = None) -> torch.Tensor:
        seen.append(negatives.clone())
        return info_nce(q, k, negatives, t, mask)  # type: ignore[arg-type]

    monkeypatch.setattr("simsiam_tui.train.methods.moco.info_nce", spy)
    for step in range(3):
        x1, x2 = views(4, step)
        queue_before, ptr_before = model.queue.clone(), int(model.queue_ptr)
        model(pair(x1, x2))
        k2, k1 = model.keys(x2), model.keys(x1)  # train-mode BN: the same keys the step computed
        new = torch.cat([k1, k2]) if symmetric else k2
        for negatives in seen:
            assert torch.equal(negatives, queue_before)  # the loss saw the queue before this step's keys
            assert not any(torch.allclose(row, key) for row in negatives for key in new)
        slots = (ptr_before + torch.arange(new.shape[0])) % 12
        torch.testing.assert_close(model.queue[slots], new)
        assert int(model.queue_ptr) == (ptr_before + new.shape[0]) % 12
        seen.clear()


def test_moco_loss_is_info_nce_against_the_queue() -> None:
    torch.manual_seed(0)
    model = MoCo(TinyNet(), dim=4, queue_size=8, temperature=0.2, symmetric=False)
    x1, x2 = views(4, 0)
    queue = model.queue.clone()
    out = model(pair(x1, x2))
    q1 = F.normalize(model.projector(model.backbone(x1)), dim=1)
    assert float(out.loss.detach()) == pytest.approx(float(info_nce(q1, model.keys(x2), queue, 0.2).detach()), rel=1e-5)


# -- InstDisc's memory bank ---------------------------------------------------------------------


def test_bank_update_formula_and_staleness() -> None:
    torch.manual_seed(0)
    model = InstDisc(TinyNet(), dim=4, num_images=10, negatives=100, temperature=0.07, bank_momentum=0.5)
    assert torch.allclose(model.bank.norm(dim=1), torch.ones(10))
    bank0 = model.bank.clone()
    x1, x2 = views(3, 0)
    index = torch.tensor([2, 5, 7])
    out = model(Batch([x1, x2], index))
    assert float(out.extras["bank_staleness"]) == 1.0  # every entry was written at init, one step ago
    f1 = F.normalize(out.z, dim=1)
    torch.testing.assert_close(model.bank[index], F.normalize(0.5 * bank0[index] + 0.5 * f1, dim=1))
    others = torch.tensor([i for i in range(10) if i not in (2, 5, 7)])
    assert torch.equal(model.bank[others], bank0[others])
    assert model.bank_step.tolist() == [0, 0, 1, 0, 0, 1, 0, 1, 0, 0] and int(model.step) == 1
    out = model(Batch(list(views(2, 1)), torch.tensor([0, 1])))
    assert float(out.extras["bank_staleness"]) == pytest.approx((7 * 2 + 3 * 1) / 10)  # step 2: 7 aged 2, 3 aged 1
    assert model.bank_step.tolist()[:3] == [2, 2, 1]


def test_bank_negatives_are_sampled_reproducibly_and_never_the_positive() -> None:
    torch.manual_seed(0)
    model = InstDisc(TinyNet(), dim=4, num_images=50, negatives=8, temperature=0.1, seed=3)
    model.step.fill_(4)
    idx_a, idx_b = model.sample_negatives(), model.sample_negatives()
    assert torch.equal(idx_a, idx_b) and idx_a.shape == (8,) and int(idx_a.max()) < 50
    x1, x2 = views(3, 0)
    index = idx_a[:3].clone()  # the batch's own entries are among the sampled negatives
    model.step.fill_(3)  # forward increments it to 4: the same draw
    bank0 = model.bank.clone()
    out = model(Batch([x1, x2], index))
    f1 = F.normalize(model.projector(model.backbone(x1)), dim=1)
    f2 = F.normalize(model.projector(model.backbone(x2)), dim=1)
    own = idx_a[None, :] == index[:, None]
    assert own.any()
    ref = 0.5 * (info_nce(f1, bank0[index], bank0[idx_a], 0.1, own) + info_nce(f2, bank0[index], bank0[idx_a], 0.1, own))
    assert float(out.loss.detach()) == pytest.approx(float(ref.detach()), rel=1e-5)


def test_instdisc_needs_indices_and_a_sized_bank() -> None:
    model = InstDisc(TinyNet(), dim=4)
    with pytest.raises(ValueError, match="not sized"):
        model(Batch(list(views(2, 0)), torch.tensor([0, 1])))
    model.bind_data(6)
    assert model.bank.shape == (6, 4) and model.bank_step.shape == (6,)
    with pytest.raises(ValueError, match=r"one train-set index per image: 2 images, indices \(0,\)"):
        model(Batch(list(views(2, 0)), torch.zeros(0, dtype=torch.long)))


def test_epoch_indices_are_the_indices_of_epoch_batches() -> None:
    images = torch.randint(0, 255, (37, 3, 2, 2), dtype=torch.uint8)
    src = MemorySource(ImageSet(images, torch.zeros(37, dtype=torch.long)), torch.device("cpu"))
    for start, rank, world in ((0, 0, 1), (2, 0, 1), (1, 1, 2)):
        batches = list(src.epoch_batches(3, 7, 5, start, rank, world))
        indices = list(src.epoch_indices(3, 7, 5, start, rank, world))
        assert len(batches) == len(indices) > 0
        assert all(torch.equal(b, images[i]) for b, i in zip(batches, indices, strict=True))


# -- the checkpoint keeps queue, bank and target ------------------------------------------------


@pytest.mark.parametrize("name", ["simclr", "instdisc", "moco", "byol"])
def test_state_round_trip_through_the_checkpoint_is_bit_identical(name: str, tmp_path: Path) -> None:
    cfg = tiny_config(method={
        "name": name, "moco": {"queue_size": 48, "momentum": 0.9}, "instdisc": {"negatives": 20},
        "byol": {"base_momentum": 0.9},
    })

    def build(seed: int) -> torch.nn.Module:
        torch.manual_seed(seed)
        m = build_method(cfg)
        m.bind_data(60)
        return m

    def step(m: torch.nn.Module, opt: torch.optim.Optimizer, i: int) -> torch.Tensor:
        x1, x2 = (torch.randn(16, 3, 8, 8, generator=torch.Generator().manual_seed(i)) for _ in range(2))
        out = m(Batch([x1, x2], torch.arange(16) + 3 * i))
        opt.zero_grad()
        out.loss.backward()
        opt.step()
        m.after_step(i, 10)
        return out.loss.detach()

    a = build(0)
    opt_a = torch.optim.SGD(a.param_groups()[0]["params"], lr=0.1, momentum=0.9)
    for i in range(3):
        step(a, opt_a, i)
    save_checkpoint(tmp_path / "last.pt", {"model": a.state_dict(), "optimizer": opt_a.state_dict()})
    b = build(1)
    ckpt = load_checkpoint(tmp_path / "last.pt")
    assert ckpt is not None
    b.load_state_dict(ckpt["model"])
    opt_b = torch.optim.SGD(b.param_groups()[0]["params"], lr=0.1, momentum=0.9)
    opt_b.load_state_dict(ckpt["optimizer"])
    sa, sb = a.state_dict(), b.state_dict()
    extra = {"moco": ("queue", "queue_ptr", "key_backbone."), "instdisc": ("bank", "bank_step", "step"),
             "byol": ("target_backbone.", "target_projector.")}.get(name, ())
    assert all(any(k.startswith(e) for k in sa) for e in extra)  # the state lives in the state_dict
    for k in sa:
        assert torch.equal(sa[k], sb[k]), k
    assert torch.equal(step(a, opt_a, 3), step(b, opt_b, 3))  # the next step is the same too
    for k, v in a.state_dict().items():
        assert torch.equal(v, b.state_dict()[k]), k


# -- presets ------------------------------------------------------------------------------------


def test_presets_and_suite() -> None:
    suite = load_suite("architectures")
    assert suite.presets == ["end-to-end", "memory-bank", "momentum", "simsiam", "byol"]
    for preset in suite.presets:
        description, paper = describe_preset(preset)
        assert description and paper
    assert resolve_config("end-to-end", "cifar10").method.name == "simclr"
    simclr = {s: resolve_config("end-to-end", s).method.params(SimCLRParams) for s in ("cifar10", "imagenet", "digits")}
    assert simclr["cifar10"].temperature == 0.5
    assert simclr["imagenet"].temperature == 0.1
    moco = {s: resolve_config("momentum", s).method.params(MoCoParams) for s in ("cifar10", "imagenet", "digits")}
    assert (moco["cifar10"].momentum, moco["cifar10"].queue_size, moco["cifar10"].temperature) == (0.99, 4096, 0.2)
    assert (moco["imagenet"].momentum, moco["imagenet"].queue_size) == (0.999, 65536)
    assert moco["digits"].queue_size <= 1347
    assert resolve_config("memory-bank", "cifar10").method.name == "instdisc"
    bank = resolve_config("memory-bank", "cifar10").method.params(InstDiscParams)
    assert (bank.negatives, bank.temperature, bank.bank_momentum) == (4096, 0.07, 0.5)
    assert resolve_config("memory-bank", "digits").method.params(InstDiscParams).negatives <= 1347
    byol_cfg = resolve_config("byol", "imagenet").method
    byol = byol_cfg.params(BYOLParams)
    assert (byol_cfg.name, byol.base_momentum) == ("byol", 0.996)
    assert contrastive.cosine_momentum(byol.base_momentum, 10, 10) == 1.0


def test_bank_negatives_are_uniform_differ_by_step_and_are_drawn_without_a_read_back() -> None:
    draws = torch.stack([keyed_indices(3, torch.tensor(step), 64, 50) for step in range(1, 201)])  # 200 x 64
    assert not torch.equal(draws[0], draws[1]) and torch.equal(draws[0], keyed_indices(3, torch.tensor(1), 64, 50))
    assert not torch.equal(draws[0], keyed_indices(4, torch.tensor(1), 64, 50))  # another seed, another stream
    counts = torch.bincount(draws.flatten(), minlength=50).double()
    expected = draws.numel() / 50
    chi2 = float(((counts - expected) ** 2 / expected).sum())
    assert chi2 < 90  # 49 degrees of freedom: p < 0.001 at 85; a biased or constant draw is in the thousands

    class ReadBacks(TorchDispatchMode):
        """Counts values read from a tensor into Python (`int(t)`, `.item()`): on a GPU, each waits for it."""

        count = 0

        def __torch_dispatch__(self, func, types, args=(), kwargs=None):  # noqa: ANN001, ANN204
            if func is torch.ops.aten._local_scalar_dense.default:
                ReadBacks.count += 1
            return func(*args, **(kwargs or {}))

    torch.manual_seed(0)
    model = InstDisc(TinyNet(), dim=4, num_images=50, negatives=8, temperature=0.1, seed=3)
    with ReadBacks():
        model(Batch(list(views(3, 0)), torch.tensor([0, 1, 2])))
    assert ReadBacks.count == 0
