"""The training loop: views, SimSiam step, monitors, kNN eval, checkpoints, resume, divergence and stop."""

from __future__ import annotations

import contextlib
import math
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import torch

from simsiam_tui.train import dist
from simsiam_tui.train.augment import AugmentSpec, DeviceAugment
from simsiam_tui.train.backbones import feature_dim
from simsiam_tui.train.checkpoint import load_resumable, rng_state, save_checkpoint, set_rng_state
from simsiam_tui.train.data import make_source
from simsiam_tui.train.datasets import load_dataset
from simsiam_tui.train.divergence import DeferredCheck, StepCheck
from simsiam_tui.train.errors import CheckpointError, UserFacingError
from simsiam_tui.train.hooks import Hooks, hooks_from_env
from simsiam_tui.train.knn import extract_features, inference_encoder, knn_batch, knn_top1, ordered_shard
from simsiam_tui.train.methods import Batch, build_method
from simsiam_tui.train.monitors import effective_rank, std_quantiles, z_std, z_std_ref
from simsiam_tui.train.online_linear import OnlineLinear, train_labels
from simsiam_tui.train.optim import CosineSchedule, build_optimizer
from simsiam_tui.train.runtime import SafeEvents, seed_everything, select_device

if TYPE_CHECKING:
    from simsiam_tui.config.schema import RunConfig


@dataclass
class Outcome:
    """How a run ended: a terminal state and the reason."""

    state: str  # finished | stopped | diverged
    reason: str
    stop_signal: str | None = None  # the signal behind `stopped` (SIGUSR1: Slurm requeues the job)


@dataclass
class ThroughputWindow:
    """Images trained, data wait and wall time since the last `train` event."""

    images: int = 0
    wait: float = 0.0
    start: float = field(default_factory=time.perf_counter)

    def elapsed(self) -> float:
        return time.perf_counter() - self.start

    def reset(self) -> None:
        self.images, self.wait, self.start = 0, 0.0, time.perf_counter()


class StopFlag:
    """Set from a signal handler; the loop checkpoints and stops at the next step boundary."""

    def __init__(self) -> None:
        self.signal_name: str | None = None

    def request(self, name: str) -> None:
        """Ask the loop to stop (called from a signal handler)."""
        self.signal_name = name

    @property
    def requested(self) -> bool:
        return self.signal_name is not None


