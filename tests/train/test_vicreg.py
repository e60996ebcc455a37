"""VICReg's loss against the official main_vicreg.py (loss and gradients) and the paper's eq. 6 (`std_branches = "sum"`)."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F

from simsiam_tui.config import parse_config_file, resolve_config
from simsiam_tui.config.methods.vicreg import VICRegParams
from simsiam_tui.train.methods import Batch, build_method
from simsiam_tui.train.methods.vicreg import VICReg, vicreg_loss

from .conftest import tiny_config


def _official(x: torch.Tensor, y: torch.Tensor, sim: float, std: float, cov: float) -> torch.Tensor:
    """main_vicreg.py's loss after the projector, one process, written out from its reductions.

    invariance: mse over all n x d entries; each branch centred; std_j = sqrt(unbiased var_j + 1e-4);
    std_loss = mean_j relu(1 - std_x) / 2 + mean_j relu(1 - std_y) / 2 (the branches averaged);
    cov = x^T x / (n - 1); cov_loss = sum of squared off-diagonal entries / d, for x plus for y (summed).
    """
    n, d = x.shape
    repr_loss = ((x - y) ** 2).sum() / (n * d)
    x, y = x - x.mean(dim=0), y - y.mean(dim=0)
    std_x, std_y = torch.sqrt(x.var(dim=0) + 0.0001), torch.sqrt(y.var(dim=0) + 0.0001)
    std_loss = torch.relu(1 - std_x).mean() / 2 + torch.relu(1 - std_y).mean() / 2
    off = ~torch.eye(d, dtype=torch.bool)
    cov_x, cov_y = x.t() @ x / (n - 1), y.t() @ y / (n - 1)
    cov_loss = cov_x[off].pow(2).sum() / d + cov_y[off].pow(2).sum() / d
    return sim * repr_loss + std * std_loss + cov * cov_loss


def _embeddings() -> tuple[torch.Tensor, torch.Tensor]:
    """16 x 6 embeddings whose dimensions' stds straddle 1, so the hinge is on for some and off for others."""
    g = torch.Generator().manual_seed(0)
    scale = torch.tensor([0.2, 0.5, 0.9, 1.1, 1.6, 3.0], dtype=torch.float64)
    z1 = torch.randn(16, 6, generator=g, dtype=torch.float64) * scale
    z2 = z1 + 0.3 * torch.randn(16, 6, generator=g, dtype=torch.float64)
    return z1.requires_grad_(True), z2.requires_grad_(True)


@pytest.mark.parametrize(("sim", "std", "cov"), [(25.0, 25.0, 1.0), (1.0, 0.0, 0.0), (0.0, 1.0, 0.0), (0.0, 0.0, 1.0)])
def test_loss_and_gradients_equal_the_official_code_at_equal_keys(sim: float, std: float, cov: float) -> None:
    """sim_coeff, std_coeff, cov_coeff mean what --sim-coeff, --std-coeff, --cov-coeff mean in main_vicreg.py."""
    z1, z2 = _embeddings()
    ours = vicreg_loss(z1, z2, lam=sim, mu=std, nu=cov)
    g_ours = torch.autograd.grad(ours, [z1, z2])
    ref = _official(z1, z2, sim, std, cov)
    g_ref = torch.autograd.grad(ref, [z1, z2])
    assert abs(float(ours.detach()) - float(ref.detach())) < 1e-10
    for a, b in zip(g_ours, g_ref, strict=True):
        torch.testing.assert_close(a, b, atol=1e-10, rtol=0)
    assert any(float(g.abs().max()) > 1e-3 for g in g_ref)  # a real gradient, not two zeros


def test_the_method_with_the_default_section_is_the_official_loss() -> None:
    cfg = tiny_config(method={"name": "vicreg"})
    assert cfg.method.params(VICRegParams).std_branches == "mean"
    torch.manual_seed(0)
    method = build_method(cfg).double()
    assert isinstance(method, VICReg)
    g = torch.Generator().manual_seed(1)
    x1, x2 = (torch.randn(8, 3, 8, 8, generator=g, dtype=torch.float64) for _ in range(2))
    out = method(Batch([x1, x2], torch.arange(8)))
    z1, z2 = method.projector(method.backbone(x1)), method.projector(method.backbone(x2))
    assert abs(float(out.loss.detach()) - float(_official(z1, z2, 25.0, 25.0, 1.0).detach())) < 1e-10


def test_sum_is_twice_the_official_variance_term_and_the_paper_formula() -> None:
    z1, z2 = (z.detach() for z in _embeddings())
    mean, total = vicreg_loss(z1, z2, 0.0, 1.0, 0.0, "mean"), vicreg_loss(z1, z2, 0.0, 1.0, 0.0, "sum")
    assert float(total) == pytest.approx(2 * float(mean), rel=1e-12) and float(mean) > 0
    assert float(vicreg_loss(z1, z2, 0.0, 50.0, 0.0, "mean")) == float(vicreg_loss(z1, z2, 0.0, 25.0, 0.0, "sum"))
    with pytest.raises(ValueError, match="std_branches"):
        vicreg_loss(z1, z2, std_branches="half")


