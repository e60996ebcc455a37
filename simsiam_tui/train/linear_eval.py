"""A linear-evaluation run: a linear classifier on a source run's frozen, centre-cropped backbone features.

It follows SimSiam's main_lincls.py where that is protocol: the backbone frozen in eval mode, a zero-bias
normal(0.01) classifier, SGD with momentum or (linear_eval.optimizer = "lars") apex's LARC, cosine decay set once
per epoch, every image in every epoch (the last partial batch kept), the lr scaled with the batch, fp32 features.
Where it deliberately differs: main_lincls augments each epoch (RandomResizedCrop and flip); here the features of
the centre-cropped images are computed once and the classifier trains on them (README, "Evaluation", says what that
costs). It writes `train` (loss, lr) and `eval` (linear_top1 on the test split) events every epoch and a checkpoint
of its own (classifier, optimizer, epoch) so that a stopped run resumes exactly.
"""

from __future__ import annotations

import math
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import torch
import torch.nn.functional as F
from torch import nn

from simsiam_tui.config.linear_protocol import CIFAR, IMAGENET
from simsiam_tui.train.augment import AugmentSpec, DeviceAugment
from simsiam_tui.train.backbones import build_backbone
from simsiam_tui.train.checkpoint import check_step, load_checkpoint, save_checkpoint
from simsiam_tui.train.data import epoch_permutation, make_source
from simsiam_tui.train.datasets import load_dataset
from simsiam_tui.train.errors import UserFacingError
from simsiam_tui.train.lars import LARC
from simsiam_tui.train.loop import Outcome, StopFlag
from simsiam_tui.train.runtime import SafeEvents, seed_everything, select_device

if TYPE_CHECKING:
    from simsiam_tui.config.schema import LinearEvalConfig, RunConfig

# The batch each protocol's linear_eval.lr is given for (config/linear_protocol.py): another batch scales the lr.
PROTOCOL_BATCH = {"imagenet": int(IMAGENET["batch_size"]), "cifar": int(CIFAR["batch_size"]), "digits": int(CIFAR["batch_size"])}


def classifier_lr(lin: LinearEvalConfig) -> float:
    """The classifier's initial lr: linear_eval.lr x batch_size / the protocol's batch (main_lincls: base x batch / 256).

    linear_eval.lr is the lr at the protocol's batch (0.32 at 4096 for ImageNet, 30 at 256 for CIFAR and digits), so
    `--set linear_eval.batch_size=128` on CIFAR trains at 15. A config without a protocol takes linear_eval.lr as is.
    """
    reference = PROTOCOL_BATCH.get(lin.protocol)
    return lin.lr if reference is None else lin.lr * lin.batch_size / reference


def epoch_cosine(lr0: float, epoch: int, epochs: int) -> float:
    """main_lincls's adjust_learning_rate: lr0 x (1 + cos(pi x epoch / epochs)) / 2, set at the start of each epoch."""
    return lr0 * 0.5 * (1.0 + math.cos(math.pi * epoch / epochs))


