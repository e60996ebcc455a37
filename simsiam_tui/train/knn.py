"""Weighted kNN top-1 (InstDisc style) on backbone features, chunked matrix products on the device."""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn
from torch.fx.experimental.optimization import fuse
from torch.fx.proxy import TraceError

KNN_BATCH = 1024  # images per forward pass of the kNN features on a GPU: no autograd, so larger than a training batch
KNN_BATCH_CPU = 128  # on a CPU, a batch whose activations stay in cache is faster (see knn_batch)


def knn_batch(device: torch.device) -> int:
    """Images per forward pass of the kNN features on `device`.

    A GPU is filled by large batches. A CPU runs fastest on batches whose activations stay in its
    caches: on a 2-core EPYC (32 MB L3), encoding 2048 images took 0.40 s in batches of 128 and 0.83 s
    in batches of 1024 (digits-scale ResNet, 32 x 32; width 64 likewise, 5.2 s against 6.5 s).
    """
    return KNN_BATCH if device.type == "cuda" else KNN_BATCH_CPU


def inference_encoder(backbone: nn.Module, channels_last: bool) -> nn.Module:
    """A frozen copy of `backbone` for feature extraction: eval mode, BatchNorm folded into the convs, channels_last.

    Folding BN (torch.fx's conv-bn fusion) removes a memory-bound pass per conv; the features move by
    float rounding only (about 1e-7 after l2 normalization). The training model is not touched.
    """
    model = copy.deepcopy(backbone).eval()
    for p in model.parameters():
        p.requires_grad_(False)
    try:
        model = fuse(model, inplace=True)
    except (TraceError, TypeError, NotImplementedError, RuntimeError):  # a backbone fx cannot trace: unfused
        pass
    if channels_last:
        model = model.to(memory_format=torch.channels_last)
    return model


@torch.inference_mode()
def extract_features(
    encode: Callable[[torch.Tensor], torch.Tensor],
    images: torch.Tensor,
    prepare: Callable[[torch.Tensor], torch.Tensor],
    batch_size: int = KNN_BATCH,
    channels_last: bool = False,
) -> torch.Tensor:
    """L2-normalized features (N x C) of `images` (uint8 N x C x H x W) via prepare -> encode, in batches."""
    feats = []
    for i in range(0, images.shape[0], batch_size):
        x = prepare(images[i : i + batch_size])
        if channels_last:
            x = x.contiguous(memory_format=torch.channels_last)
        feats.append(F.normalize(encode(x).float(), dim=1))
    return torch.cat(feats)


@torch.inference_mode()
def knn_predict(
    queries: torch.Tensor,
    bank: torch.Tensor,
    bank_labels: torch.Tensor,
    num_classes: int,
    k: int = 200,
    t: float = 0.1,
    chunk: int = 1024,
) -> torch.Tensor:
    """Predicted class per query: sum over the k most cosine-similar bank items of exp(sim/t) per class.

    queries: Q x C, bank: B x C (both l2-normalized), bank_labels: B. Never builds more than
    chunk x B similarities at a time.
    """
    k = min(k, bank.shape[0])
    preds = []
    for i in range(0, queries.shape[0], chunk):
        sim = queries[i : i + chunk] @ bank.T  # q x B
        top_sim, top_idx = sim.topk(k, dim=1)  # q x k
        weights = (top_sim / t).exp()  # q x k
        labels = bank_labels[top_idx]  # q x k
        scores = torch.zeros(sim.shape[0], num_classes, device=sim.device, dtype=weights.dtype)
        scores.scatter_add_(1, labels, weights)  # q x classes
        preds.append(scores.argmax(dim=1))
    return torch.cat(preds)


@torch.inference_mode()
def knn_top1(
    queries: torch.Tensor,
    query_labels: torch.Tensor,
    bank: torch.Tensor,
    bank_labels: torch.Tensor,
    num_classes: int,
    k: int = 200,
    t: float = 0.1,
    chunk: int = 1024,
) -> float:
    """Top-1 accuracy of the weighted kNN classifier with the bank as training set."""
    pred = knn_predict(queries, bank, bank_labels, num_classes, k, t, chunk)
    return float((pred == query_labels.to(pred.device)).float().mean())


def ordered_shard(
    src: Any, batch_size: int, lo: int, hi: int
) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
    """(images, labels) batches of items [lo, hi) of a batch source, in storage order (a DDP rank's kNN shard)."""
    if lo == 0 and hi >= len(src):
        yield from src.ordered(batch_size)
    elif isinstance(getattr(src, "images", None), torch.Tensor):  # device-resident: slice, no copies
        for i in range(lo, hi, batch_size):
            j = min(i + batch_size, hi)
            yield src.images[i:j], src.labels[i:j]
    elif hasattr(src, "_loader"):  # a folder: decode only this shard
        yield from src._loader(list(range(lo, hi)), batch_size)
    else:  # any other source: read all, keep the shard
        seen = 0
        for images, labels in src.ordered(batch_size):
            a, b = max(lo - seen, 0), min(hi - seen, images.shape[0])
            if a < b:
                yield images[a:b], labels[a:b]
            seen += images.shape[0]