def _literal(z1: list[list[float]], z2: list[list[float]], lam: float, mu: float, nu: float) -> float:
    """s = 1/(n d) sum_ij (z - z')^2; v = 1/d sum_j max(0, 1 - sqrt(Var_j + 1e-4)); c = 1/d sum_{i!=j} C_ij^2."""
    n, d = len(z1), len(z1[0])
    s = sum((z1[b][j] - z2[b][j]) ** 2 for b in range(n) for j in range(d)) / (n * d)

    def v(z: list[list[float]]) -> float:
        total = 0.0
        for j in range(d):
            mean = sum(z[b][j] for b in range(n)) / n
            var = sum((z[b][j] - mean) ** 2 for b in range(n)) / (n - 1)
            total += max(0.0, 1.0 - math.sqrt(var + 1e-4))
        return total / d

    def c(z: list[list[float]]) -> float:
        means = [sum(z[b][j] for b in range(n)) / n for j in range(d)]
        total = 0.0
        for i in range(d):
            for j in range(d):
                if i != j:
                    cij = sum((z[b][i] - means[i]) * (z[b][j] - means[j]) for b in range(n)) / (n - 1)
                    total += cij**2
        return total / d

    return lam * s + mu * (v(z1) + v(z2)) + nu * (c(z1) + c(z2))


def test_sum_matches_the_papers_eq_6() -> None:
    z1 = [[0.5, -1.0, 2.0], [1.5, 0.0, -0.5], [-0.2, 0.3, 0.1], [0.9, 1.2, -1.1]]  # n=4, d=3
    z2 = [[0.4, -0.7, 1.0], [1.0, 0.2, -0.4], [0.1, 0.1, 0.3], [0.2, 0.5, -0.2]]
    got = vicreg_loss(torch.tensor(z1), torch.tensor(z2), lam=25.0, mu=25.0, nu=1.0, std_branches="sum")
    assert math.isclose(float(got), _literal(z1, z2, 25.0, 25.0, 1.0), rel_tol=1e-5)


def test_each_term_counts_with_its_own_weight() -> None:
    g = torch.Generator().manual_seed(0)
    z1, z2 = torch.randn(16, 5, generator=g) * 0.3, torch.randn(16, 5, generator=g) * 0.3  # std < 1: variance hinge on
    a, b = z1.tolist(), z2.tolist()
    for lam, mu, nu in [(1.0, 0.0, 0.0), (0.0, 1.0, 0.0), (0.0, 0.0, 1.0), (25.0, 25.0, 1.0)]:
        assert math.isclose(float(vicreg_loss(z1, z2, lam, mu, nu, "sum")), _literal(a, b, lam, mu, nu), rel_tol=1e-5)


def test_identical_well_spread_views_cost_nothing() -> None:
    # std 2 in every dim (hinge off), uncorrelated dims (covariance 0), z1 == z2 (invariance 0): the loss is 0
    z = torch.tensor([[2.0, 2.0], [2.0, -2.0], [-2.0, 2.0], [-2.0, -2.0]]) * math.sqrt(3 / 4)
    assert abs(float(vicreg_loss(z, z.clone()))) < 1e-12  # 0 up to the matmul's rounding (4e-15 seen)
    collapsed = torch.ones(4, 2)
    hinge = 1 - math.sqrt(1e-4)  # every dimension's std is sqrt(0 + eps)
    assert math.isclose(float(vicreg_loss(collapsed, collapsed)), 25.0 * hinge, rel_tol=1e-6)  # (v + v') / 2
    assert math.isclose(float(vicreg_loss(collapsed, collapsed, std_branches="sum")), 25.0 * 2 * hinge, rel_tol=1e-6)


def test_a_config_stored_before_std_branches_resumes_with_the_sum_it_trained_with(tmp_path: Path) -> None:
    """config.json as the product wrote it before the change (no std_branches) keeps its meaning, bit for bit."""
    from simsiam_tui.config import config_to_dict
    from simsiam_tui.train.methods.vicreg import covariance, variance

    data = config_to_dict(tiny_config(method={"name": "vicreg"}))
    assert data["method"]["vicreg"]["std_branches"] == "mean"  # every config written now says which
    (tmp_path / "new.json").write_text(json.dumps(data))
    assert parse_config_file((tmp_path / "new.json").read_bytes(), tmp_path / "new.json").method.params(VICRegParams).std_branches == "mean"
    del data["method"]["vicreg"]["std_branches"]  # the section as every earlier version stored it
    (tmp_path / "old.json").write_text(json.dumps(data))
    cfg = parse_config_file((tmp_path / "old.json").read_bytes(), tmp_path / "old.json")
    assert cfg.method.params(VICRegParams).std_branches == "sum"
    torch.manual_seed(0)
    method = build_method(cfg)
    g = torch.Generator().manual_seed(1)
    x1, x2 = (torch.randn(8, 3, 8, 8, generator=g) for _ in range(2))
    out = method(Batch([x1, x2], torch.arange(8)))
    z1, z2 = method.projector(method.backbone(x1)), method.projector(method.backbone(x2))
    before = 25.0 * F.mse_loss(z1, z2) + 25.0 * (variance(z1) + variance(z2)) + 1.0 * (covariance(z1) + covariance(z2))
    assert torch.equal(out.loss, before)  # the earlier version's expression, not merely close


def test_presets_say_which_convention_and_a_file_that_does_not_predates_it(tmp_path: Path) -> None:
    assert resolve_config("vicreg", "digits").method.params(VICRegParams).std_branches == "mean"
    (tmp_path / "old-vicreg.toml").write_text('[method]\nname = "vicreg"\n[method.vicreg]\nstd_coeff = 25.0\n')
    (tmp_path / "weights.toml").write_text('[method]\nname = "vicreg"\n[method.vicreg]\nsim_coeff = 10.0\n')
    assert resolve_config("old-vicreg", "digits", presets_dir=tmp_path).method.params(VICRegParams).std_branches == "sum"
    assert resolve_config("weights", "digits", presets_dir=tmp_path).method.params(VICRegParams).std_branches == "mean"
    cfg = resolve_config("vicreg", "digits", ["method.vicreg.std_branches=sum"])
    assert cfg.method.params(VICRegParams).std_branches == "sum"
