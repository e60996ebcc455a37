"""Device augmentations against torchvision's definitions: crop statistics, jitter, blur, ranges, independence."""

from __future__ import annotations

import math

import pytest
import torch
import torchvision.transforms as T
import torchvision.transforms.functional as TF

from simsiam_tui.train.augment import (
    AugmentSpec,
    DeviceAugment,
    blur_kernel_size,
    color_jitter,
    crop_boxes,
    gaussian_blur,
    resized_crop,
)

CPU = torch.device("cpu")
SCALE, RATIO = (0.2, 1.0), (3 / 4, 4 / 3)


def ks(a: torch.Tensor, b: torch.Tensor) -> float:
    """Two-sample Kolmogorov-Smirnov statistic (exact with ties: ECDFs compared at every observed value)."""
    a, b = a.double().sort().values, b.double().sort().values
    at = torch.cat([a, b]).unique()
    fa = torch.searchsorted(a, at, right=True).double() / len(a)
    fb = torch.searchsorted(b, at, right=True).double() / len(b)
    return float((fa - fb).abs().max())


def ks_bound(n: int, m: int, alpha: float = 1e-4) -> float:
    """KS critical value: a same-distribution pair exceeds it with probability about alpha."""
    return math.sqrt(-0.5 * math.log(alpha / 2)) * math.sqrt((n + m) / (n * m))


def torchvision_boxes(n: int, height: int, width: int, scale=SCALE, ratio=RATIO) -> torch.Tensor:  # noqa: ANN001
    """n draws of RandomResizedCrop.get_params as (left, top, w, h)."""
    torch.manual_seed(0)
    img = torch.empty(3, height, width)
    out = [T.RandomResizedCrop.get_params(img, list(scale), list(ratio)) for _ in range(n)]
    return torch.tensor([(j, i, w, h) for i, j, h, w in out], dtype=torch.float64)


def stats(boxes: torch.Tensor, height: int, width: int) -> dict[str, torch.Tensor]:
    left, top, w, h = boxes.double().unbind(1)
    return {"area": w * h / (height * width), "aspect": w / h, "left": left, "top": top}


@pytest.mark.parametrize("height,width", [(32, 32), (24, 40)])
def test_crop_distribution_matches_torchvision(height: int, width: int) -> None:
    n = 20_000
    ref = stats(torchvision_boxes(n, height, width), height, width)
    ours_boxes = crop_boxes(n, height, width, SCALE, RATIO, torch.Generator().manual_seed(1), CPU)
    ours = stats(ours_boxes, height, width)
    wrong = stats(
        crop_boxes(n, height, width, (0.08, 1.0), RATIO, torch.Generator().manual_seed(2), CPU), height, width
    )
    bound = ks_bound(n, n)
    for key in ("area", "aspect", "left", "top"):
        assert ks(ours[key], ref[key]) < bound, key
    # the bound has power: the default torchvision scale (0.08, 1) is rejected by a wide margin
    assert ks(wrong["area"], ref["area"]) > 4 * bound
    left, top, w, h = ours_boxes.unbind(1)
    assert (left >= 0).all() and (top >= 0).all() and (left + w <= width).all() and (top + h <= height).all()
    assert torch.equal(ours_boxes, ours_boxes.round())  # whole pixels, as torchvision


def test_crop_fallback_is_torchvisions_center_crop() -> None:
    ref = torchvision_boxes(50, 32, 32, scale=(0.9, 1.0), ratio=(3.0, 4.0)).unique(dim=0)
    ours = crop_boxes(50, 32, 32, (0.9, 1.0), (3.0, 4.0), torch.Generator().manual_seed(0), CPU).unique(dim=0)
    assert ref.tolist() == ours.tolist() == [[0.0, 10.0, 32.0, 11.0]]


def test_resized_crop_matches_torchvision_resample() -> None:
    x = torch.rand(2, 3, 16, 16)
    flip = torch.tensor([False, True])
    full = resized_crop(x, torch.tensor([[0.0, 0, 16, 16]] * 2), 16, flip)
    assert torch.allclose(full[0], x[0], atol=1e-6) and torch.allclose(full[1], TF.hflip(x[1]), atol=1e-6)
    same_size = resized_crop(x, torch.tensor([[3.0, 5, 8, 8]] * 2), 8, torch.tensor([False, False]))
    assert torch.allclose(same_size, x[..., 5:13, 3:11], atol=1e-6)
    # up-sampling a crop: equal to torchvision's bilinear resized_crop away from the crop's border
    smooth = TF.resize(torch.rand(1, 3, 6, 6), [32, 32], antialias=False)
    ours = resized_crop(smooth, torch.tensor([[4.0, 6, 12, 20]]), 32, torch.tensor([False]))
    ref = TF.resized_crop(smooth, 6, 4, 20, 12, [32, 32], antialias=False)
    assert torch.allclose(ours[..., 2:-2, 2:-2], ref[..., 2:-2, 2:-2], atol=1e-5)


def test_color_jitter_per_sample_order_matches_torchvision() -> None:
    n = 48
    g = torch.Generator().manual_seed(0)
    x = torch.rand(n, 3, 8, 8, generator=g)
    spec = AugmentSpec(size=8, mean=(0.0,) * 3, std=(1.0,) * 3, jitter_p=1.0)
    p = DeviceAugment(spec, g).sample(n, 8, 8, CPU, crop=False)
    out = color_jitter(x, p.factors, p.order)
    ops = [TF.adjust_brightness, TF.adjust_contrast, TF.adjust_saturation, TF.adjust_hue]
    for i in range(n):
        ref = x[i]
        for op in p.order[i].tolist():
            ref = ops[op](ref, float(p.factors[i, op]))
        assert torch.allclose(out[i], ref, atol=2e-3), (i, p.order[i].tolist())
    assert len({tuple(o) for o in p.order.tolist()}) > 12  # orders really vary within the batch


