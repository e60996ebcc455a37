"""Write a small CIFAR-10 folder in torchvision's on-disk format (pickled batches) with class-coloured images.

    python benchmarks/fake_cifar.py DIR [--per-batch 2000] [--test 2000]

DIR/cifar-10-batches-py/{data_batch_1..5, test_batch, batches.meta}, each batch a pickled dict with
`data` (N x 3072 uint8, channel-major rows as in the real files) and `labels`. Each class has its own mean
colour plus noise, so a kNN on any sensible features beats chance. Used by benchmarks/gpu_check.sh.
"""

from __future__ import annotations

import argparse
import pickle
from pathlib import Path

import numpy as np

CLASSES = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]


def batch(n: int, rng: np.random.Generator) -> dict[str, object]:
    """n images (N x 3072, channel-major) and their labels."""
    labels = rng.integers(0, 10, n)
    colours = np.linspace(30, 225, 10)[:, None] * np.array([1.0, 0.6, 0.3])[None, :]  # 10 x 3
    colours = colours[np.argsort(rng.permutation(10))]
    x = colours[labels][:, :, None, None] + rng.normal(0, 40, (n, 3, 32, 32))
    return {"data": x.clip(0, 255).astype(np.uint8).reshape(n, 3072), "labels": labels.tolist()}


def main() -> None:
    """Write the folder."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("dir")
    ap.add_argument("--per-batch", type=int, default=2000)
    ap.add_argument("--test", type=int, default=2000)
    args = ap.parse_args()
    out = Path(args.dir) / "cifar-10-batches-py"
    out.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    for i in range(1, 6):
        (out / f"data_batch_{i}").write_bytes(pickle.dumps(batch(args.per_batch, rng)))
    (out / "test_batch").write_bytes(pickle.dumps(batch(args.test, rng)))
    (out / "batches.meta").write_bytes(pickle.dumps({"label_names": CLASSES, "num_cases_per_batch": args.per_batch}))
    print(f"wrote {5 * args.per_batch} train + {args.test} test images to {out}")


if __name__ == "__main__":
    main()
