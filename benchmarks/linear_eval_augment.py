"""What computing the linear evaluation's features once costs: top-1 with and without per-epoch augmentation.

    python benchmarks/linear_eval_augment.py RUN_DIR [RUN_DIR ...] [--epochs 100]

Each RUN_DIR is a finished pre-training run (its checkpoints/last.pt), e.g. the three seeds of
`simsiam-tui launch --preset simsiam --seeds 3 --scale digits`. For each, the run's linear-evaluation protocol
(config/linear_protocol.py) trains the classifier twice from the same init: on the centre-crop features computed
once (what `eval linear` does), and on features recomputed every epoch from main_lincls.py's training augmentation
(RandomResizedCrop, scale 0.08-1, and a horizontal flip); both are tested on centre crops. Prints a markdown table.
"""

from __future__ import annotations

import argparse
import dataclasses
import statistics
import tempfile
import time
from pathlib import Path

import torch

from simsiam_tui.config import config_from_dict, config_to_dict, parse_config_file
from simsiam_tui.config.linear_protocol import linear_protocol
from simsiam_tui.store import EventWriter
from simsiam_tui.train.augment import DeviceAugment
from simsiam_tui.train.linear_eval import LinearEval
from simsiam_tui.train.loop import StopFlag
from simsiam_tui.train.runtime import SafeEvents


class AugmentedLinearEval(LinearEval):
    """The same run, its training features recomputed every epoch from main_lincls's augmentation."""

    @torch.no_grad()
    def epoch_features(self, epoch: int, cached: tuple[torch.Tensor, torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor]:
        """Features of one RandomResizedCrop(0.08-1) + flip view of every training image (no colour changes)."""
        spec = dataclasses.replace(self.spec, scale=(0.08, 1.0), jitter_p=0.0, gray_p=0.0)
        g = torch.Generator(device=self.device).manual_seed(self.cfg.train.seed * 1000 + epoch)
        augment = DeviceAugment(spec, g)
        fs, ys = [], []
        for images, labels in self.train_src.ordered(512):
            fs.append(self.backbone(augment.view(images.to(self.device))).float())
            ys.append(labels.to(self.device))
        f, y = torch.cat(fs), torch.cat(ys)
        return f[y >= 0], y[y >= 0]


def evaluate(run_dir: Path, epochs: int, augmented: bool) -> tuple[float, float]:
    """(test top-1, seconds) of one linear evaluation of `run_dir`'s last checkpoint."""
    cfg = parse_config_file((run_dir / "config.json").read_bytes(), run_dir / "config.json")
    data = config_to_dict(cfg)
    data["linear_eval"].update(
        linear_protocol(cfg.data.name, epochs), source_run=run_dir.name, source_dir=str(run_dir),
        checkpoint=str(run_dir / "checkpoints" / "last.pt"),
    )
    with tempfile.TemporaryDirectory() as tmp:
        events = SafeEvents(EventWriter(Path(tmp) / "events.jsonl", 1.0))
        kind = AugmentedLinearEval if augmented else LinearEval
        t0 = time.perf_counter()
        ev = kind(config_from_dict(data), Path(tmp) / "last.pt", events, StopFlag())
        outcome = ev.run()
        seconds = time.perf_counter() - t0
        events.close()
        if outcome.state != "finished":
            raise SystemExit(f"{run_dir}: {outcome.state}: {outcome.reason}")
        return ev.top1(*ev.features(ev.test_src)), seconds


def mean_std(values: list[float]) -> str:
    """'mean ± sample std' in percent."""
    spread = statistics.stdev(values) if len(values) > 1 else 0.0
    return f"{100 * statistics.mean(values):.1f} ± {100 * spread:.1f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("runs", nargs="+", type=Path, help="finished pre-training run folders")
    parser.add_argument("--epochs", type=int, default=100, help="classifier epochs (the protocol's 100)")
    args = parser.parse_args()
    rows, plain, aug = [], [], []
    for run in args.runs:
        (p, ps), (a, as_) = evaluate(run, args.epochs, False), evaluate(run, args.epochs, True)
        plain.append(p)
        aug.append(a)
        rows.append(f"| {run.name} | {100 * p:.1f} | {100 * a:.1f} | {ps:.0f} | {as_:.0f} |")
    print("| source run | centre crops, features once % | per-epoch augmentation % | seconds | seconds |")
    print("|---|--:|--:|--:|--:|")
    print("\n".join(rows))
    print(f"| mean ± std (n = {len(plain)}) | {mean_std(plain)} | {mean_std(aug)} | | |")


if __name__ == "__main__":
    main()
