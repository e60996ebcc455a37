"""Recorded-style stop-grad suite runs (simsiam learns, no-stop-grad collapses) written as real run directories.

Run as a script to make a folder to look at: `python -m tests.ui.fixtures /tmp/runs`.
"""

from __future__ import annotations

import math
import random
import sys
from pathlib import Path

from simsiam_tui.config import config_to_dict, resolve_config
from simsiam_tui.store import RunPaths, encode_event, write_status
from simsiam_tui.store.status import atomic_write_text

T0 = 1_767_000_000.0  # a fixed clock: snapshots never depend on today's date
STEPS_PER_EPOCH = 40
EPOCHS = 10
DIM = 512
REF = 1 / math.sqrt(DIM)
HOST = "gpu-node-07"  # another host: the app shows its `system` events and never probes its pid
SECONDS_PER_STEP = 0.75


def healthy(frac: float, rng: random.Random) -> dict[str, float]:
    """SimSiam with stop-grad: loss toward -0.9, z_std/ref near 1, high rank, kNN rising to about 0.85."""
    return {
        "loss": -0.9 + 0.75 * math.exp(-5 * frac) + rng.gauss(0, 0.015),
        "ratio": 0.93 + 0.04 * (1 - math.exp(-4 * frac)) + rng.gauss(0, 0.01),
        "rank": 20 + 7 * (1 - math.exp(-3 * frac)) + rng.gauss(0, 0.4),
        "knn": 0.85 - 0.55 * math.exp(-3.2 * frac) + rng.gauss(0, 0.006),
    }


def collapsing(frac: float, rng: random.Random) -> dict[str, float]:
    """Without stop-grad: loss to -1 at once, z_std/ref down to about 0.3, rank collapsing, kNN near chance."""
    return {
        "loss": -1.0 + 0.6 * math.exp(-40 * frac) + abs(rng.gauss(0, 0.002)),
        "ratio": 0.28 + 0.65 * math.exp(-9 * frac) + rng.gauss(0, 0.01),
        "rank": 6.5 + 19 * math.exp(-10 * frac) + rng.gauss(0, 0.3),
        "knn": 0.105 + 0.2 * math.exp(-12 * frac) + rng.gauss(0, 0.004),
    }


CURVES = {"simsiam": healthy, "no-stop-grad": collapsing}


