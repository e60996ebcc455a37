"""The figures of one gpu_check.sh run, from its logs and its run folders, in one summary.

    python benchmarks/gpu_summary.py LOG_DIR RUNS_DIR
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

FIGURES = {
    "a": r"^\(a\).*?:\s+(\d+) img/s",
    "b": r"^\(b\).*?:\s+(\d+) img/s",
    "c": r"^\(c\).*?:\s+(\d+) img/s",
    "b/a": r"b/a = ([\d.]+)",
    "b/c": r"b/c = ([\d.]+)",
    "monitor %": r"collapse log .*?: ([\d.]+)% of step time",
    "kNN/epoch": r"eval/epoch = ([\d.]+)",
    "probe %": r"online linear probe: [\d.]+ ms per step: ([\d.]+)%",
    "augment %": r"device augmentation \(two views\): [\d.]+ ms per step: ([\d.]+)%",
    "peak GiB": r"peak GPU memory: ([\d.]+) GiB",
    "device": r"^device: ([^;]+)",
}


def throughput(log: Path) -> dict[str, str]:
    """The figures a throughput.py log printed ('-' where missing)."""
    text = log.read_text(errors="replace") if log.exists() else ""
    found = {}
    for name, pattern in FIGURES.items():
        m = re.search(pattern, text, re.MULTILINE)
        found[name] = m.group(1).strip() if m else "-"
    return found


def events(root: Path) -> list[dict[str, object]]:
    """Every event of the first run under `root`."""
    for path in sorted(root.glob("*/events.jsonl")):
        out = []
        for line in path.read_text(errors="replace").splitlines():
            try:
                out.append(json.loads(line))
            except ValueError:
                continue
        return out
    return []


def main() -> None:
    """Print the summary."""
    log, work = Path(sys.argv[1]), Path(sys.argv[2])
    print("summary")
    for mode in ("eager", "compile"):
        f = throughput(log / f"throughput-{mode}.log")
        ok_ba = "ok" if f["b/a"] != "-" and float(f["b/a"]) >= 3 else "below 3"
        ok_bc = "ok" if f["b/c"] != "-" and float(f["b/c"]) >= 0.9 else "below 0.9"
        print(
            f"  throughput ({mode:7s}) on {f['device']}: img/s a {f['a']}  b {f['b']}  c {f['c']};  "
            f"b/a {f['b/a']} ({ok_ba})  b/c {f['b/c']} ({ok_bc});  monitors {f['monitor %']}%;  "
            f"probe {f['probe %']}%;  augmentation {f['augment %']}%;  "
            f"kNN/epoch {f['kNN/epoch']};  peak {f['peak GiB']} GiB"
        )
    for name in ("launch", "torchrun"):
        evs = events(work / name)
        system = [e for e in evs if e.get("kind") == "system"]
        utils = [e["gpu_util_pct"] for e in system if isinstance(e.get("gpu_util_pct"), (int, float))]
        knn = [e["knn_top1"] for e in evs if e.get("kind") == "eval" and isinstance(e.get("knn_top1"), (int, float))]
        end = next((e for e in reversed(evs) if e.get("kind") == "end"), {})
        start = next((e for e in evs if e.get("kind") == "start"), {})
        util = f"max {max(utils):.0f}%, mean {sum(utils) / len(utils):.0f}% over {len(utils)}" if utils else "NONE"
        # the loop's own throughput (its `train` events), past the first epoch's warm-up and compilation
        rates = sorted(
            float(e["img_per_s"]) for e in evs
            if e.get("kind") == "train" and isinstance(e.get("img_per_s"), (int, float))
            and isinstance(e.get("epoch"), (int, float)) and float(e["epoch"]) > 1
        )
        loop = f"{rates[len(rates) // 2]:.0f} img/s (median of {len(rates)} train events, epoch 2)" if rates else "-"
        print(
            f"  2-epoch run ({name:8s}): end {end.get('state', '-')}; devices {start.get('devices', start.get('device', '-'))}; "
            f"world {start.get('world_size', '-')}; kNN top-1 {', '.join(f'{k:.3f}' for k in knn) or '-'}; "
            f"system events {len(system)}, GPU util {util}; loop {loop}"
        )
    probe = log / "probe.log"
    try:
        gpus = json.loads(probe.read_text()).get("gpus", [])
        names = ", ".join(f"{g.get('index')}: {g.get('name')} {g.get('util_pct')}%" for g in gpus) or "none"
        print(f"  GPU probe (real NVML): {names}")
    except (OSError, ValueError, AttributeError):
        print("  GPU probe (real NVML): no readable output")


if __name__ == "__main__":
    main()
