"""Time to the first verdict: from `simsiam-tui demo` to the no-stop-grad run judged `collapsed`.

    python benchmarks/first_verdict.py [--app] [--timeout 300] [--keep] [--set KEY=VALUE ...]

Runs `simsiam-tui demo --no-app` (the demo's launch, without the app; with --app, `simsiam-tui demo` itself,
its app in a pseudo-terminal, timed until COLLAPSED is drawn) in a fresh temporary folder with no
SIMSIAM_TUI_* variables, then reads the run folders every 0.25 s with the same verdict the app and
`runs ls` use. Prints seconds to: both workers running, the first `train` event, `collapsed`, and SimSiam's
verdict at that moment, and the CPU time the no-stop-grad worker had used (its wall time on an idle machine
with a core per run). The app polls every 0.5 s, so its row shows COLLAPSED within about 0.5 s of this.
The runs are killed at the end (`runs stop --force`) unless --keep. The load average is printed: on a
machine shared with other work the figure is longer than on an idle one.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from simsiam_tui.launch import run_summary
from simsiam_tui.store import list_runs, read_events


def worker_cpu_seconds(pid: object) -> float | None:
    """User + system CPU seconds a live worker has used (its own process), None when unknown."""
    import psutil

    if not isinstance(pid, int):
        return None
    try:
        times = psutil.Process(pid).cpu_times()
    except psutil.Error:
        return None
    return times.user + times.system


def main() -> int:
    """Launch the demo's runs from a fresh folder and time the no-stop-grad verdict."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--timeout", type=float, default=300.0, help="give up after this many seconds")
    parser.add_argument("--keep", action="store_true", help="leave the runs going")
    parser.add_argument("--set", dest="overrides", action="append", default=[], help="KEY=VALUE passed to demo")
    parser.add_argument(
        "--app", action="store_true", help="run `simsiam-tui demo` with its app in a pseudo-terminal and also time "
        "the first COLLAPSED drawn on its screen",
    )
    args = parser.parse_args()
    cli = Path(sys.executable).parent / "simsiam-tui"
    env = {k: v for k, v in os.environ.items() if not k.startswith("SIMSIAM_TUI_")}
    cwd = Path(tempfile.mkdtemp(prefix="first-verdict-"))
    load0 = os.getloadavg()
    t0 = time.monotonic()
    sets = [part for kv in args.overrides for part in ("--set", kv)]
    term = None
    if args.app:
        sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
        from tests.test_readme import Terminal

        term = Terminal([str(cli), "demo", *sets], cwd, env)
    else:
        subprocess.run([str(cli), "demo", "--no-app", *sets], cwd=cwd, env=env, check=True, capture_output=True)
    launched = time.monotonic() - t0
    marks: dict[str, float] = {}
    cpu: float | None = None
    simsiam_verdict = "-"
    root = cwd / "runs"
    try:
        while time.monotonic() - t0 < args.timeout:
            summaries = {s["variant"]: s for s in (run_summary(p).to_dict() for p in list_runs(root))}
            now = time.monotonic() - t0
            if "running" not in marks and summaries and all(s["state"] == "running" for s in summaries.values()):
                marks["running"] = now
            nsg = summaries.get("no-stop-grad")
            if nsg and "train" not in marks and any(e.get("kind") == "train" for e in read_events(Path(nsg["dir"]) / "events.jsonl")):
                marks["train"] = now
            if nsg and nsg["verdict"] == "collapsed" and "collapsed" not in marks:
                marks["collapsed"] = now
                cpu = worker_cpu_seconds(nsg.get("pid"))
                simsiam_verdict = summaries.get("simsiam", {}).get("verdict", "-")
                reason = nsg["verdict_reason"]
            if term is not None and "app" not in marks and b"COLLAPSED" in term.output:
                marks["app"] = now
            if "collapsed" in marks and (term is None or "app" in marks):
                break
            time.sleep(0.25)
        else:
            reason = "timed out"
    finally:
        if term is not None:
            term.quit()
        if not args.keep:
            ids = [p.run_id for p in list_runs(root)]
            subprocess.run([str(cli), "runs", "stop", "--force", *ids], cwd=cwd, env=env, capture_output=True)
    load1 = os.getloadavg()
    cores = os.cpu_count() or 1
    print(f"folder {cwd}; {cores} CPU cores; load average {load0[0]:.1f} at start, {load1[0]:.1f} at the end")
    print(f"demo {'(app in a pseudo-terminal) started' if term else '--no-app returned'} after {launched:.1f} s")
    for key, label in (
        ("running", "both workers running"), ("train", "first train event of no-stop-grad"),
        *((("app", "the app's screen shows COLLAPSED"),) if term is not None else ()),
    ):  # fmt: skip
        print(f"{label}: {marks[key]:.1f} s" if key in marks else f"{label}: not reached")
    if "collapsed" in marks:
        print(f"no-stop-grad COLLAPSED after {marks['collapsed']:.1f} s ({reason}); simsiam then: {simsiam_verdict}")
        if cpu is not None:
            print(
                f"the no-stop-grad worker had used {cpu:.1f} s of CPU by then: about its wall time on an idle machine "
                f"with a core per run, plus the {launched:.1f} s the launch took"
            )
    else:
        print(f"no-stop-grad not collapsed within {args.timeout:.0f} s")
    if max(load0[0], load1[0]) > cores:
        print("note: the machine was loaded by other work (load average above the core count)")
    return 0 if "collapsed" in marks else 1


if __name__ == "__main__":
    sys.exit(main())