class LinearEval:
    """Trains and evaluates the classifier; the worker drives it like the pre-training Trainer."""

    rank, world = 0, 1  # one process: the features fit on one device

    def __init__(self, cfg: RunConfig, checkpoint: Path, events: SafeEvents, stop: StopFlag) -> None:
        self.cfg, self.lin, self.checkpoint_path, self.events, self.stop = cfg, cfg.linear_eval, checkpoint, events, stop
        self.device = select_device(cfg.train.device)
        self.cuda = self.device.type == "cuda"
        seed_everything(cfg.train.seed)
        bundle = load_dataset(cfg.data.name, cfg.data.dir, cfg.data.image_size, cfg.data.download)
        self.num_classes = bundle.num_classes
        self.train_src = make_source(bundle.bank, self.device, cfg.data.workers)  # the labelled train split
        self.test_src = make_source(bundle.queries, self.device, cfg.data.workers)
        self.spec = AugmentSpec(size=cfg.data.image_size, mean=bundle.mean, std=bundle.std)
        self.prepare = DeviceAugment(self.spec, torch.Generator(device=self.device)).prepare_eval  # centre crop, normalize
        self.backbone = self._frozen_backbone(Path(self.lin.checkpoint))
        feat_dim = int(self.backbone.out_dim)  # type: ignore[arg-type]
        self.classifier = nn.Linear(feat_dim, self.num_classes).to(self.device)
        nn.init.normal_(self.classifier.weight, std=0.01)  # as the SimSiam code's linear evaluation
        nn.init.zeros_(self.classifier.bias)
        params = self.classifier.parameters()
        self.lr0 = classifier_lr(self.lin)
        self.optimizer: torch.optim.Optimizer = (
            LARC(params, lr=self.lr0, momentum=self.lin.momentum, weight_decay=self.lin.weight_decay, trust=0.001)
            if self.lin.optimizer == "lars"
            else torch.optim.SGD(params, lr=self.lr0, momentum=self.lin.momentum, weight_decay=self.lin.weight_decay)
        )
        labelled = int((self.train_src.labels >= 0).sum()) if hasattr(self.train_src, "labels") else len(self.train_src)
        self.batch = min(self.lin.batch_size, labelled)
        self.steps_per_epoch = max(1, math.ceil(labelled / self.batch))  # the last, partial batch too
        self.old_steps_per_epoch = max(1, labelled // self.batch)  # how checkpoints without an epoch counted steps
        self.total_steps = self.steps_per_epoch * self.lin.epochs
        self.step = 0
        self.epoch = 0  # classifier epochs done
        self.resumed_from: int | None = None
        self.resume_note: str | None = None  # the worker reports it; this run keeps one last.pt, no fallback

    def _frozen_backbone(self, path: Path) -> nn.Module:
        """The source run's backbone from its frozen checkpoint, in eval mode, without gradients."""
        if not path.is_file():
            raise UserFacingError(f"the frozen checkpoint {path} is missing; run `simsiam-tui eval linear` again")
        ckpt = load_checkpoint(path, map_location=self.device)
        if ckpt is None or not isinstance(ckpt.get("model"), dict):
            raise UserFacingError(f"{path} holds no model weights")
        backbone = build_backbone(self.cfg.model.backbone, self.cfg.model.width)
        weights = {k.removeprefix("backbone."): v for k, v in ckpt["model"].items() if k.startswith("backbone.")}
        backbone.load_state_dict(weights)
        return backbone.to(self.device).eval().requires_grad_(False)

    @property
    def epoch_float(self) -> float:
        """Classifier epochs done, fractional."""
        return self.step / self.steps_per_epoch

    def position(self) -> tuple[int, float]:
        """(step, epoch) for the heartbeat's events."""
        return self.step, self.epoch_float

    @torch.no_grad()
    def features(self, src: Any) -> tuple[torch.Tensor, torch.Tensor]:
        """Frozen backbone features (N x C, not normalized) and labels of a source, labelled items only."""
        fs, ys = [], []
        for images, labels in src.ordered(512):
            x = self.prepare(images.to(self.device))  # fp32, no autocast: the features are the fp32 network's
            if self.cuda:
                x = x.contiguous(memory_format=torch.channels_last)
            fs.append(self.backbone(x).float())
            ys.append(labels.to(self.device))
        f, y = torch.cat(fs), torch.cat(ys)
        keep = y >= 0  # STL-10's unlabelled split has no class
        return f[keep], y[keep]

    def epoch_features(self, epoch: int, cached: tuple[torch.Tensor, torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor]:
        """The classifier's training features in `epoch`: the centre-crop features, computed once (`cached`)."""
        return cached

    def state(self) -> dict[str, Any]:
        """Classifier, optimizer and position: tensors and plain types only."""
        return {
            "classifier": self.classifier.state_dict(), "optimizer": self.optimizer.state_dict(), "step": self.step,
            "epoch": self.epoch,
        }

    def maybe_resume(self) -> None:
        """Continue from this run's own last.pt (an epoch boundary) when it exists."""
        ckpt = load_checkpoint(self.checkpoint_path, map_location=self.device)
        if ckpt is None:
            return
        self.classifier.load_state_dict(ckpt["classifier"])
        self.optimizer.load_state_dict(ckpt["optimizer"])
        self.step = check_step(self.checkpoint_path, ckpt.get("step"), self.total_steps)
        epoch = ckpt.get("epoch", self.step // self.old_steps_per_epoch)  # earlier versions dropped the partial batch
        if not isinstance(epoch, int) or not 0 <= epoch <= self.lin.epochs:
            raise UserFacingError(f"{self.checkpoint_path} holds epoch {epoch!r}, not one of this run's 0..{self.lin.epochs}")
        self.epoch = epoch
        self.resumed_from = self.step

    def save(self, reason: str) -> None:
        """last.pt, then a `checkpoint` event."""
        t0 = time.perf_counter()
        save_checkpoint(self.checkpoint_path, self.state())
        self.events.emit(
            "checkpoint", step=self.step, epoch=self.epoch_float, path=self.checkpoint_path.name, reason=reason,
            seconds=round(time.perf_counter() - t0, 4),
        )
        self.events.flush(fsync=True)

    @torch.no_grad()
    def top1(self, f: torch.Tensor, y: torch.Tensor) -> float:
        """Top-1 accuracy of the classifier on features f (N x C)."""
        return float((self.classifier(f).argmax(dim=1) == y).float().mean())

    def run(self) -> Outcome:
        """Features once, then the classifier's epochs; eval events carry linear_top1 on the test split."""
        t0 = time.perf_counter()
        cached = self.features(self.train_src)
        f_train, y_train = cached
        f_test, y_test = self.features(self.test_src)
        self.events.emit(
            "system", step=self.step, epoch=self.epoch_float, feature_seconds=round(time.perf_counter() - t0, 3),
            train_features=int(f_train.shape[0]), test_features=int(f_test.shape[0]),
        )
        for epoch in range(self.epoch, self.lin.epochs):
            t_epoch, losses, sizes = time.perf_counter(), [], []
            lr = epoch_cosine(self.lr0, epoch, self.lin.epochs)
            for g in self.optimizer.param_groups:
                g["lr"] = lr
            f_train, y_train = self.epoch_features(epoch, cached)
            order = epoch_permutation(f_train.shape[0], self.cfg.train.seed, epoch).to(self.device)
            for idx in order.split(self.batch):  # every image once; the last batch may be smaller
                loss = F.cross_entropy(self.classifier(f_train[idx]), y_train[idx])  # batch x classes logits
                self.optimizer.zero_grad(set_to_none=True)
                loss.backward()
                self.optimizer.step()
                self.step += 1
                losses.append(loss.detach() * idx.numel())
                sizes.append(idx.numel())
            self.epoch = epoch + 1
            loss_mean = float(torch.stack(losses).sum()) / sum(sizes)  # per image, as main_lincls's meter
            if loss_mean != loss_mean:
                return Outcome("diverged", f"loss is {loss_mean} in epoch {epoch + 1}")
            self.events.emit("train", step=self.step, epoch=self.epoch_float, loss=loss_mean, lr=lr)
            self.events.emit(
                "eval", step=self.step, epoch=self.epoch_float, linear_top1=self.top1(f_test, y_test),
                train_top1=self.top1(f_train, y_train), seconds=round(time.perf_counter() - t_epoch, 4),
            )
            self.save("epoch")
            if self.stop.requested:
                return Outcome("stopped", f"{self.stop.signal_name} at epoch {epoch + 1}")
        return Outcome("finished", f"{self.lin.epochs} epochs, linear top-1 {self.top1(f_test, y_test):.3f}")