class Trainer:
    """Builds everything a run needs from its config and trains it, resuming from last.pt when present."""

    def __init__(
        self, cfg: RunConfig, checkpoint: Path, events: SafeEvents, stop: StopFlag, hooks: Hooks | None = None
    ) -> None:
        self.cfg, self.checkpoint_path, self.events, self.stop = cfg, checkpoint, events, stop
        self.device = select_device(cfg.train.device, dist.local_rank())
        dist.maybe_init(self.device)
        self.rank, self.world = dist.rank(), dist.world_size()
        self.hooks = hooks if hooks is not None else Hooks()
        seed_everything(cfg.train.seed)  # every rank draws as one process would (DDP starts from rank 0's weights)
        bundle = load_dataset(cfg.data.name, cfg.data.dir, cfg.data.image_size, cfg.data.download)
        self.num_classes = bundle.num_classes
        self.train_src = make_source(bundle.train, self.device, cfg.data.workers)
        self.bank_src = self.train_src if bundle.bank is bundle.train else make_source(bundle.bank, self.device)
        self.query_src = make_source(bundle.queries, self.device, cfg.data.workers)
        self.batch = dist.local_batch(cfg.data.batch_size, self.world)  # per process; the config's is global
        self.steps_per_epoch = self.train_src.steps_per_epoch(self.batch, self.world)
        if self.steps_per_epoch < 1:
            raise UserFacingError(
                f"data.batch_size {self.batch} x {self.world} exceeds the {len(self.train_src)} training images; "
                "use a smaller --set data.batch_size=..."
            )
        self.total_steps = self.steps_per_epoch * cfg.train.epochs
        self.cuda = self.device.type == "cuda"
        method = build_method(cfg)
        method.bind_data(len(self.train_src))  # a memory bank sizes itself to the train set
        method = method.to(self.device)
        if self.cuda:
            method = method.to(memory_format=torch.channels_last)
        self.method = method  # the unwrapped module: checkpoints, features, after_step
        self.forward: Callable[[Batch], Any] = dist.wrap_ddp(method, self.device) if self.world > 1 else method
        if cfg.train.compile:
            self.forward = torch.compile(self.forward)
        self.optimizer = build_optimizer(method, cfg, self.batch * self.world)
        self.schedule = CosineSchedule(
            self.total_steps, cfg.optim.warmup_epochs * self.steps_per_epoch, cfg.optim.fix_pred_lr
        )
        # the same stream on every rank: each draws the global batch's view parameters and keeps its rows
        self.aug_gen = torch.Generator(device=self.device).manual_seed((cfg.train.seed * 7919 + 1) % 2**64)
        spec = AugmentSpec(
            size=cfg.data.image_size, mean=bundle.mean, std=bundle.std, blur_p=0.5 if cfg.data.blur else 0.0,
            compile=cfg.train.compile,  # the augmentation's ops fused too
        )
        self.augment = DeviceAugment(spec, self.aug_gen)
        # the online linear probe: built after everything that draws from the global RNG, and draws nothing itself
        self.probe: OnlineLinear | None = None
        if cfg.monitor.probe:
            feat_dim = int(method.backbone.out_dim)  # type: ignore[arg-type]
            self.labels = train_labels(self.train_src)
            partly = bool((self.labels < 0).any())
            self.probe = OnlineLinear(method.backbone, feat_dim, self.num_classes, self.device, partly)
        self.step = 0
        self.resumed_from: int | None = None
        self.extras: dict[str, Any] = {}  # the method's scalars of the latest step (tensors allowed), logged as is
        self.resume_note: str | None = None  # set when last.pt could not be used and prev.pt was
        self.check = DeferredCheck(self.device)  # each step's non-finite loss / stop check, read a step late
        self.window = ThroughputWindow()  # since the last `train` event: its img_per_s and data_wait

    # -- position -----------------------------------------------------------------------------
    @property
    def epoch_float(self) -> float:
        """Epochs done, fractional (the `epoch` field of events)."""
        return self.step / self.steps_per_epoch

    def position(self) -> tuple[int, float]:
        """(step, epoch) for events written by the heartbeat thread."""
        return self.step, self.epoch_float

    def _autocast(self) -> contextlib.AbstractContextManager[Any]:
        return torch.autocast("cuda", dtype=torch.bfloat16) if self.cuda else contextlib.nullcontext()

    # -- checkpoints ----------------------------------------------------------------------------
    def state(self) -> dict[str, Any]:
        """Everything needed to resume exactly at the current step boundary."""
        return {
            "model": self.method.state_dict(),
            "optimizer": self.optimizer.state_dict(),
            "step": self.step,
            "epoch": self.epoch_float,
            "steps_per_epoch": self.steps_per_epoch,
            "schedule": {"total_steps": self.schedule.total_steps, "warmup_steps": self.schedule.warmup_steps},
            "rng": rng_state({"augment": self.aug_gen}),
            **({"probe": self.probe.state_dict()} if self.probe is not None else {}),
        }

    def save(self, reason: str) -> None:
        """Write last.pt atomically (rank 0), then a `checkpoint` event, flushed and fsynced."""
        if dist.is_main() and not self.checkpoint_path.parent.is_dir():
            print(f"{self.checkpoint_path.parent} is gone (run removed?); no checkpoint written", file=sys.stderr)
        elif dist.is_main():
            t0 = time.perf_counter()
            save_checkpoint(self.checkpoint_path, self.state())
            self.events.emit(
                "checkpoint", step=self.step, epoch=self.epoch_float, path=str(self.checkpoint_path.name),
                reason=reason, seconds=round(time.perf_counter() - t0, 4),
            )
            self.events.flush(fsync=True)
        dist.barrier()

    def maybe_resume(self) -> None:
        """Load last.pt (prev.pt when last.pt is unusable): weights, optimizer, step and every RNG state."""
        ckpt, self.resume_note = load_resumable(self.checkpoint_path, map_location=self.device, total_steps=self.total_steps)
        if ckpt is None:
            return
        if ckpt["steps_per_epoch"] != self.steps_per_epoch:
            raise UserFacingError(
                f"checkpoint {self.checkpoint_path} has {ckpt['steps_per_epoch']} steps per epoch, this config "
                f"{self.steps_per_epoch} (data.batch_size or the data set changed); start a new run instead"
            )
        try:
            self.method.load_state_dict(ckpt["model"])
            self.optimizer.load_state_dict(ckpt["optimizer"])
            set_rng_state(ckpt["rng"], {"augment": self.aug_gen})
            if self.probe is not None and "probe" in ckpt:  # a checkpoint from before the probe: it starts afresh
                self.probe.load_state_dict(ckpt["probe"])
        except (RuntimeError, KeyError, TypeError, ValueError, IndexError, AttributeError) as err:
            first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
            raise CheckpointError(
                f"checkpoint {self.checkpoint_path} does not fit this run's model or optimizer ({first}); "
                "was the config changed? start a new run instead"
            ) from None
        self.step = int(ckpt["step"])
        self.resumed_from = self.step

    # -- monitors -------------------------------------------------------------------------------
    @torch.inference_mode()
    def evaluate(self) -> None:
        """kNN top-1 of backbone features: bank = train split, queries = test split (each encoded once)."""
        t0 = time.perf_counter()
        encoder = inference_encoder(self.method.backbone, channels_last=True)  # BN folded, channels_last (CPU too)

        def encode(x: torch.Tensor) -> torch.Tensor:
            with self._autocast():
                return encoder(x)

        def feats(src: Any) -> tuple[torch.Tensor, torch.Tensor]:
            # under DDP each rank encodes its contiguous shard; gather_rows restores storage order
            lo, hi = dist.shard_range(len(src), self.rank, self.world)
            fs = [torch.zeros(0, feature_dim(self.method.backbone), device=self.device)]
            ys = [torch.zeros(0, dtype=torch.long, device=self.device)]
            batch = knn_batch(self.device)
            for images, labels in ordered_shard(src, batch, lo, hi):
                fs.append(extract_features(encode, images, self.augment.prepare_eval, batch, channels_last=True))
                ys.append(labels.to(self.device))
            return dist.gather_rows(torch.cat(fs)), dist.gather_rows(torch.cat(ys))

        bank, bank_y = feats(self.bank_src)
        queries, query_y = feats(self.query_src)
        if not dist.is_main():  # every rank holds the same features; one computes and reports
            return
        labeled = bank_y >= 0
        acc = knn_top1(
            queries, query_y, bank[labeled], bank_y[labeled], self.num_classes, self.cfg.monitor.knn_k,
            self.cfg.monitor.knn_t,
        )
        linear = {"linear_top1": self.probe.top1(queries, query_y)} if self.probe is not None else {}
        self.events.emit(
            "eval", step=self.step, epoch=self.epoch_float, knn_top1=acc, knn_k=self.cfg.monitor.knn_k,
            **linear, seconds=round(time.perf_counter() - t0, 4),
        )

    def _log_train(self, loss: float, lr: float, z: torch.Tensor, images: int, wall: float, wait: float) -> None:
        self.events.emit(
            "train", step=self.step, epoch=self.epoch_float, loss=loss, lr=lr, z_std=z_std(z),
            z_std_ref=z_std_ref(z.shape[1]), img_per_s=images / max(wall, 1e-9),
            data_wait=min(1.0, wait / max(wall, 1e-9)),
            **{k: float(v) for k, v in self.extras.items()},
        )

    # -- the loop -------------------------------------------------------------------------------
    def train_step(self, images: torch.Tensor, index: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, float]:
        """One step on a uint8 batch and its train-set `index` (N); returns (loss, z, lr)."""
        views = list(dist.sharded_views(self.augment, images, self.rank, self.world))  # 2 x (N x 3 x S x S)
        if self.cuda:
            views = [x.contiguous(memory_format=torch.channels_last) for x in views]
        lr = self.schedule.apply(self.optimizer, self.step)
        with self._autocast():
            out = self.forward(Batch(views=views, indices=index))
        self.extras = out.extras  # method scalars (tensors allowed), converted only when logged
        loss = self.hooks.on_loss(self, self.step + 1, out.loss.float())
        return loss, out.z, lr

    def optimize(self, loss: torch.Tensor) -> None:
        """Backward, optimizer step, the method's per-step hook (momentum updates); the step count moves on."""
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        self.optimizer.step()
        self.method.after_step(self.step, self.total_steps)
        self.step += 1

    def monitors_due(self) -> tuple[bool, bool]:
        """(a `train` event, a `collapse` event) due at this step."""
        mon = self.cfg.monitor
        return self.step % mon.log_every == 0, self.step % mon.collapse_every == 0

    def log_monitors(self, loss: torch.Tensor, lr: float, z: torch.Tensor) -> None:
        """Write the `train` and `collapse` events due at this step (both read values back from the device)."""
        log_now, collapse_now = self.monitors_due()
        if self.world > 1 and (log_now or collapse_now):
            z = dist.gather_rows(z.detach())  # monitors see the global batch, as one process would
        if log_now:
            win = self.window
            self._log_train(float(dist.all_reduce_mean(loss.detach())), lr, z, win.images, win.elapsed(), win.wait)
            win.reset()
        if collapse_now:
            self.events.emit(
                "collapse", step=self.step, epoch=self.epoch_float, std_quantiles=std_quantiles(z),
                effective_rank=effective_rank(z), dim=z.shape[1],
            )

    def advance(self, images: torch.Tensor, index: torch.Tensor) -> Outcome | None:
        """One step of the loop on a uint8 batch and its train-set `index` (N); an Outcome when the run ends here.

        Nothing in a step waits for the device except the monitors' read-backs every log_every /
        collapse_every steps: the divergence check of a step is read after the next step is queued.
        """
        self.hooks.before_step(self, self.step + 1)
        loss, z, lr = self.train_step(images, index.to(self.device, non_blocking=True))
        self.check.push(self.step + 1, self.epoch_float, lr, loss, self.stop.requested)
        self.optimize(loss)  # unchecked yet: checked_save reads every pending check, so a bad step is never saved
        if self.probe is not None:  # after the encoder's step, from detached features
            self.probe.step(self.labels[index.to(self.labels.device, non_blocking=True)])
        self.window.images += images.shape[0] * self.world
        monitors_due = any(self.monitors_due())
        # the previous step's check; this step's too when the monitors read values back anyway (and a NaN z
        # must not reach the SVD of the effective rank)
        verdict = self.check.read(keep=0 if monitors_due else 1)
        if verdict.diverged is not None:
            return self.diverged(verdict.diverged)
        if monitors_due:
            self.log_monitors(loss, lr, z)
        stop_now = self.hooks.after_step(self) or verdict.stop  # a stop on any rank, agreed with the check
        if stop_now or (self.world == 1 and self.stop.requested):
            return self.checked_save(f"signal {self.stop_name()}") or Outcome(
                "stopped", f"{self.stop_name()} at step {self.step}", self.stop_name()
            )
        return None

    def checked_save(self, reason: str) -> Outcome | None:
        """Read every pending check, then save; a `diverged` Outcome, and no save, when one step was not finite."""
        verdict = self.check.read(keep=0)
        if verdict.diverged is not None:
            return self.diverged(verdict.diverged)
        self.save(reason=reason)
        return None

    def diverged(self, check: StepCheck) -> Outcome:
        """Record the step whose loss was not finite and end the run; last.pt keeps the last good state."""
        self.events.emit("train", step=check.step, epoch=check.epoch, loss=math.nan, lr=check.lr)
        value = float(dist.all_reduce_mean(check.loss))
        return Outcome("diverged", f"loss is {value} at step {check.step}")

    def run(self) -> Outcome:
        """Train to `train.epochs`, logging monitors; return how the run ended."""
        cfg, mon = self.cfg, self.cfg.monitor
        self.method.train()
        self.window.reset()
        first_epoch = self.step // self.steps_per_epoch
        for epoch in range(first_epoch, cfg.train.epochs):
            start = self.step - epoch * self.steps_per_epoch
            batches = iter(self.train_src.epoch_batches(epoch, cfg.train.seed, self.batch, start, self.rank, self.world))
            indices = iter(self.train_src.epoch_indices(epoch, cfg.train.seed, self.batch, start, self.rank, self.world))
            while True:
                t0 = time.perf_counter()
                images = next(batches, None)
                if images is None:
                    break
                self.window.wait += time.perf_counter() - t0
                ended = self.advance(images, next(indices))  # indices: a function of seed and epoch, no RNG drawn
                if ended is not None:
                    return ended
            ended = self.checked_save("epoch")  # the epoch's last step is checked before its checkpoint
            if ended is not None:
                return ended
            if (epoch + 1) % mon.knn_every == 0 or epoch + 1 == cfg.train.epochs:
                self.evaluate()
            self.window.reset()
            self.hooks.after_epoch(self, epoch + 1)
            if dist.agree(self.stop.requested, device=self.device)[0]:
                return Outcome("stopped", f"{self.stop_name()} at step {self.step}", self.stop_name())
        return Outcome("finished", f"{cfg.train.epochs} epochs, {self.step} steps")

    def stop_name(self) -> str:
        """The signal that stopped the run (another rank's when this one got none)."""
        return self.stop.signal_name or "signal on another rank"


def build_trainer(cfg: RunConfig, checkpoint: Path, events: SafeEvents, stop: StopFlag) -> Trainer:
    """The worker's Trainer: the config's run, with the fault hooks the tests ask for through the environment."""
    return Trainer(cfg, checkpoint, events, stop, hooks_from_env(dist.rank()))
