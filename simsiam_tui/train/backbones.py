"""Backbones: CIFAR ResNet-18 (3x3 stride-1 stem, no max-pool), torchvision ResNet-50, small digits ResNet."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn


class BasicBlock(nn.Module):
    """Two 3x3 convolutions with a residual connection (the ResNet-18 block)."""

    def __init__(self, in_ch: int, out_ch: int, stride: int) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(in_ch, out_ch, 3, stride=stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(out_ch)
        self.conv2 = nn.Conv2d(out_ch, out_ch, 3, stride=1, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(out_ch)
        self.shortcut: nn.Module = nn.Identity()
        if stride != 1 or in_ch != out_ch:
            self.shortcut = nn.Sequential(
                nn.Conv2d(in_ch, out_ch, 1, stride=stride, bias=False), nn.BatchNorm2d(out_ch)
            )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = torch.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return torch.relu(out + self.shortcut(x))


class CifarResNet(nn.Module):
    """ResNet with a 3x3 stride-1 stem and no max-pool; outputs globally pooled features (N x C)."""

    def __init__(
        self, blocks: Sequence[int], width: int = 64, in_ch: int = 3, zero_init_residual: bool = True
    ) -> None:
        super().__init__()
        self.stem = nn.Sequential(
            nn.Conv2d(in_ch, width, 3, stride=1, padding=1, bias=False),
            nn.BatchNorm2d(width),
            nn.ReLU(inplace=True),
        )
        layers: list[nn.Module] = []
        ch = width
        for i, n in enumerate(blocks):
            out_ch = width * 2**i
            for j in range(n):
                layers.append(BasicBlock(ch, out_ch, stride=2 if (i > 0 and j == 0) else 1))
                ch = out_ch
        self.layers = nn.Sequential(*layers)
        self.out_dim = ch
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
        if zero_init_residual:
            for m in self.modules():
                if isinstance(m, BasicBlock):
                    nn.init.zeros_(m.bn2.weight)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.layers(self.stem(x))  # N x C x H' x W'
        return torch.flatten(nn.functional.adaptive_avg_pool2d(h, 1), 1)  # N x C


def resnet18_cifar() -> CifarResNet:
    """ResNet-18 for 32x32 images: [2, 2, 2, 2] basic blocks, widths 64-512, 512-d features."""
    return CifarResNet([2, 2, 2, 2], width=64)


def resnet_small(width: int = 32) -> CifarResNet:
    """Four basic blocks (one per stage), widths w..8w: the embedded digits scale's backbone."""
    return CifarResNet([1, 1, 1, 1], width=width)


def resnet50() -> nn.Module:
    """torchvision ResNet-50 with zero_init_residual and the classifier removed (2048-d features)."""
    from torchvision.models import resnet50 as tv_resnet50

    net = tv_resnet50(weights=None, zero_init_residual=True)
    net.fc = nn.Identity()
    net.out_dim = 2048
    return net


def feature_dim(backbone: nn.Module) -> int:
    """C, the size of a backbone's features (its `out_dim`; nn.Module's typing cannot see the attribute)."""
    return int(getattr(backbone, "out_dim"))  # noqa: B009


def build_backbone(name: str, width: int = 64) -> nn.Module:
    """Build the backbone named by `model.backbone`; the module has `.out_dim` (feature size)."""
    if name == "resnet18-cifar":
        return resnet18_cifar()
    if name == "resnet50":
        return resnet50()
    if name == "resnet-small":
        return resnet_small(width)
    raise ValueError(f"unknown backbone {name!r}")
