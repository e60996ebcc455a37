"""`--on-collapse stop` on the stop-grad and predictor suites at the digits scale: when it stops, and what it saves.

    python benchmarks/collapse_stop.py [RUNS_DIR] [--seeds 3] [--epochs 50]

Two launches of the same grid (simsiam, no-stop-grad, no-predictor, fixed-random-predictor x seeds), one
thread per run: first to the end (`--on-collapse continue`), then with `--on-collapse stop`. From the
first launch's events, each run's verdict is judged after every evaluation exactly as the worker's guard
judges it: the epoch of the first `collapsed`, and whether any later evaluation says otherwise (it must
not, or stopping would cut a run that recovers). From both launches: each run's wall time (start to end
event; one thread each, so CPU seconds). The seconds saved are read off the first launch's own timeline (its
seconds after the epoch where the second launch stopped that run), so both sides ran under the same load:
the second launch's wall time is printed too, but it ran beside other work. Prints a Markdown table.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from simsiam_tui.store import RunHistory, RunPaths, list_runs, read_config_dict, read_events
from simsiam_tui.store.summary import verdict_view
from simsiam_tui.store.verdict import COLLAPSED, judge

VARIANTS = ["simsiam", "no-stop-grad", "no-predictor", "fixed-random-predictor"]


def cli(*args: str) -> str:
    """`simsiam-tui ARGS` as the README types it; its stdout."""
    proc = subprocess.run([sys.executable, "-m", "simsiam_tui.cli", *args], capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise SystemExit(f"simsiam-tui {' '.join(args)} failed: {proc.stderr.strip()}")
    return proc.stdout


def launch(root: Path, seeds: int, epochs: int, on_collapse: str) -> None:
    """The grid, two runs at a time on the CPU, then wait until every run has ended."""
    presets = [arg for v in VARIANTS for arg in ("--preset", v)]
    cli("launch", *presets, "--seeds", str(seeds), "--scale", "digits", "--set", f"train.epochs={epochs}",
        "--on-collapse", on_collapse, "--gpus", "cpu", "--per-gpu", "2", "--runs", str(root))  # fmt: skip
    wait(root)


def wait(root: Path) -> None:
    """Until no run under `root` is queued, starting or running (a rerun of the script picks up where it was)."""
    while any(r["state"] in ("queued", "starting", "running") for r in json.loads(cli("runs", "ls", "--json", "--runs", str(root)))):
        time.sleep(5)


def timeline(run_dir: Path) -> dict[str, Any]:
    """Per run: variant, seed, seconds start to end, the end's reason, and the verdict after every evaluation."""
    events = read_events(run_dir / "events.jsonl")
    history, verdicts = RunHistory(), []
    for event in events:
        history.apply([event])
        if event.get("kind") == "eval":
            verdicts.append((float(event["epoch"]), judge(verdict_view(history)).label))
    start = next(e for e in events if e["kind"] == "start")
    end = next((e for e in reversed(events) if e["kind"] == "end"), None)
    config = read_config_dict(RunPaths(run_dir))
    times = [(float(e["epoch"]), float(e["time"])) for e in events if e.get("kind") in ("train", "eval", "end")]
    return {
        "times": times,
        "start": float(start["time"]),
        "variant": config.get("variant"),
        "seed": (config.get("train") or {}).get("seed"),
        "seconds": (end["time"] - start["time"]) if end else None,
        "epoch": float(end["epoch"]) if end else None,
        "reason": (end or {}).get("reason", ""),
        "verdicts": verdicts,
    }


def first_collapsed(verdicts: list[tuple[float, str]]) -> tuple[float | None, bool]:
    """(epoch of the first collapsed verdict, whether a later one says anything else)."""
    for i, (epoch, label) in enumerate(verdicts):
        if label == COLLAPSED:
            return epoch, any(later != COLLAPSED for _, later in verdicts[i + 1 :])
    return None, False


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("root", nargs="?", default="runs-collapse-stop", type=Path)
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--epochs", type=int, default=50)
    args = parser.parse_args()
    full, stopped = args.root.resolve() / "continue", args.root.resolve() / "stop"
    t0 = time.monotonic()
    for root, mode in ((full, "continue"), (stopped, "stop")):
        if list_runs(root):
            wait(root)
        else:
            launch(root, args.seeds, args.epochs, mode)
    print(f"trained in {time.monotonic() - t0:.0f} s", file=sys.stderr)
    ran = {(t["variant"], t["seed"]): t for t in map(timeline, (p.dir for p in list_runs(full)))}
    cut = {(t["variant"], t["seed"]): t for t in map(timeline, (p.dir for p in list_runs(stopped)))}
    print("| variant | seed | first `collapsed` (epoch) | changes afterwards | stopped at epoch | CPU s to the end "
          "| CPU s to the stop | saved | (wall s with stop) |")  # fmt: skip
    print("|---|--:|--:|---|--:|--:|--:|--:|--:|")
    total_full = total_cut = 0.0
    for key in sorted(ran, key=lambda k: (VARIANTS.index(str(k[0])), k[1])):
        a, b = ran[key], cut.get(key, {})
        epoch, changes = first_collapsed(a["verdicts"])
        full_s = a["seconds"] or 0.0
        stopped = b and "--on-collapse" in b.get("reason", "")
        stop_epoch = float(b["epoch"]) if stopped else None
        until = seconds_until(a, stop_epoch) if stop_epoch is not None else full_s
        total_full, total_cut = total_full + full_s, total_cut + until
        first = "-" if epoch is None else f"{epoch:g}"
        print(f"| `{key[0]}` | {key[1]} | {first} | {'yes' if changes else 'no'} | {stop_epoch or '-':} "
              f"| {full_s:.0f} | {until:.0f} | {100 * (1 - until / full_s):.0f}% | {b.get('seconds') or 0:.0f} |")  # fmt: skip
    print(f"\nall runs: {total_full:.0f} CPU s to the end, {total_cut:.0f} with --on-collapse stop "
          f"({100 * (1 - total_cut / max(total_full, 1e-9)):.0f}% saved)")  # fmt: skip


def seconds_until(run: dict[str, Any], epoch: float) -> float:
    """Seconds from a run's start until it first reached `epoch` (its own timeline)."""
    reached = next((t for e, t in run["times"] if e >= epoch), None)
    return (reached if reached is not None else run["times"][-1][1]) - run["start"]


if __name__ == "__main__":
    main()
