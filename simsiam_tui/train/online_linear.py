"""The online linear probe: a classifier on detached backbone features, trained beside the encoder, never into it.

Peers (solo-learn, lightly) train one in every run: the linear top-1 it reaches on the test split
follows the paper's metric (linear accuracy on frozen features) at no extra forward pass. The probe
reads the backbone's output of the first view through a forward hook, so no method changes; it owns
its parameters and optimizer, initializes them to zero and draws no random numbers, so the encoder's
gradients, its trajectory and the augmentation stream are the same bit for bit with the probe on or
off. Features are l2-normalized (the kNN monitor's representation), so train-mode features of the
views and eval-mode features of the test split sit on the same scale.
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from simsiam_tui.train import dist

PROBE_LR = 1e-3  # Adam: scale-free steps suit standardized features and an encoder that keeps moving


class OnlineLinear:
    """BN (no affine) + linear on detached, l2-normalized backbone features of view 1, with its own Adam."""

    def __init__(
        self, backbone: nn.Module, feat_dim: int, num_classes: int, device: torch.device, partly_labelled: bool = False
    ) -> None:
        # partly_labelled: the train set has unlabelled images (label -1, STL-10's unlabelled split), so each step
        # selects its labelled rows; that selection reads a count back from the GPU, which fully labelled sets skip
        self.partly_labelled = partly_labelled
        # skip_init + zeros: no draw from the global RNG (nn.Linear's own init would move its stream)
        linear = torch.nn.utils.skip_init(nn.Linear, feat_dim, num_classes, device=device)
        with torch.no_grad():
            linear.weight.zero_()
            linear.bias.zero_()
        # BN without affine centres the features first (MAE's probe): post-ReLU features share one direction
        self.head = nn.Sequential(nn.BatchNorm1d(feat_dim, affine=False), linear).to(device)
        self.optimizer = torch.optim.Adam(self.head.parameters(), lr=PROBE_LR)
        self._h: torch.Tensor | None = None

        def capture(module: nn.Module, _inputs: Any, output: torch.Tensor) -> None:
            # the first train-mode call of a step is backbone(x1); eval-mode calls (kNN features) are not views
            if module.training and self._h is None:
                self._h = output.detach()

        # a plain function, not a bound method: deepcopy (the kNN's frozen encoder copy) shares it, never the probe
        self._handle = backbone.register_forward_hook(capture)

    def discard(self) -> None:
        """Forget the captured features (a step that is not taken)."""
        self._h = None

    def step(self, labels: torch.Tensor) -> torch.Tensor | None:
        """One Adam step on the captured features of this step's view 1 (labels -1: unlabelled, skipped).

        Returns the detached loss as a tensor: nothing here waits for the GPU (a `float()` would, every step).
        """
        h, self._h = self._h, None
        if h is None:
            return None
        y = labels.to(h.device, non_blocking=True)
        if dist.world_size() > 1:  # every rank trains the same probe on the global batch
            h, y = dist.gather_rows(h), dist.gather_rows(y)
        if self.partly_labelled:
            keep = y >= 0  # STL-10's unlabelled split has no class
            if int(keep.sum()) < 2:  # batch statistics need two rows
                return None
            h, y = h[keep], y[keep]
        elif h.shape[0] < 2:
            return None
        with torch.enable_grad():
            logits = self.head(F.normalize(h.float(), dim=1))  # n x classes
            loss = F.cross_entropy(logits, y)
            self.optimizer.zero_grad(set_to_none=True)
            loss.backward()
            self.optimizer.step()
        return loss.detach()

    @torch.no_grad()
    def top1(self, feats: torch.Tensor, labels: torch.Tensor) -> float:
        """Test top-1 on l2-normalized eval features (N x C, as the kNN monitor extracts them)."""
        self.head.eval()
        pred = self.head(feats.float()).argmax(dim=1)
        self.head.train()
        return float((pred == labels.to(pred.device)).float().mean())

    def state_dict(self) -> dict[str, Any]:
        """Tensors and plain types only: the head's weights and the optimizer's state."""
        return {"head": self.head.state_dict(), "optimizer": self.optimizer.state_dict()}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore what `state_dict` captured."""
        self.head.load_state_dict(state["head"])
        self.optimizer.load_state_dict(state["optimizer"])


def train_labels(src: Any) -> torch.Tensor:
    """Class labels of a batch source's train set, indexable by a batch's indices (-1: unlabelled)."""
    labels = getattr(src, "labels", None)
    if isinstance(labels, torch.Tensor):  # device-resident set
        return labels
    return torch.as_tensor(src.ds.targets, dtype=torch.long)  # a torchvision ImageFolder, on the CPU
