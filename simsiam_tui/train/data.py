"""Batch sources: seeded per-epoch order, resumable mid-epoch, device-resident uint8 or a CPU DataLoader."""

from __future__ import annotations

from collections.abc import Iterator

import torch

from simsiam_tui.train.datasets import FolderSet, ImageSet


def epoch_permutation(n: int, seed: int, epoch: int) -> torch.Tensor:
    """The order of the train set in `epoch`: a function of (seed, epoch) only, so a resume replays it."""
    g = torch.Generator().manual_seed((seed * 1_000_003 + epoch) % 2**64)  # any 63-bit seed
    return torch.randperm(n, generator=g)


def _epoch_indices(
    n: int, epoch: int, seed: int, batch_size: int, start: int, rank: int, world: int, device: torch.device
) -> Iterator[torch.Tensor]:
    """Index batches of `epoch` for this rank from batch `start` on: rank r takes slice r of each global batch."""
    perm = epoch_permutation(n, seed, epoch).to(device)
    for i in range(start, n // (batch_size * world)):
        base = i * batch_size * world + rank * batch_size
        yield perm[base : base + batch_size]


class MemorySource:
    """A uint8 image set held on the device; yields index-selected batches (no copies through the CPU)."""

    def __init__(self, images: ImageSet, device: torch.device) -> None:
        self.images = images.images.to(device)  # N x 3 x H x W uint8
        self.labels = images.labels.to(device)
        self.device = device

    def __len__(self) -> int:
        return self.images.shape[0]

    def steps_per_epoch(self, batch_size: int, world: int = 1) -> int:
        """Full batches per epoch across all ranks (the last partial batch is dropped)."""
        return len(self) // (batch_size * world)

    def epoch_batches(
        self, epoch: int, seed: int, batch_size: int, start: int = 0, rank: int = 0, world: int = 1
    ) -> Iterator[torch.Tensor]:
        """uint8 batches of `epoch` for this rank, beginning at batch index `start`."""
        for idx in self.epoch_indices(epoch, seed, batch_size, start, rank, world):
            yield self.images[idx]

    def epoch_indices(
        self, epoch: int, seed: int, batch_size: int, start: int = 0, rank: int = 0, world: int = 1
    ) -> Iterator[torch.Tensor]:
        """The train-set indices of each batch `epoch_batches` yields (for memory-bank methods)."""
        yield from _epoch_indices(len(self), epoch, seed, batch_size, start, rank, world, self.device)

    def ordered(self, batch_size: int) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        """(images, labels) in storage order, for feature extraction."""
        for i in range(0, len(self), batch_size):
            yield self.images[i : i + batch_size], self.labels[i : i + batch_size]


class TwoCrops:
    """The CPU half of the folder path: two RandomResizedCrop + flip views of one PIL image, uint8 2 x 3 x S x S."""

    def __init__(self, size: int, scale: tuple[float, float] = (0.2, 1.0)) -> None:
        from torchvision import transforms as T

        self.tf = T.Compose([T.RandomResizedCrop(size, scale=scale), T.RandomHorizontalFlip(), T.PILToTensor()])

    def __call__(self, image: object) -> torch.Tensor:
        return torch.stack([self.tf(image), self.tf(image)])


class FolderSource:
    """Images decoded on CPU workers, sent to the device as uint8.

    Training batches are N x 2 x 3 x S x S: both views already cropped and flipped on the CPU (the
    crop needs the full-resolution image); jitter, grayscale, blur and normalization run batched on
    the device (DeviceAugment). Eval batches are resized and center-cropped to S (N x 3 x S x S).
    """

    def __init__(self, folder: FolderSet, device: torch.device, workers: int) -> None:
        from torchvision import datasets as tvd
        from torchvision import transforms as T

        eval_tf = T.Compose([T.Resize(folder.decode_size), T.CenterCrop(folder.size), T.PILToTensor()])
        self.ds = tvd.ImageFolder(str(folder.root), transform=eval_tf)
        self.train_ds = tvd.ImageFolder(str(folder.root), transform=TwoCrops(folder.size, folder.scale))
        self.device = device
        self.workers = workers

    def __len__(self) -> int:
        return len(self.ds)

    def steps_per_epoch(self, batch_size: int, world: int = 1) -> int:
        """Full batches per epoch across all ranks."""
        return len(self) // (batch_size * world)

    def _loader(
        self, indices: list[int], batch_size: int, train: bool = False
    ) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        loader = torch.utils.data.DataLoader(
            torch.utils.data.Subset(self.train_ds if train else self.ds, indices),
            batch_size=batch_size,
            num_workers=self.workers,
            pin_memory=self.device.type == "cuda",
            persistent_workers=False,
            prefetch_factor=4 if self.workers > 0 else None,
        )
        for x, y in loader:
            yield x.to(self.device, non_blocking=True), y.to(self.device, non_blocking=True)

    def epoch_batches(
        self, epoch: int, seed: int, batch_size: int, start: int = 0, rank: int = 0, world: int = 1
    ) -> Iterator[torch.Tensor]:
        """uint8 pairs of views (N x 2 x 3 x S x S) of `epoch` for this rank, beginning at batch index `start`."""
        idx: list[int] = []
        for batch in self.epoch_indices(epoch, seed, batch_size, start, rank, world):
            idx += batch.tolist()
        for x, _ in self._loader(idx, batch_size, train=True):
            yield x

    def epoch_indices(
        self, epoch: int, seed: int, batch_size: int, start: int = 0, rank: int = 0, world: int = 1
    ) -> Iterator[torch.Tensor]:
        """The train-set indices of each batch `epoch_batches` yields (for memory-bank methods)."""
        yield from _epoch_indices(len(self), epoch, seed, batch_size, start, rank, world, torch.device("cpu"))

    def ordered(self, batch_size: int) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        """(images, labels) in storage order, for feature extraction."""
        return self._loader(list(range(len(self))), batch_size)


Source = MemorySource | FolderSource


def make_source(images: ImageSet | FolderSet, device: torch.device, workers: int = 4) -> Source:
    """A device-resident source for in-memory sets, a DataLoader-backed one for folders."""
    if isinstance(images, ImageSet):
        return MemorySource(images, device)
    return FolderSource(images, device, workers)
