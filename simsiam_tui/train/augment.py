"""Batched device-side augmentations on uint8 images with per-sample random parameters (the paper's recipe)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import torch
import torch.nn.functional as F

GRAY_WEIGHTS = (0.299, 0.587, 0.114)


@dataclass
class AugmentSpec:
    """The SimSiam augmentation recipe; CIFAR uses no blur."""

    size: int
    mean: Sequence[float]
    std: Sequence[float]
    scale: tuple[float, float] = (0.2, 1.0)
    ratio: tuple[float, float] = (3 / 4, 4 / 3)
    flip_p: float = 0.5
    jitter: tuple[float, float, float, float] = (0.4, 0.4, 0.4, 0.1)  # brightness contrast saturation hue
    jitter_p: float = 0.8
    gray_p: float = 0.2
    blur_p: float = 0.0
    blur_sigma: tuple[float, float] = (0.1, 2.0)


def _uniform(n: int, lo: float, hi: float, g: torch.Generator, device: torch.device) -> torch.Tensor:
    return lo + (hi - lo) * torch.rand(n, generator=g, device=device)


def crop_boxes(
    n: int, scale: tuple[float, float], ratio: tuple[float, float], g: torch.Generator, device: torch.device,
    tries: int = 10,
) -> torch.Tensor:
    """RandomResizedCrop boxes as fractions of a square image: N x 4 (center x, center y, width, height).

    Like torchvision: area ~ U(scale), log aspect ~ U(log ratio), first of `tries` that fits,
    else the whole image.
    """
    area = _uniform(n * tries, *scale, g, device).view(n, tries)
    log_r = _uniform(n * tries, math.log(ratio[0]), math.log(ratio[1]), g, device).view(n, tries)
    r = log_r.exp()
    w, h = (area * r).sqrt(), (area / r).sqrt()  # N x tries, fractions of the side
    ok = (w <= 1.0) & (h <= 1.0)
    first = torch.where(ok.any(1), ok.float().argmax(1), torch.full((n,), -1, device=device))
    idx = first.clamp(min=0).unsqueeze(1)
    w = torch.where(first >= 0, w.gather(1, idx).squeeze(1), torch.ones(n, device=device))
    h = torch.where(first >= 0, h.gather(1, idx).squeeze(1), torch.ones(n, device=device))
    cx = w / 2 + (1 - w) * torch.rand(n, generator=g, device=device)
    cy = h / 2 + (1 - h) * torch.rand(n, generator=g, device=device)
    return torch.stack([cx, cy, w, h], dim=1)


def resized_crop(x: torch.Tensor, boxes: torch.Tensor, size: int, flip: torch.Tensor) -> torch.Tensor:
    """Crop each image to its box, resize to size x size (bilinear), mirror where `flip`: N x C x S x S."""
    n = x.shape[0]
    cx, cy, w, h = boxes.unbind(1)
    sx = torch.where(flip, -w, w)
    theta = torch.zeros(n, 2, 3, device=x.device, dtype=x.dtype)
    theta[:, 0, 0], theta[:, 0, 2] = sx, 2 * cx - 1
    theta[:, 1, 1], theta[:, 1, 2] = h, 2 * cy - 1
    grid = F.affine_grid(theta, [n, x.shape[1], size, size], align_corners=False)
    return F.grid_sample(x, grid, mode="bilinear", padding_mode="reflection", align_corners=False)


def grayscale(x: torch.Tensor) -> torch.Tensor:
    """Luma of RGB images, N x 1 x H x W."""
    w = torch.tensor(GRAY_WEIGHTS, device=x.device, dtype=x.dtype).view(1, 3, 1, 1)
    return (x * w).sum(dim=1, keepdim=True)


def rgb_to_hsv(x: torch.Tensor) -> torch.Tensor:
    """RGB in [0, 1] to HSV in [0, 1] (N x 3 x H x W)."""
    r, g, b = x.unbind(1)
    v, _ = x.max(dim=1)
    c = v - x.min(dim=1).values  # chroma
    s = torch.where(v > 0, c / v.clamp(min=1e-8), torch.zeros_like(v))
    cd = c.clamp(min=1e-8)
    h = torch.where(v == r, ((g - b) / cd) % 6, torch.where(v == g, (b - r) / cd + 2, (r - g) / cd + 4))
    h = torch.where(c > 0, h / 6, torch.zeros_like(h))
    return torch.stack([h, s, v], dim=1)


def hsv_to_rgb(x: torch.Tensor) -> torch.Tensor:
    """HSV in [0, 1] to RGB: channel n = v - v s max(0, min(k, 4 - k, 1)), k = (n + 6h) mod 6."""
    h, s, v = x.unbind(1)
    out = []
    for n in (5.0, 3.0, 1.0):
        k = (n + 6 * h) % 6
        out.append(v - v * s * torch.clamp(torch.minimum(k, 4 - k), 0, 1))
    return torch.stack(out, dim=1)


def _col(t: torch.Tensor) -> torch.Tensor:
    return t.view(-1, 1, 1, 1)


def color_jitter(
    x: torch.Tensor, factors: torch.Tensor, order: torch.Tensor
) -> torch.Tensor:
    """ColorJitter with per-sample factors (N x 4: brightness, contrast, saturation, hue shift) and order (N x 4)."""
    x = x.clone()
    for pos in range(4):
        for op in range(4):
            sel = (order[:, pos] == op).nonzero().squeeze(1)
            if sel.numel() == 0:
                continue
            xs, f = x[sel], factors[sel, op]
            if op == 0:  # brightness: blend with black
                xs = xs * _col(f)
            elif op == 1:  # contrast: blend with the mean gray level
                m = grayscale(xs).mean(dim=(1, 2, 3), keepdim=True)
                xs = m + _col(f) * (xs - m)
            elif op == 2:  # saturation: blend with the grayscale image
                gray = grayscale(xs)
                xs = gray + _col(f) * (xs - gray)
            else:  # hue: rotate the hue channel
                hsv = rgb_to_hsv(xs)
                hue = (hsv[:, 0] + f.view(-1, 1, 1)) % 1.0
                xs = hsv_to_rgb(torch.stack([hue, hsv[:, 1], hsv[:, 2]], dim=1))
            x.index_copy_(0, sel, xs.clamp(0, 1))
    return x


def gaussian_blur(x: torch.Tensor, sigma: torch.Tensor) -> torch.Tensor:
    """Separable Gaussian blur with a per-sample sigma (pixels), kernel about 10% of the side."""
    n, c, hgt, wid = x.shape
    k = max(3, int(0.1 * hgt) // 2 * 2 + 1)
    r = torch.arange(k, device=x.device, dtype=x.dtype) - k // 2
    ker = torch.exp(-(r.view(1, -1) ** 2) / (2 * sigma.view(-1, 1) ** 2))  # N x k
    ker = (ker / ker.sum(1, keepdim=True)).repeat_interleave(c, dim=0)  # N*C x k
    y = x.reshape(1, n * c, hgt, wid)
    y = F.conv2d(F.pad(y, (k // 2, k // 2, 0, 0), mode="reflect"), ker.view(n * c, 1, 1, k), groups=n * c)
    y = F.conv2d(F.pad(y, (0, 0, k // 2, k // 2), mode="reflect"), ker.view(n * c, 1, k, 1), groups=n * c)
    return y.view(n, c, hgt, wid)


class DeviceAugment:
    """Two random views of a uint8 batch, computed on the batch's device with one seeded generator."""

    def __init__(self, spec: AugmentSpec, generator: torch.Generator) -> None:
        self.spec = spec
        self.g = generator

    def _normalize(self, x: torch.Tensor) -> torch.Tensor:
        mean = torch.tensor(self.spec.mean, device=x.device, dtype=x.dtype).view(1, -1, 1, 1)
        std = torch.tensor(self.spec.std, device=x.device, dtype=x.dtype).view(1, -1, 1, 1)
        return (x - mean) / std

    def view(self, images: torch.Tensor) -> torch.Tensor:
        """One augmented view: uint8 N x 3 x H x W -> normalized float N x 3 x S x S."""
        s, g, dev = self.spec, self.g, images.device
        n = images.shape[0]
        x = images.float() / 255.0
        flip = torch.rand(n, generator=g, device=dev) < s.flip_p
        x = resized_crop(x, crop_boxes(n, s.scale, s.ratio, g, dev), s.size, flip)
        b, c, sat, hue = s.jitter
        apply = torch.rand(n, generator=g, device=dev) < s.jitter_p
        factors = torch.stack(
            [
                _uniform(n, max(0.0, 1 - b), 1 + b, g, dev),
                _uniform(n, max(0.0, 1 - c), 1 + c, g, dev),
                _uniform(n, max(0.0, 1 - sat), 1 + sat, g, dev),
                _uniform(n, -hue, hue, g, dev),
            ],
            dim=1,
        )  # N x 4
        factors = torch.where(apply.unsqueeze(1), factors, torch.tensor([1.0, 1.0, 1.0, 0.0], device=dev))
        order = torch.rand(n, 4, generator=g, device=dev).argsort(dim=1)  # a random op order per sample
        x = color_jitter(x, factors, order)
        gray = torch.rand(n, generator=g, device=dev) < s.gray_p
        x = torch.where(_col(gray), grayscale(x).expand_as(x), x)
        if s.blur_p > 0:
            blur = torch.rand(n, generator=g, device=dev) < s.blur_p
            sigma = _uniform(n, *s.blur_sigma, g, dev)
            x = torch.where(_col(blur), gaussian_blur(x, sigma), x)
        return self._normalize(x)

    def __call__(self, images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Two independent views (x1, x2) of the same uint8 batch."""
        return self.view(images), self.view(images)

    def prepare_eval(self, images: torch.Tensor) -> torch.Tensor:
        """Deterministic eval transform: center crop (or resize) to S x S, normalize."""
        x = images.float() / 255.0
        size, hgt = self.spec.size, images.shape[-1]
        if hgt > size:
            off = (hgt - size) // 2
            x = x[..., off : off + size, off : off + size]
        elif hgt < size:
            x = F.interpolate(x, size=(size, size), mode="bilinear", align_corners=False)
        return self._normalize(x)
