"""Benchmark: the paper's PIL/DataLoader pipeline vs this project's device pipeline vs the bare training step.

Usage: python benchmarks/throughput.py [--device auto|cpu|cuda] [--batch B] [--workers W] [--steps N]
           [--rounds R] [--width W] [--compile on|off] [--train-images N] [--test-images N]

Three figures in one run, same model, batch, optimizer step and device:
  (a) reference: torchvision transforms on PIL images in a DataLoader with W workers, two views per
      image (the SimSiam code's TwoCropsTransform), collated, copied to the device, then the step;
  (b) this project: the worker's loop step, `Trainer.advance` (device-resident uint8 set, batched device
      augmentation, channels_last + bf16 autocast on CUDA, the divergence check read a step late) with
      its monitors on at the preset's cadence (z_std and a `train` event every log_every steps, std
      quantiles + effective rank every collapse_every) and the online linear probe's step (its share of
      step time is printed on its own);
  (c) the same optimizer step on ready, already augmented tensors, nothing read back (the upper bound).
Each of R rounds times (a), then (b) and (c) in alternating turns of 5 consecutive steps (the same
machine load for both; within a turn steps run back to back, as in the loop); the figures are medians
over rounds and the ratios medians of the per-round ratios, so a noisy shared machine moves them little.
The data are CIFAR-shaped synthetic uint8 images (smooth
random colour fields plus noise; CIFAR-10 cannot be downloaded here), held as PIL images for (a) and
as a device uint8 tensor for (b). On CUDA: the cifar10 scale (ResNet-18, 3x3 stem, batch 512), 50k
train + 10k test images. On CPU: the digits-scale ResNet (width 16) at 32 x 32, batch 128, fewer
images, and train.compile on (inductor fuses the augmentation's elementwise ops; eager CPU ops are
memory-bound). Every choice is printed.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch

from simsiam_tui.config import resolve_config
from simsiam_tui.store import EventWriter
from simsiam_tui.train import loop as loop_module
from simsiam_tui.train.datasets import CIFAR10_MEAN, CIFAR10_STD, DataBundle, ImageSet
from simsiam_tui.train.knn import extract_features, knn_top1
from simsiam_tui.train.loop import StopFlag, Trainer
from simsiam_tui.train.methods import Batch
from simsiam_tui.train.monitors import effective_rank, std_quantiles
from simsiam_tui.train.runtime import SafeEvents


def synthetic_cifar(n: int, seed: int) -> torch.Tensor:
    """n CIFAR-shaped uint8 images (N x 3 x 32 x 32): 4 x 4 random colours upsampled, plus pixel noise."""
    g = torch.Generator().manual_seed(seed)
    out = torch.empty(n, 3, 32, 32, dtype=torch.uint8)
    for i in range(0, n, 4096):
        m = min(4096, n - i)
        coarse = torch.rand(m, 3, 4, 4, generator=g)
        x = torch.nn.functional.interpolate(coarse, size=(32, 32), mode="bicubic", align_corners=False)
        x = x + 0.08 * torch.randn(m, 3, 32, 32, generator=g)
        out[i : i + m] = (x.clamp(0, 1) * 255).round().to(torch.uint8)
    return out


class ReferenceSet(torch.utils.data.Dataset):
    """The paper's data path: uint8 HWC arrays -> PIL (as torchvision's CIFAR10) -> two augmented views."""

    def __init__(self, images: np.ndarray, mean: tuple[float, ...], std: tuple[float, ...]) -> None:
        from torchvision import transforms as T

        self.images = images
        self.tf = T.Compose(
            [
                T.RandomResizedCrop(32, scale=(0.2, 1.0)),
                T.RandomApply([T.ColorJitter(0.4, 0.4, 0.4, 0.1)], p=0.8),
                T.RandomGrayscale(p=0.2),
                T.RandomHorizontalFlip(),
                T.ToTensor(),
                T.Normalize(mean, std),
            ]
        )

    def __len__(self) -> int:
        return len(self.images)

    def __getitem__(self, i: int) -> tuple[torch.Tensor, torch.Tensor]:
        from PIL import Image

        img = Image.fromarray(self.images[i])
        return self.tf(img), self.tf(img)


def sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def build_trainer(args: argparse.Namespace, device: torch.device, root: Path) -> tuple[Trainer, DataBundle]:
    """The worker's Trainer on the synthetic set (the data set loader is swapped for the benchmark's)."""
    cuda = device.type == "cuda"
    scale = "cifar10" if cuda else "digits"
    overrides = [
        f"data.batch_size={args.batch}",
        "data.image_size=32",
        f"train.device={device.type}",
        f"train.compile={'true' if args.compile == 'on' else 'false'}",
        "train.epochs=1",
    ]
    if not cuda:
        overrides.append(f"model.width={args.width}")
    cfg = resolve_config(preset="simsiam", scale=scale, overrides=overrides)
    train = ImageSet(synthetic_cifar(args.train_images, 0), torch.zeros(args.train_images, dtype=torch.int64))
    test = ImageSet(synthetic_cifar(args.test_images, 1), torch.zeros(args.test_images, dtype=torch.int64))
    train.labels = torch.arange(args.train_images) % 10
    test.labels = torch.arange(args.test_images) % 10
    bundle = DataBundle(train, train, test, 10, CIFAR10_MEAN, CIFAR10_STD)
    loop_module.load_dataset = lambda *a, **k: bundle  # type: ignore[assignment]
    events = SafeEvents(EventWriter(root / "events.jsonl", cfg.monitor.flush_every_s))
    return Trainer(cfg, root / "last.pt", events, StopFlag()), bundle


def timed(device: torch.device, steps: int, warmup: int, step: Callable[[], int]) -> float:
    """Images per second over `steps` calls of `step` (returns images done) after `warmup` calls."""
    for _ in range(warmup):
        step()
    sync(device)
    t0, images = time.perf_counter(), 0
    for _ in range(steps):
        images += step()
    sync(device)
    return images / (time.perf_counter() - t0)


def alternated(
    device: torch.device, steps: int, f: Callable[[], int], g: Callable[[], int], block: int = 5
) -> tuple[float, float]:
    """Images per second of f and of g, in turns of `block` consecutive calls (both see the same machine load).

    Each turn runs its calls back to back, as the training loop does, and waits for the device only at its
    ends: on a GPU, a step may queue work while the previous one still runs (a sync around every call
    would charge each step the host's launch time and hide that overlap).
    """
    f(), g()
    spent, done = [0.0, 0.0], [0, 0]
    for turn in range(0, steps, block):
        for k, fn in enumerate((f, g)):
            sync(device)
            t0 = time.perf_counter()
            for _ in range(min(block, steps - turn)):
                done[k] += fn()
            sync(device)
            spent[k] += time.perf_counter() - t0
    return done[0] / spent[0], done[1] / spent[1]


def main() -> None:  # noqa: PLR0915
    """Run the three phases in rounds and print the figures."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--device", default="auto")
    ap.add_argument("--batch", type=int)
    ap.add_argument("--workers", type=int)
    ap.add_argument("--steps", type=int)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--width", type=int, default=16, help="digits ResNet width (CPU only)")
    ap.add_argument("--compile", choices=["on", "off"])
    ap.add_argument("--train-images", type=int)
    ap.add_argument("--test-images", type=int)
    args = ap.parse_args()
    want = args.device if args.device != "auto" else ("cuda" if torch.cuda.is_available() else "cpu")
    device = torch.device(want)
    cuda = device.type == "cuda"
    args.batch = args.batch or (512 if cuda else 128)
    args.workers = args.workers if args.workers is not None else min(8, os.cpu_count() or 1)
    args.steps = args.steps or (30 if cuda else 4)
    args.compile = args.compile or ("off" if cuda else "on")
    args.train_images = args.train_images or (50_000 if cuda else 2_048)
    args.test_images = args.test_images or (10_000 if cuda else 512)

    with tempfile.TemporaryDirectory() as tmp:
        tr, bundle = build_trainer(args, device, Path(tmp))
        cfg, mon = tr.cfg, tr.cfg.monitor
        what = (
            "ResNet-18 (cifar10 scale)"
            if cuda
            else f"digits-scale ResNet width {args.width} (smaller than ResNet-18: CPU)"
        )
        name = torch.cuda.get_device_name(device) if cuda else f"cpu, {torch.get_num_threads()} threads"
        print(f"device: {name}; torch {torch.__version__}")
        print(
            f"model: {what}, 32x32, batch {args.batch}, train.compile {args.compile}; "
            f"data: synthetic CIFAR-shaped uint8 ({args.train_images} train, {args.test_images} test): "
            f"PIL images for (a), a {device.type} uint8 tensor for (b); (a) uses {args.workers} DataLoader workers; "
            f"{args.steps} timed steps x {args.rounds} rounds per figure"
        )
        opt, forward = tr.optimizer, tr.forward

        def fit(x1: torch.Tensor, x2: torch.Tensor) -> torch.Tensor:
            """The optimizer step shared by all three figures (the loop's, without its monitors)."""
            with tr._autocast():
                out = forward(Batch([x1, x2], torch.arange(x1.shape[0], device=x1.device)))
            loss = out.loss.float()  # nothing read back: the bare step is the upper bound
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            return out.z

        def ready(x: torch.Tensor) -> torch.Tensor:
            x = x.to(device, non_blocking=True)
            return x.contiguous(memory_format=torch.channels_last) if cuda else x

        # (b) the project's pipeline: the Trainer's source and its loop step (augmentation, step, divergence
        # check, online probe, monitors at the preset's cadence)
        batches: Any = iter(())
        indices: Any = iter(())
        epoch = [0]

        def project_step() -> int:
            nonlocal batches, indices
            images = next(batches, None)
            if images is None:
                epoch[0] += 1
                batches = iter(tr.train_src.epoch_batches(epoch[0], cfg.train.seed, tr.batch))
                indices = iter(tr.train_src.epoch_indices(epoch[0], cfg.train.seed, tr.batch))
                images = next(batches)
            ended = tr.advance(images, next(indices))
            if ended is not None:
                raise SystemExit(f"the benchmark's run ended: {ended.state}, {ended.reason}")
            return images.shape[0]

        # (c) ready tensors
        x1, x2 = (ready(v) for v in tr.augment(tr.train_src.images[: args.batch]))

        def bare_step() -> int:
            fit(x1, x2)
            return args.batch

        # (a) the reference pipeline
        ref_set = ReferenceSet(bundle.train.images.permute(0, 2, 3, 1).numpy(), CIFAR10_MEAN, CIFAR10_STD)

        def reference_phase() -> float:
            loader = torch.utils.data.DataLoader(
                ref_set,
                batch_size=args.batch,
                shuffle=True,
                num_workers=args.workers,
                pin_memory=cuda,
                drop_last=True,
                persistent_workers=False,
            )
            it: Any = iter(loader)

            def ref_step() -> int:
                nonlocal it
                pair = next(it, None)
                if pair is None:
                    it = iter(loader)
                    pair = next(it)
                fit(ready(pair[0]), ready(pair[1]))
                return args.batch

            rate = timed(device, args.steps, 2, ref_step)
            del it
            return rate

        t_compile = time.perf_counter()
        project_step()
        bare_step()
        sync(device)
        print(
            f"warm-up (first steps{', compile' if args.compile == 'on' else ''}): {time.perf_counter() - t_compile:.1f} s"
        )
        rates: dict[str, list[float]] = {"a": [], "b": [], "c": []}
        for _ in range(args.rounds):
            rates["a"].append(reference_phase())
            rb, rc = alternated(device, args.steps, project_step, bare_step)
            rates["b"].append(rb)
            rates["c"].append(rc)
        a, b, c = (statistics.median(rates[k]) for k in "abc")
        b_a = statistics.median(rb / ra for ra, rb in zip(rates["a"], rates["b"], strict=True))
        b_c = statistics.median(rb / rc for rb, rc in zip(rates["b"], rates["c"], strict=True))

        # monitors, per call, amortized at the preset's cadence
        z = fit(x1, x2).detach()

        def per_call(fn: Callable[[], Any], n: int = 10) -> float:
            fn()
            sync(device)
            t = time.perf_counter()
            for _ in range(n):
                fn()
            sync(device)
            return (time.perf_counter() - t) / n

        log_cost = per_call(lambda: tr._log_train(1.0, 0.1, z, args.batch, 1.0, 0.0))
        collapse_cost = per_call(
            lambda: tr.events.emit(
                "collapse",
                step=tr.step,
                epoch=0.0,
                std_quantiles=std_quantiles(z),
                effective_rank=effective_rank(z),
                dim=z.shape[1],
            )
        )
        step_s = args.batch / b
        share = (log_cost / mon.log_every + collapse_cost / mon.collapse_every) / step_s
        probe_cost = 0.0
        if tr.probe is not None:  # its step on view 1's captured features (the hook itself is in (b) already)
            probe = tr.probe
            with torch.no_grad():
                h = tr.method.backbone(x1).detach()
            labels = tr.labels[: args.batch]

            def probe_step() -> None:
                probe._h = h
                probe.step(labels)

            probe_cost = per_call(probe_step, 20)
        # the device augmentation of one step's two views, alone: the first suspect of a b/c gap
        some_images = tr.train_src.images[: args.batch]
        augment_cost = per_call(lambda: tr.augment(some_images), 10)

        # kNN: the loop's evaluate() against the previous path (eval-mode live model, no_grad, batches of 512,
        # BN unfolded), each beside a timed stretch of (b) steps: the same machine load for the three
        def old_evaluate() -> None:
            tr.method.eval()
            with torch.no_grad():
                fs = [extract_features(tr.method.features, x, tr.augment.prepare_eval, 512) for x, _ in tr.bank_src.ordered(512)]
                qs = [extract_features(tr.method.features, x, tr.augment.prepare_eval, 512) for x, _ in tr.query_src.ordered(512)]
                knn_top1(torch.cat(qs), tr.query_src.labels, torch.cat(fs), tr.bank_src.labels, tr.num_classes, mon.knn_k, mon.knn_t)
            tr.method.train()

        def seconds(fn: Callable[[], Any]) -> float:
            sync(device)
            t = time.perf_counter()
            fn()
            sync(device)
            return time.perf_counter() - t

        def cpu_seconds(fn: Callable[[], Any]) -> float:  # process CPU: what a loaded, shared machine moves least
            t = time.process_time()
            fn()
            return time.process_time() - t

        knn_new, knn_old, knn_epoch, cpu_new, cpu_old = [], [], [], [], []
        for _ in range(args.rounds):
            c0 = time.process_time()
            epoch_s = len(tr.train_src) / timed(device, args.steps, 0, project_step)
            epoch_cpu = (time.process_time() - c0) * len(tr.train_src) / (args.steps * args.batch)
            knn_new.append(seconds(tr.evaluate) / epoch_s)
            knn_old.append(seconds(old_evaluate) / epoch_s)
            knn_epoch.append(epoch_s)
            if not cuda:
                cpu_new.append(cpu_seconds(tr.evaluate) / epoch_cpu)
                cpu_old.append(cpu_seconds(old_evaluate) / epoch_cpu)
        knn_s = statistics.median(r * e for r, e in zip(knn_new, knn_epoch, strict=True))
        epoch_s = statistics.median(knn_epoch)
        tr.events.close()

    print(f"(a) reference (PIL + DataLoader, {args.workers} workers): {a:8.0f} img/s   rounds {_fmt(rates['a'])}")
    print(f"(b) this project (device aug, monitors on):   {b:8.0f} img/s   rounds {_fmt(rates['b'])}")
    print(f"(c) training step on ready tensors:          {c:8.0f} img/s   rounds {_fmt(rates['c'])}")
    print(f"b/a = {b_a:.2f}   b/c = {b_c:.2f}   (medians of the per-round ratios)")
    print(
        f"monitors: {1e3 * log_cost:.2f} ms per train log (every {mon.log_every}), {1e3 * collapse_cost:.2f} ms per "
        f"collapse log (every {mon.collapse_every}): {100 * share:.2f}% of step time"
    )
    if cuda:
        print(f"peak GPU memory: {torch.cuda.max_memory_allocated(device) / 2**30:.2f} GiB allocated")
    print(
        f"online linear probe: {1e3 * probe_cost:.2f} ms per step: {100 * probe_cost / step_s:.2f}% of step time "
        f"(target < 2%; included in (b))"
    )
    print(
        f"device augmentation (two views): {1e3 * augment_cost:.2f} ms per step: {100 * augment_cost / step_s:.2f}% "
        f"of step time (included in (b), not in (c); the rest of the b/c gap is time the device waits)"
    )
    print(
        f"kNN eval ({len(tr.bank_src)} bank + {len(tr.query_src)} queries, k={mon.knn_k}): {knn_s:.2f} s; "
        f"one training epoch at (b): {epoch_s:.2f} s; eval/epoch = {statistics.median(knn_new):.2f} "
        f"(previous path {statistics.median(knn_old):.2f}; new/previous "
        f"{statistics.median(n / o for n, o in zip(knn_new, knn_old, strict=True)):.2f}; medians of {args.rounds} rounds)"
    )
    if cpu_new:
        print(
            f"kNN eval/epoch in process CPU time = {statistics.median(cpu_new):.2f} (previous path "
            f"{statistics.median(cpu_old):.2f}; new/previous "
            f"{statistics.median(n / o for n, o in zip(cpu_new, cpu_old, strict=True)):.2f})"
        )


def _fmt(values: list[float]) -> str:
    return " ".join(f"{v:.0f}" for v in values)


if __name__ == "__main__":
    main()
