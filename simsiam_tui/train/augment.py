"""Batched device-side augmentations on uint8 images with per-sample random parameters (the paper's recipe).

Every op follows torchvision's definition (RandomResizedCrop.get_params, ColorJitter with a per-sample
random op order, the tensor adjust_* blends, RandomGrayscale) but runs on the whole batch at once with
no host-device synchronization, so a CUDA step never waits on the augmentation. Differences, all small:
the crop is resampled bilinearly by one grid_sample (no antialias: in-memory sets are up-sampled),
and blur uses a separable kernel of radius 3 sigma_max instead of PIL's box approximation.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import torch
import torch.nn.functional as F

GRAY_WEIGHTS = (0.2989, 0.587, 0.114)  # torchvision's rgb_to_grayscale on tensors
BRIGHTNESS, CONTRAST, SATURATION, HUE = range(4)


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
    blur_sigma: tuple[float, float] = (0.1, 2.0)  # pixels, as the paper's PIL GaussianBlur radius
    compile: bool = False  # torch.compile the deterministic part (train.compile): fused kernels, several x faster


_CONSTS: dict[tuple[tuple[float, ...], torch.device, torch.dtype], torch.Tensor] = {}


def _const(values: Sequence[float], device: torch.device, dtype: torch.dtype = torch.float32) -> torch.Tensor:
    """A small constant tensor, cached per device: no host-to-device copy (a CUDA sync) per batch."""
    key = (tuple(float(v) for v in values), torch.device(device), dtype)
    if key not in _CONSTS:
        _CONSTS[key] = torch.tensor(key[0], dtype=dtype).to(device)
    return _CONSTS[key]


def _uniform(
    shape: int | tuple[int, ...], lo: float, hi: float, g: torch.Generator, device: torch.device
) -> torch.Tensor:
    size = (shape,) if isinstance(shape, int) else shape
    return lo + (hi - lo) * torch.rand(size, generator=g, device=device)


def crop_boxes(
    n: int,
    height: int,
    width: int,
    scale: tuple[float, float],
    ratio: tuple[float, float],
    g: torch.Generator,
    device: torch.device,
    tries: int = 10,
) -> torch.Tensor:
    """RandomResizedCrop.get_params for n images at once: N x 4 (left, top, width, height) in whole pixels.

    As torchvision: target area ~ U(scale) x H W, log aspect ~ U(log ratio), w and h rounded; the first
    of `tries` that fits is taken, with a uniform integer offset; else the ratio-clamped center crop.
    """
    area = _uniform((n, tries), *scale, g, device) * (height * width)
    aspect = _uniform((n, tries), math.log(ratio[0]), math.log(ratio[1]), g, device).exp()
    w, h = (area * aspect).sqrt().round(), (area / aspect).sqrt().round()  # N x tries
    ok = (w > 0) & (w <= width) & (h > 0) & (h <= height)
    first = ok.to(torch.uint8).argmax(1, keepdim=True)  # the first fitting try (0 when none fits)
    w, h = w.gather(1, first).squeeze(1), h.gather(1, first).squeeze(1)
    u = torch.rand(n, 2, generator=g, device=device)
    top = (u[:, 0] * (height - h + 1)).floor().clamp(max=height - h)
    left = (u[:, 1] * (width - w + 1)).floor().clamp(max=width - w)
    in_ratio = width / height  # fallback: torchvision's center crop
    if in_ratio < min(ratio):
        fw, fh = float(width), float(round(width / min(ratio)))
    elif in_ratio > max(ratio):
        fw, fh = float(round(height * max(ratio))), float(height)
    else:
        fw, fh = float(width), float(height)
    fits = ok.any(1)
    fallback = ((width - fw) // 2, (height - fh) // 2, fw, fh)
    return torch.stack([torch.where(fits, v, f) for v, f in zip((left, top, w, h), fallback, strict=True)], dim=1)


def resized_crop(x: torch.Tensor, boxes: torch.Tensor, size: int, flip: torch.Tensor) -> torch.Tensor:
    """Crop each image to its pixel box, resize to size x size (bilinear), mirror where `flip`: N x C x S x S."""
    n, c, hgt, wid = x.shape
    left, top, w, h = boxes.to(x.dtype).unbind(1)
    theta = torch.zeros(n, 2, 3, device=x.device, dtype=x.dtype)  # output [-1, 1] -> input [-1, 1]
    theta[:, 0, 0] = torch.where(flip, -w, w) / wid
    theta[:, 0, 2] = (2 * left + w) / wid - 1
    theta[:, 1, 1] = h / hgt
    theta[:, 1, 2] = (2 * top + h) / hgt - 1
    grid = F.affine_grid(theta, [n, c, size, size], align_corners=False)
    return F.grid_sample(x, grid, mode="bilinear", padding_mode="border", align_corners=False)


def grayscale(x: torch.Tensor) -> torch.Tensor:
    """Luma of RGB images, N x 1 x H x W."""
    w = _const(GRAY_WEIGHTS, x.device, x.dtype)
    return torch.einsum("nchw,c->nhw", x, w).unsqueeze(1)  # one pass (strided channel sums are 4x slower on CPU)


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


def _blend_step(x: torch.Tensor, op: torch.Tensor, f: torch.Tensor) -> torch.Tensor:
    """Per sample one of brightness / contrast / saturation (op 0, 1, 2; else identity): clamp(f x + (1 - f) ref).

    The three are torchvision's blends with black, the mean gray level, and the grayscale image.
    """
    gray = grayscale(x)  # N x 1 x H x W
    mean = gray.mean(dim=(1, 2, 3), keepdim=True) * _col(op == CONTRAST)  # 0 for brightness (black)
    ref = torch.where(_col(op == SATURATION), gray, mean)
    f = _col(torch.where(op <= SATURATION, f, torch.ones_like(f)))
    return torch.addcmul(ref, f, x - ref).clamp_(0, 1)


def color_jitter(x: torch.Tensor, factors: torch.Tensor, order: torch.Tensor) -> torch.Tensor:
    """ColorJitter with per-sample factors (N x 4: brightness, contrast, saturation, hue shift) and order (N x 4).

    Exactly torchvision's result for each sample's op order, without splitting the batch: the blends
    before the hue shift run position by position, then one hue shift for all, then the blends after it.
    """
    hue_pos = (order == HUE).to(torch.uint8).argmax(1)  # N
    for pos in range(3):  # blends ahead of the hue shift
        op = torch.where(hue_pos > pos, order[:, pos], torch.full_like(order[:, pos], HUE))
        x = _blend_step(x, op, factors.gather(1, op.unsqueeze(1)).squeeze(1))
    hsv = rgb_to_hsv(x)
    hue = (hsv[:, 0] + factors[:, HUE].view(-1, 1, 1)) % 1.0
    x = hsv_to_rgb(torch.stack([hue, hsv[:, 1], hsv[:, 2]], dim=1)).clamp(0, 1)
    for pos in range(1, 4):  # blends after it
        op = torch.where(hue_pos < pos, order[:, pos], torch.full_like(order[:, pos], HUE))
        x = _blend_step(x, op, factors.gather(1, op.unsqueeze(1)).squeeze(1))
    return x


def blur_kernel_size(sigma_max: float, side: int) -> int:
    """Odd kernel size covering 3 sigma_max on each side, at most the image side."""
    k = 2 * math.ceil(3 * sigma_max) + 1
    return max(3, min(k, side - 1 if side % 2 == 0 else side))


def gaussian_blur(x: torch.Tensor, sigma: torch.Tensor, k: int) -> torch.Tensor:
    """Separable Gaussian blur with a per-sample sigma (pixels) and a k-tap kernel, reflect padding."""
    n, c, hgt, wid = x.shape
    r = torch.arange(k, device=x.device, dtype=x.dtype) - k // 2
    ker = torch.exp(-(r.view(1, -1) ** 2) / (2 * sigma.view(-1, 1).to(x.dtype) ** 2))  # N x k
    ker = (ker / ker.sum(1, keepdim=True)).repeat_interleave(c, dim=0)  # N*C x k
    y = x.reshape(1, n * c, hgt, wid)
    y = F.conv2d(F.pad(y, (k // 2, k // 2, 0, 0), mode="reflect"), ker.view(n * c, 1, 1, k), groups=n * c)
    y = F.conv2d(F.pad(y, (0, 0, k // 2, k // 2), mode="reflect"), ker.view(n * c, 1, k, 1), groups=n * c)
    return y.view(n, c, hgt, wid)


@dataclass
class ViewParams:
    """The random parameters of one batch of views (all per sample; tests inspect them)."""

    boxes: torch.Tensor | None  # N x 4 pixel boxes (None when the views come pre-cropped)
    flip: torch.Tensor | None  # N bool
    factors: torch.Tensor  # N x 4 jitter factors (identity where jitter is not applied)
    order: torch.Tensor  # N x 4 jitter op order
    gray: torch.Tensor  # N bool
    blur: torch.Tensor  # N bool
    sigma: torch.Tensor  # N


class DeviceAugment:
    """Two random views of a uint8 batch, computed on the batch's device with one seeded generator."""

    def __init__(self, spec: AugmentSpec, generator: torch.Generator) -> None:
        self.spec = spec
        self.g = generator
        self._apply = torch.compile(self._apply_eager, dynamic=False) if spec.compile else self._apply_eager

    def _normalize(self, x: torch.Tensor) -> torch.Tensor:
        mean = _const(self.spec.mean, x.device, x.dtype).view(1, -1, 1, 1)
        std = _const(self.spec.std, x.device, x.dtype).view(1, -1, 1, 1)
        return (x - mean) / std

    def sample(self, n: int, height: int, width: int, device: torch.device, crop: bool = True) -> ViewParams:
        """Draw the parameters of n views (crop and flip only when `crop`)."""
        s, g = self.spec, self.g
        boxes = crop_boxes(n, height, width, s.scale, s.ratio, g, device) if crop else None
        flip = torch.rand(n, generator=g, device=device) < s.flip_p if crop else None
        b, c, sat, hue = s.jitter
        lo = (max(0.0, 1 - b), max(0.0, 1 - c), max(0.0, 1 - sat), -hue)
        span = tuple(hi - low for hi, low in zip((1 + b, 1 + c, 1 + sat, hue), lo, strict=True))
        factors = torch.addcmul(_const(lo, device), _const(span, device), torch.rand(n, 4, generator=g, device=device))
        apply = torch.rand(n, 1, generator=g, device=device) < s.jitter_p
        factors = torch.where(apply, factors, _const((1.0, 1.0, 1.0, 0.0), device))  # N x 4
        order = torch.rand(n, 4, generator=g, device=device).argsort(dim=1)  # torchvision's randperm(4) per sample
        gray = torch.rand(n, generator=g, device=device) < s.gray_p
        blur = torch.rand(n, generator=g, device=device) < s.blur_p
        sigma = _uniform(n, *s.blur_sigma, g, device)
        return ViewParams(boxes, flip, factors, order, gray, blur, sigma)

    def apply(self, images: torch.Tensor, p: ViewParams) -> torch.Tensor:
        """Augment uint8 N x 3 x H x W with parameters `p` -> normalized float32 N x 3 x S x S."""
        if p.boxes is None or p.flip is None:
            return self._apply(images, p.factors, p.order, p.gray, p.blur, p.sigma)
        return self._apply(images, p.factors, p.order, p.gray, p.blur, p.sigma, p.boxes, p.flip)

    def _apply_eager(
        self,
        images: torch.Tensor,
        factors: torch.Tensor,
        order: torch.Tensor,
        gray: torch.Tensor,
        blur: torch.Tensor,
        sigma: torch.Tensor,
        boxes: torch.Tensor | None = None,
        flip: torch.Tensor | None = None,
    ) -> torch.Tensor:
        s = self.spec
        x = images.float() / 255.0
        if boxes is not None and flip is not None:
            x = resized_crop(x, boxes, s.size, flip)
        x = color_jitter(x, factors, order)
        x = torch.where(_col(gray), grayscale(x).expand_as(x), x)
        if s.blur_p > 0:
            k = blur_kernel_size(s.blur_sigma[1], min(x.shape[-2:]))
            x = torch.where(_col(blur), gaussian_blur(x, sigma, k), x)
        return self._normalize(x)

    def view(self, images: torch.Tensor) -> torch.Tensor:
        """One augmented view: uint8 N x 3 x H x W -> normalized float N x 3 x S x S."""
        n, _, hgt, wid = images.shape
        return self.apply(images, self.sample(n, hgt, wid, images.device))

    def __call__(self, images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Two independent views (x1, x2) of a uint8 batch, augmented as one 2N batch.

        images: N x 3 x H x W (crop on the device), or N x 2 x 3 x S x S: two views already cropped and
        flipped on the CPU (the folder path), which get the rest here.
        """
        if images.dim() == 5:
            n, _, c, hgt, wid = images.shape
            both = images.transpose(0, 1).reshape(2 * n, c, hgt, wid)
            x = self.apply(both, self.sample(2 * n, hgt, wid, images.device, crop=False))
        else:
            n = images.shape[0]
            x = self.view(torch.cat([images, images]))
        return x[:n], x[n:]

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
