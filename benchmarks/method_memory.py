"""Peak training memory of every method at the same batch, against SimSiam (the claim that end-to-end costs a vast memory).

    python benchmarks/method_memory.py [--scale digits] [--batch 256 1024] [--steps 3]

Each (preset, batch) trains `--steps` steps in a fresh subprocess on random views of the scale's image size: the
peak resident memory over the steps minus the memory held before the first one (CPU), and torch's peak allocated
memory where CUDA is there. Prints a markdown table, each method beside SimSiam at the same batch.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys

PRESETS = ("simsiam", "end-to-end", "memory-bank", "momentum", "byol", "vicreg", "barlow-twins")


def _rss_mb() -> float:
    """This process's resident memory now, from /proc (MB)."""
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def one(preset: str, scale: str, batch: int, steps: int) -> dict[str, float]:
    """Train `steps` steps of `preset` at `batch`; the memory it took (run in its own process)."""
    import torch

    from simsiam_tui.config import resolve_config
    from simsiam_tui.train.methods import Batch, build_method

    torch.set_num_threads(1)
    cfg = resolve_config(preset, scale, [f"data.batch_size={batch}", "train.device=cpu"])
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    torch.manual_seed(0)
    method = build_method(cfg)
    method.bind_data(max(batch, 1347))
    method = method.to(device).train()
    opt = torch.optim.SGD([p for p in method.parameters() if p.requires_grad], lr=0.01, momentum=0.9)
    size = cfg.data.image_size
    views = [torch.randn(batch, 3, size, size, device=device) for _ in range(2)]
    index = torch.arange(batch, device=device)
    before = max(_rss_mb(), resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats()
    for step in range(steps):
        out = method(Batch(views, index))
        opt.zero_grad(set_to_none=True)
        out.loss.backward()
        opt.step()
        method.after_step(step, steps)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    cuda = torch.cuda.max_memory_allocated() / 2**20 if device.type == "cuda" else float("nan")
    return {"cpu_mb": peak - before, "cuda_mb": cuda}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", default="digits")
    parser.add_argument("--batch", type=int, nargs="+", default=[256, 1024])
    parser.add_argument("--steps", type=int, default=3)
    parser.add_argument("--one", nargs=2, metavar=("PRESET", "BATCH"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(one(args.one[0], args.scale, int(args.one[1]), args.steps)))
        return
    results: dict[tuple[str, int], dict[str, float]] = {}
    for batch in args.batch:
        for preset in PRESETS:
            cmd = [sys.executable, __file__, "--one", preset, str(batch), "--scale", args.scale, "--steps", str(args.steps)]
            out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
            results[preset, batch] = json.loads(out.strip().splitlines()[-1])
    print(f"| preset | batch | training memory, CPU MB | x simsiam | CUDA peak MB | x simsiam |  ({args.scale} scale)")
    print("|---|--:|--:|--:|--:|--:|")
    for batch in args.batch:
        base = results["simsiam", batch]
        for preset in PRESETS:
            r = results[preset, batch]
            cpu_x = r["cpu_mb"] / base["cpu_mb"] if base["cpu_mb"] > 0 else float("nan")
            cuda_x = r["cuda_mb"] / base["cuda_mb"] if base["cuda_mb"] > 0 else float("nan")
            cuda = "-" if r["cuda_mb"] != r["cuda_mb"] else f"{r['cuda_mb']:.0f}"
            cuda_ratio = "-" if cuda_x != cuda_x else f"{cuda_x:.2f}"
            print(f"| `{preset}` | {batch} | {r['cpu_mb']:.0f} | {cpu_x:.2f} | {cuda} | {cuda_ratio} |")


if __name__ == "__main__":
    main()
