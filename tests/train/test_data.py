"""Data sets and batch sources: digits split, ImageFolder through the CPU loader, seeded resumable order."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from simsiam_tui.train.data import MemorySource, epoch_permutation, make_source
from simsiam_tui.train.datasets import ImageSet, load_dataset
from simsiam_tui.train.errors import UserFacingError


def test_digits_fixed_split_and_upsampling() -> None:
    a, b = load_dataset("digits", "unused", 16), load_dataset("digits", "unused", 16)
    assert a.train.images.shape == (1347, 3, 16, 16) and a.queries.images.shape == (450, 3, 16, 16)
    assert a.train.images.dtype == torch.uint8 and a.num_classes == 10
    assert torch.equal(a.queries.labels, b.queries.labels) and torch.equal(a.train.images, b.train.images)


def test_memory_source_resumes_mid_epoch_with_the_same_batches() -> None:
    src = MemorySource(ImageSet(torch.arange(40, dtype=torch.uint8).view(40, 1, 1, 1), torch.zeros(40)), torch.device("cpu"))
    full = list(src.epoch_batches(epoch=3, seed=1, batch_size=8))
    assert len(full) == 5 == src.steps_per_epoch(8)
    tail = list(src.epoch_batches(epoch=3, seed=1, batch_size=8, start=2))
    assert all(torch.equal(x, y) for x, y in zip(full[2:], tail, strict=True))
    assert not torch.equal(epoch_permutation(40, 1, 3), epoch_permutation(40, 1, 4))
    ranks = [list(src.epoch_batches(3, 1, 4, rank=r, world=2)) for r in (0, 1)]
    seen = torch.cat([torch.cat(r) for r in ranks]).flatten().tolist()
    assert len(seen) == len(set(seen)) == 40  # ranks split the epoch without overlap


def test_imagefolder_through_cpu_loader(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    for split in ("train", "val"):
        for cls in ("a", "b"):
            (tmp_path / split / cls).mkdir(parents=True)
            for i in range(4):
                Image.fromarray(rng.integers(0, 255, (14, 12, 3), dtype=np.uint8)).save(tmp_path / split / cls / f"{i}.png")
    bundle = load_dataset("imagefolder", str(tmp_path), 8)
    assert bundle.num_classes == 2
    src = make_source(bundle.train, torch.device("cpu"), workers=0)
    batches = list(src.epoch_batches(epoch=0, seed=0, batch_size=4))
    assert len(batches) == 2 and batches[0].shape == (4, 2, 3, 8, 8) and batches[0].dtype == torch.uint8
    assert not torch.equal(batches[0][:, 0], batches[0][:, 1])  # two views cropped on the CPU
    images, labels = next(iter(src.ordered(8)))
    assert images.shape == (8, 3, 8, 8) and sorted(labels.tolist()) == [0] * 4 + [1] * 4


def test_imagefolder_missing_split_is_a_user_error(tmp_path: Path) -> None:
    with pytest.raises(UserFacingError, match=r"no train/ folder.*--set data.dir="):
        load_dataset("imagefolder", str(tmp_path), 8)


def test_cifar_missing_without_download_names_folder_and_fix(tmp_path: Path) -> None:
    with pytest.raises(UserFacingError) as err:
        load_dataset("cifar10", str(tmp_path / "x"), 32, download=False)
    msg = str(err.value)
    assert str(tmp_path / "x") in msg and "download disabled" in msg and "--scale digits" in msg and "\n" not in msg
