"""A linear-evaluation run: a linear classifier on a source run's frozen, centre-cropped backbone features.

The backbone is frozen and in eval mode, and the protocol has no augmentation here (see
config/linear_protocol.py), so the features of the labelled train split and of the test split are
computed once; the classifier then trains on them with the protocol's optimizer, batch, lr and cosine
decay, writing `train` (loss, lr) and `eval` (linear_top1 on the test split) events every epoch and a
checkpoint of its own (classifier, optimizer, step) so that a stopped run resumes exactly.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import torch
import torch.nn.functional as F
from torch import nn

from simsiam_tui.train.augment import AugmentSpec, DeviceAugment
from simsiam_tui.train.backbones import build_backbone
from simsiam_tui.train.checkpoint import check_step, load_checkpoint, save_checkpoint
from simsiam_tui.train.data import epoch_permutation, make_source
from simsiam_tui.train.datasets import load_dataset
from simsiam_tui.train.errors import UserFacingError
from simsiam_tui.train.lars import LARS
from simsiam_tui.train.loop import Outcome, StopFlag
from simsiam_tui.train.optim import CosineSchedule
from simsiam_tui.train.runtime import SafeEvents, seed_everything, select_device

if TYPE_CHECKING:
    from simsiam_tui.config.schema import RunConfig


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
        spec = AugmentSpec(size=cfg.data.image_size, mean=bundle.mean, std=bundle.std)
        self.prepare = DeviceAugment(spec, torch.Generator(device=self.device)).prepare_eval  # centre crop, normalize
        self.backbone = self._frozen_backbone(Path(self.lin.checkpoint))
        feat_dim = int(self.backbone.out_dim)  # type: ignore[arg-type]
        self.classifier = nn.Linear(feat_dim, self.num_classes).to(self.device)
        nn.init.normal_(self.classifier.weight, std=0.01)  # as the SimSiam code's linear evaluation
        nn.init.zeros_(self.classifier.bias)
        params = self.classifier.parameters()
        self.optimizer: torch.optim.Optimizer = (
            LARS(params, lr=self.lin.lr, momentum=self.lin.momentum, weight_decay=self.lin.weight_decay)
            if self.lin.optimizer == "lars"
            else torch.optim.SGD(params, lr=self.lin.lr, momentum=self.lin.momentum, weight_decay=self.lin.weight_decay)
        )
        for g in self.optimizer.param_groups:
            g["initial_lr"] = self.lin.lr
        labelled = int((self.train_src.labels >= 0).sum()) if hasattr(self.train_src, "labels") else len(self.train_src)
        self.batch = min(self.lin.batch_size, labelled)
        self.steps_per_epoch = max(1, labelled // self.batch)
        self.total_steps = self.steps_per_epoch * self.lin.epochs
        self.schedule = CosineSchedule(self.total_steps, 0, fix_pred_lr=False)
        self.step = 0
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
            x = self.prepare(images.to(self.device))
            if self.cuda:
                with torch.autocast("cuda", dtype=torch.bfloat16):
                    fs.append(self.backbone(x.contiguous(memory_format=torch.channels_last)).float())
            else:
                fs.append(self.backbone(x).float())
            ys.append(labels.to(self.device))
        f, y = torch.cat(fs), torch.cat(ys)
        keep = y >= 0  # STL-10's unlabelled split has no class
        return f[keep], y[keep]

    def state(self) -> dict[str, Any]:
        """Classifier, optimizer and position: tensors and plain types only."""
        return {"classifier": self.classifier.state_dict(), "optimizer": self.optimizer.state_dict(), "step": self.step}

    def maybe_resume(self) -> None:
        """Continue from this run's own last.pt (an epoch boundary) when it exists."""
        ckpt = load_checkpoint(self.checkpoint_path, map_location=self.device)
        if ckpt is None:
            return
        self.classifier.load_state_dict(ckpt["classifier"])
        self.optimizer.load_state_dict(ckpt["optimizer"])
        self.step = check_step(self.checkpoint_path, ckpt.get("step"), self.total_steps)
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
        f_train, y_train = self.features(self.train_src)
        f_test, y_test = self.features(self.test_src)
        self.events.emit(
            "system", step=self.step, epoch=self.epoch_float, feature_seconds=round(time.perf_counter() - t0, 3),
            train_features=int(f_train.shape[0]), test_features=int(f_test.shape[0]),
        )
        for epoch in range(self.step // self.steps_per_epoch, self.lin.epochs):
            t_epoch, losses = time.perf_counter(), []
            order = epoch_permutation(f_train.shape[0], self.cfg.train.seed, epoch).to(self.device)
            for i in range(self.steps_per_epoch):
                idx = order[i * self.batch : (i + 1) * self.batch]
                lr = self.schedule.apply(self.optimizer, self.step)
                loss = F.cross_entropy(self.classifier(f_train[idx]), y_train[idx])  # batch x classes logits
                self.optimizer.zero_grad(set_to_none=True)
                loss.backward()
                self.optimizer.step()
                self.step += 1
                losses.append(loss.detach())
            loss_mean = float(torch.stack(losses).mean())
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
