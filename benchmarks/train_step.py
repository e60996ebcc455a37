"""Benchmark: img/s of one SimSiam training step (digits scale, ResNet-18 at CIFAR shape) and the monitors' share.

Usage: python benchmarks/train_step.py [--steps N] [--cpu-batch B]
Random uint8 images stand in for data; the step is the worker's: two device-augmented views,
forward (bf16 autocast + channels_last on CUDA), backward, SGD. Monitors are timed per call and
amortized by their default cadence (train every log_every steps, collapse every collapse_every).
"""

from __future__ import annotations

import argparse
import contextlib
import time

import torch

from simsiam_tui.config import resolve_config
from simsiam_tui.train.augment import AugmentSpec, DeviceAugment
from simsiam_tui.train.methods import Batch, build_method
from simsiam_tui.train.monitors import effective_rank, std_quantiles, z_std
from simsiam_tui.train.optim import build_optimizer


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def bench(scale: str, batch: int, steps: int, device: torch.device) -> dict[str, float]:
    """Time `steps` training steps of the simsiam preset at `scale` with `batch` images per step."""
    cfg = resolve_config(preset="simsiam", scale=scale, overrides=[f"data.batch_size={batch}"])
    torch.manual_seed(0)
    cuda = device.type == "cuda"
    method = build_method(cfg).to(device)
    if cuda:
        method = method.to(memory_format=torch.channels_last)
    opt = build_optimizer(method, cfg, batch)
    size = cfg.data.image_size
    aug = DeviceAugment(AugmentSpec(size, (0.5,) * 3, (0.25,) * 3, blur_p=0.5 if cfg.data.blur else 0.0),
                        torch.Generator(device=device).manual_seed(0))
    images = torch.randint(0, 256, (batch, 3, size, size), dtype=torch.uint8, device=device)
    index = torch.arange(batch, device=device)  # the images' train-set indices (simsiam reads none)
    autocast = (lambda: torch.autocast("cuda", dtype=torch.bfloat16)) if cuda else contextlib.nullcontext

    def step() -> torch.Tensor:
        x1, x2 = aug(images)
        if cuda:
            x1, x2 = (x.contiguous(memory_format=torch.channels_last) for x in (x1, x2))
        with autocast():
            out = method(Batch([x1, x2], index))
        loss = out.loss.float()
        bool(torch.isfinite(loss.detach()))  # the loop's per-step divergence check (a sync)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        return out.z

    for _ in range(3):
        z = step()
    _sync(device)
    t0 = time.perf_counter()
    for _ in range(steps):
        z = step()
    _sync(device)
    step_s = (time.perf_counter() - t0) / steps

    def per_call(fn) -> float:  # type: ignore[no-untyped-def]
        fn()
        _sync(device)
        t = time.perf_counter()
        for _ in range(10):
            fn()
        _sync(device)
        return (time.perf_counter() - t) / 10

    train_mon = per_call(lambda: z_std(z))
    collapse_mon = per_call(lambda: (std_quantiles(z), effective_rank(z)))
    mon = cfg.monitor
    share = (train_mon / mon.log_every + collapse_mon / mon.collapse_every) / step_s
    return {"img_per_s": batch / step_s, "step_ms": 1e3 * step_s, "train_monitor_ms": 1e3 * train_mon,
            "collapse_monitor_ms": 1e3 * collapse_mon, "monitor_share": share}


def main() -> None:
    """Print one line per configuration."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--steps", type=int, default=None)
    ap.add_argument("--cpu-batch", type=int, default=64)
    args = ap.parse_args()
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    name = torch.cuda.get_device_name(device) if device.type == "cuda" else f"cpu ({torch.get_num_threads()} threads)"
    print(f"device: {name}, torch {torch.__version__}")
    runs = [("digits", 64, args.steps or 20)]
    if device.type == "cuda":
        runs.append(("cifar10", 512, args.steps or 20))
    else:
        runs.append(("cifar10", args.cpu_batch, args.steps or 3))
    for scale, batch, steps in runs:
        r = bench(scale, batch, steps, device)
        what = "digits scale (resnet-small)" if scale == "digits" else "ResNet-18 CIFAR shape 32x32"
        print(
            f"{what}, batch {batch}: {r['img_per_s']:.0f} img/s ({r['step_ms']:.1f} ms/step); monitors: "
            f"train {r['train_monitor_ms']:.2f} ms/call, collapse {r['collapse_monitor_ms']:.2f} ms/call, "
            f"{100 * r['monitor_share']:.2f}% of step time at the default cadence"
        )


if __name__ == "__main__":
    main()