def test_jitter_factor_ranges_and_probabilities() -> None:
    n = 40_000
    spec = AugmentSpec(size=8, mean=(0.0,) * 3, std=(1.0,) * 3, blur_p=0.5)
    p = DeviceAugment(spec, torch.Generator().manual_seed(0)).sample(n, 32, 32, CPU)
    identity = (p.factors == torch.tensor([1.0, 1.0, 1.0, 0.0])).all(1)
    assert abs(float(identity.float().mean()) - 0.2) < 0.015  # jitter applied with p 0.8
    f = p.factors[~identity]
    lo, hi = f.min(0).values.tolist(), f.max(0).values.tolist()
    for k, (a, b) in enumerate([(0.6, 1.4)] * 3 + [(-0.1, 0.1)]):
        assert a <= lo[k] < a + 0.005 and b - 0.005 < hi[k] <= b, k  # fills [1 - 0.4, 1 + 0.4] and [-0.1, 0.1]
        assert abs(float(f[:, k].mean()) - (a + b) / 2) < 0.01
    assert (p.order.sort(1).values == torch.arange(4)).all()  # each row a permutation
    counts = torch.unique(p.order, dim=0, return_counts=True)[1]
    assert len(counts) == 24 and counts.min() > n / 24 * 0.85
    for flag, prob in ((p.flip, 0.5), (p.gray, 0.2), (p.blur, 0.5)):
        assert flag is not None and abs(float(flag.float().mean()) - prob) < 0.015
    assert 0.1 <= float(p.sigma.min()) and float(p.sigma.max()) <= 2.0


def test_parameters_independent_across_the_batch() -> None:
    n = 20_000
    spec = AugmentSpec(size=8, mean=(0.0,) * 3, std=(1.0,) * 3)
    p = DeviceAugment(spec, torch.Generator().manual_seed(0)).sample(n, 32, 32, CPU)
    assert p.boxes is not None
    area = p.boxes[:, 2] * p.boxes[:, 3]
    half = n // 2  # __call__ draws both views as one 2N batch: sample i and i + N are the two views of image i
    for a, b in ((area[:-1], area[1:]), (area[:half], area[half:]), (p.factors[:-1, 0], p.factors[1:, 0])):
        assert abs(float(torch.corrcoef(torch.stack([a, b]))[0, 1])) < 0.04
    # the first sample of many small batches follows the same law as the samples of one large batch
    aug = DeviceAugment(spec, torch.Generator().manual_seed(1))
    firsts = torch.stack([aug.sample(4, 32, 32, CPU).boxes[0] for _ in range(2000)])  # type: ignore[index]
    assert ks(firsts[:, 2] * firsts[:, 3], area) < ks_bound(2000, n)


def test_views_range_dtype_shape_and_seeding() -> None:
    mean, std = (0.4, 0.5, 0.6), (0.2, 0.25, 0.3)
    spec = AugmentSpec(size=16, mean=mean, std=std, blur_p=0.5)
    images = torch.randint(0, 256, (32, 3, 20, 20), dtype=torch.uint8)
    a, b = DeviceAugment(spec, torch.Generator().manual_seed(3)), DeviceAugment(spec, torch.Generator().manual_seed(3))
    x1, x2 = a(images)
    assert x1.shape == x2.shape == (32, 3, 16, 16) and x1.dtype == x2.dtype == torch.float32
    assert torch.equal(x1, b(images)[0]) and not torch.equal(x1, x2)
    m, s = torch.tensor(mean).view(1, 3, 1, 1), torch.tensor(std).view(1, 3, 1, 1)
    for x in (x1, x2):
        raw = x * s + m
        assert float(raw.min()) >= -1e-5 and float(raw.max()) <= 1 + 1e-5
        assert float(raw.std()) > 0.1  # not washed out
    same = a.view(images[:1].expand(8, -1, -1, -1).contiguous())
    assert not torch.allclose(same[0], same[1])  # each sample gets its own parameters
    # folder path: two views cropped on the CPU (N x 2 x 3 x S x S) get jitter, gray, blur, normalization here
    pre = torch.randint(0, 256, (5, 2, 3, 16, 16), dtype=torch.uint8)
    y1, y2 = a(pre)
    assert y1.shape == y2.shape == (5, 3, 16, 16) and y1.dtype == torch.float32


def test_gaussian_blur_matches_torchvision() -> None:
    x = torch.rand(3, 3, 32, 32)
    sigma = torch.tensor([0.1, 1.0, 2.0])
    k = blur_kernel_size(2.0, 32)
    assert k == 13
    out = gaussian_blur(x, sigma, k)
    for i in range(3):
        ref = TF.gaussian_blur(x[i : i + 1], [k, k], [float(sigma[i])] * 2)
        assert torch.allclose(out[i : i + 1], ref, atol=1e-5)


@pytest.mark.slow  # torch.compile: about a minute of compiling
def test_compiled_augmentation_matches_eager() -> None:
    """train.compile also compiles the deterministic part of the augmentation; same views."""
    pytest.importorskip("torch._inductor")
    spec = AugmentSpec(size=8, mean=(0.5,) * 3, std=(0.25,) * 3)
    images = torch.randint(0, 256, (4, 3, 8, 8), dtype=torch.uint8)
    eager = DeviceAugment(spec, torch.Generator().manual_seed(0))(images)
    compiled = DeviceAugment(AugmentSpec(**{**spec.__dict__, "compile": True}), torch.Generator().manual_seed(0))(
        images
    )
    for a, b in zip(eager, compiled, strict=True):
        assert torch.allclose(a, b, atol=1e-4)
