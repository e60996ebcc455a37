"""Data sets as uint8 tensors: digits (bundled), CIFAR-10/100, STL-10, ImageFolder; clear errors when missing."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from simsiam_tui.train.errors import UserFacingError

IMAGENET_MEAN, IMAGENET_STD = (0.485, 0.456, 0.406), (0.229, 0.224, 0.225)
CIFAR10_MEAN, CIFAR10_STD = (0.4914, 0.4822, 0.4465), (0.2470, 0.2435, 0.2616)
CIFAR100_MEAN, CIFAR100_STD = (0.5071, 0.4865, 0.4409), (0.2673, 0.2564, 0.2762)


@dataclass
class ImageSet:
    """Images (uint8 N x 3 x H x W, CPU) with labels (int64 N, -1 when unlabeled)."""

    images: torch.Tensor
    labels: torch.Tensor


@dataclass
class FolderSet:
    """A folder of class sub-folders read through a CPU DataLoader (too large to hold in memory)."""

    root: Path
    decode_size: int  # eval: resize the short side to this, then center-crop to `size`
    size: int  # the views' side (RandomResizedCrop output, on the CPU)
    scale: tuple[float, float] = (0.2, 1.0)  # RandomResizedCrop area range (the paper's, ImageNet too)


@dataclass
class DataBundle:
    """What training needs: the self-supervised train set, the kNN bank and queries, and stats."""

    train: ImageSet | FolderSet  # views are drawn from this
    bank: ImageSet | FolderSet  # kNN bank (labeled train split)
    queries: ImageSet | FolderSet  # kNN queries (test split)
    num_classes: int
    mean: tuple[float, ...]
    std: tuple[float, ...]


def _hwc_to_tensor(arr: np.ndarray) -> torch.Tensor:
    """N x H x W x C uint8 numpy -> N x C x H x W uint8 tensor."""
    return torch.from_numpy(np.ascontiguousarray(arr)).permute(0, 3, 1, 2).contiguous()


def load_digits(image_size: int, test_fraction: float = 0.25) -> DataBundle:
    """scikit-learn's 8x8 digits, upsampled bilinearly to image_size, as 3-channel uint8; fixed stratified split."""
    from sklearn.datasets import load_digits as sk_digits
    from sklearn.model_selection import train_test_split

    ds = sk_digits()
    x = torch.from_numpy(ds.images.astype(np.float32) / 16.0).unsqueeze(1)  # N x 1 x 8 x 8 in [0, 1]
    if image_size != 8:
        x = F.interpolate(x, size=(image_size, image_size), mode="bilinear", align_corners=False)
    x = (x.clamp(0, 1) * 255).round().to(torch.uint8).expand(-1, 3, -1, -1).contiguous()  # N x 3 x S x S
    y = torch.from_numpy(ds.target.astype(np.int64))
    idx = np.arange(len(y))
    tr, te = train_test_split(idx, test_size=test_fraction, random_state=0, stratify=ds.target)
    tr, te = torch.from_numpy(np.sort(tr)), torch.from_numpy(np.sort(te))
    train = ImageSet(x[tr], y[tr])
    mean = float(train.images.float().mean() / 255)
    std = float(train.images.float().std() / 255)
    return DataBundle(train, train, ImageSet(x[te], y[te]), 10, (mean,) * 3, (std,) * 3)


def _missing(name: str, folder: Path, why: str, expect: str) -> UserFacingError:
    return UserFacingError(
        f"data set {name} not found in {folder.resolve()} ({why}); fix: --set data.dir=DIR "
        f"pointing at a folder holding {expect}, or --scale digits for the offline scale"
    )


def _torchvision_set(cls: Any, name: str, folder: Path, download: bool, expect: str, **kw: Any) -> Any:
    """Open a torchvision data set, downloading it when allowed; errors become one clear line."""
    try:
        return cls(str(folder), download=False, **kw)
    except (RuntimeError, FileNotFoundError, OSError):
        if not download:
            raise _missing(name, folder, "download disabled by data.download=false", expect) from None
    try:
        folder.mkdir(parents=True, exist_ok=True)
        return cls(str(folder), download=True, **kw)
    except Exception as err:  # network down, proxy, disk full: all end the same way
        why = f"download failed: {type(err).__name__}: {str(err).splitlines()[0] if str(err) else ''}".rstrip(": ")
        raise _missing(name, folder, why, expect) from None


def load_cifar(name: str, folder: Path, download: bool) -> DataBundle:
    """CIFAR-10 / CIFAR-100 in torchvision's on-disk format under `folder`."""
    from torchvision import datasets as tvd

    cls, expect = (
        (tvd.CIFAR10, "cifar-10-batches-py") if name == "cifar10" else (tvd.CIFAR100, "cifar-100-python")
    )
    sets = [_torchvision_set(cls, name, folder, download, expect, train=t) for t in (True, False)]
    train, test = (ImageSet(_hwc_to_tensor(s.data), torch.tensor(s.targets, dtype=torch.int64)) for s in sets)
    mean, std = (CIFAR10_MEAN, CIFAR10_STD) if name == "cifar10" else (CIFAR100_MEAN, CIFAR100_STD)
    return DataBundle(train, train, test, 10 if name == "cifar10" else 100, mean, std)


def load_stl10(folder: Path, download: bool) -> DataBundle:
    """STL-10: views from train+unlabeled, kNN bank from train, queries from test (96 x 96)."""
    from torchvision import datasets as tvd

    def split(s: str) -> ImageSet:
        ds = _torchvision_set(tvd.STL10, "stl10", folder, download, "stl10_binary", split=s)
        return ImageSet(torch.from_numpy(ds.data), torch.from_numpy(ds.labels.astype(np.int64)))

    train, test = split("train"), split("test")
    unlabeled = split("unlabeled")
    both = ImageSet(torch.cat([train.images, unlabeled.images]), torch.cat([train.labels, unlabeled.labels]))
    return DataBundle(both, train, test, 10, IMAGENET_MEAN, IMAGENET_STD)


def load_imagefolder(folder: Path, image_size: int) -> DataBundle:
    """ImageFolder layout: `train/` and `val/` with one sub-folder per class; read by a CPU DataLoader."""
    for sub in ("train", "val"):
        if not (folder / sub).is_dir():
            raise UserFacingError(
                f"data set imagefolder not found in {folder.resolve()} (no {sub}/ folder); fix: --set "
                "data.dir=DIR pointing at a folder with train/ and val/ class folders, or --scale digits"
            )
    decode = int(round(image_size / 0.875))
    classes = sum(1 for p in (folder / "train").iterdir() if p.is_dir())
    train = FolderSet(folder / "train", decode, image_size)
    val = FolderSet(folder / "val", decode, image_size)
    return DataBundle(train, train, val, classes, IMAGENET_MEAN, IMAGENET_STD)


def load_dataset(name: str, data_dir: str, image_size: int, download: bool = True) -> DataBundle:
    """Load the data set named by `data.name` (see the module docstring for the layouts)."""
    folder = Path(data_dir).expanduser()
    if name == "digits":
        return load_digits(image_size)
    if name in ("cifar10", "cifar100"):
        return load_cifar(name, folder, download)
    if name == "stl10":
        return load_stl10(folder, download)
    if name == "imagefolder":
        return load_imagefolder(folder, image_size)
    raise UserFacingError(f"unknown data set {name!r}; choose one of digits, cifar10, cifar100, stl10, imagefolder")