def write_run(
    root: Path,
    run_id: str,
    variant: str,
    upto_epoch: float = EPOCHS,
    state: str | None = None,
    seed: int = 0,
    t0: float = T0,
    host: str = HOST,
    log_every: int = 5,
) -> RunPaths:
    """One run directory (config.json, status.json, events.jsonl, worker.log) with events up to `upto_epoch`."""
    rng = random.Random(seed)
    curve = CURVES.get(variant, healthy)
    paths = RunPaths(root / run_id)
    paths.checkpoints.mkdir(parents=True, exist_ok=True)
    cfg = config_to_dict(resolve_config(variant, "digits"))
    cfg["train"]["epochs"] = EPOCHS
    atomic_write_text(paths.config, __import__("json").dumps(cfg, indent=1) + "\n")
    total = EPOCHS * STEPS_PER_EPOCH
    last_step = int(upto_epoch * STEPS_PER_EPOCH)
    finished = last_step >= total
    state = state or ("finished" if finished else "running")
    lines = [
        encode_event(
            "start",
            0,
            0.0,
            {
                "host": host,
                "pid": 4242,
                "device": "cuda:0",
                "devices": ["NVIDIA A100-SXM4-80GB"],
                "world_size": 1,
                "resumed_from_step": None,
                "steps_per_epoch": STEPS_PER_EPOCH,
                "total_steps": total,
                "variant": variant,
                "num_classes": 10,  # the verdict's chance level
            },
            now=t0,
        )
    ]
    log = [f"[{variant}] start on {host} cuda:0, {total} steps"]
    for step in range(1, last_step + 1):
        now = t0 + 2.0 + step * SECONDS_PER_STEP
        epoch = step / STEPS_PER_EPOCH
        m = curve(step / total, rng)
        if step % log_every == 0:
            lines.append(
                encode_event(
                    "train",
                    step,
                    epoch,
                    {
                        "loss": m["loss"],
                        "lr": 0.025 * (1 + math.cos(math.pi * step / total)),
                        "z_std": m["ratio"] * REF,
                        "z_std_ref": REF,
                        "img_per_s": 2400 + rng.gauss(0, 60),
                        "data_wait": 0.02,
                    },
                    now=now,
                )
            )
        if step % 10 == 0:
            qs = sorted(max(0.0, m["ratio"] * REF * (0.5 + i / 15) + rng.gauss(0, 0.001)) for i in range(16))
            lines.append(
                encode_event(
                    "collapse", step, epoch, {"std_quantiles": qs, "effective_rank": m["rank"], "dim": DIM}, now=now
                )
            )
            util = 55 + 35 * (0.5 + 0.5 * math.sin(step / 9)) + rng.gauss(0, 3)
            lines.append(
                encode_event(
                    "system",
                    step,
                    epoch,
                    {
                        "cpu_pct": 180.0,
                        "rss_mb": 2900.0,
                        "proc_cpu_pct": 98.0,
                        "gpu_index": 0,
                        "gpu_util_pct": min(100, util),
                        "gpu_mem_used_mb": 9100.0 + 100 * math.sin(step / 5),
                        "gpu_mem_total_mb": 81920.0,
                    },
                    now=now,
                )
            )
        if step % STEPS_PER_EPOCH == 0:
            lines.append(
                encode_event("eval", step, epoch, {"knn_top1": m["knn"], "knn_k": 50, "seconds": 1.5}, now=now + 1)
            )
            lines.append(
                encode_event(
                    "checkpoint", step, epoch, {"path": "last.pt", "reason": "epoch", "seconds": 0.1}, now=now + 1.2
                )
            )
            log.append(
                f"epoch {step // STEPS_PER_EPOCH}/{EPOCHS} loss {m['loss']:.4f} z_std/ref {m['ratio']:.2f} kNN {m['knn']:.3f}"
            )
    end_time = t0 + 2.0 + last_step * SECONDS_PER_STEP + 2
    if finished:
        lines.append(
            encode_event(
                "end",
                last_step,
                last_step / STEPS_PER_EPOCH,
                {"state": "finished", "reason": "done", "exit_code": 0},
                now=end_time,
            )
        )
        log.append("finished")
    paths.events.write_text("".join(lines))
    paths.log.write_text("\n".join(log) + "\n")
    write_status(
        paths.status,
        {
            "state": state,
            "name": variant,
            "variant": variant,
            "created": t0 - 1,
            "host": host,
            "pid": 4242,
            "pgid": 4242,
            "gpus": "0",
            "heartbeat": end_time,
            "slurm_job_id": None,
            "message": "",
        },
    )
    return paths


SIMSIAM_ID = "20260101-000000-simsiam-a1b2"  # the suite's healthy run, which many UI tests look at


def stop_grad_suite(root: Path, upto_epoch: float = 7.25, state: str | None = None) -> list[RunPaths]:
    """The stop-grad suite mid-way: simsiam healthy, no-stop-grad collapsed."""
    return [
        write_run(root, SIMSIAM_ID, "simsiam", upto_epoch, state, seed=1),
        write_run(root, "20260101-000001-no-stop-grad-c3d4", "no-stop-grad", upto_epoch, state, seed=2),
    ]


def append_train(paths: RunPaths, step: int, loss: float, ratio: float = 0.95, now: float | None = None) -> None:
    """Append one `train` event to a run (for live-update tests)."""
    line = encode_event(
        "train",
        step,
        step / STEPS_PER_EPOCH,
        {"loss": loss, "lr": 0.01, "z_std": ratio * REF, "z_std_ref": REF, "img_per_s": 2500.0, "data_wait": 0.02},
        now=now if now is not None else T0 + step,
    )
    with paths.events.open("a") as fh:
        fh.write(line)


if __name__ == "__main__":
    target = Path(sys.argv[1] if len(sys.argv) > 1 else "runs")
    for p in stop_grad_suite(target):
        print(p.dir)
