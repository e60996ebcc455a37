"""What the opener's time bound costs: reads/s of read_bytes and read_tail with and without it, in one run.

    python benchmarks/read_bound.py [--files 50] [--seconds 1.0] [--rounds 5] [--threads 1] [--runs-ls 100]

With the bound (store.files.READ_TIMEOUT_S, 10 s) every read's syscalls run on a reader thread of
store/bounded.py and the caller waits for the answer; without it (READ_TIMEOUT_S = None) they run on the
caller's thread. The files are what the app polls: a small status.json (read_bytes) and a 64 KB
worker.log read by a 4 KB tail (read_tail), `--files` of each, read round-robin for `--seconds` per
measurement. The two modes alternate `--rounds` times and the best round of each is kept (a shared
machine's noise only slows a round down). `--threads` callers read at once (the app's poller and the
quantile thread, say). Prints reads/s of each mode, the ratio (bounded / unbounded) and the added
microseconds per read. Then the same for a whole `simsiam-tui runs ls` of `--runs-ls` runs (in this
process, output discarded; 0 skips it): what a listing pays in all.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from simsiam_tui.store import bounded, files  # noqa: E402


def make_files(folder: Path, count: int) -> tuple[list[Path], list[Path]]:
    """`count` status.json-like files (~200 B) and `count` worker.log-like files (64 KB of lines)."""
    statuses, logs = [], []
    line = b"step 12345 loss -0.912345 lr 0.0500 knn 41.2 z_std 0.0312 eff_rank 38.1\n"
    for i in range(count):
        run = folder / f"run{i:04d}"
        run.mkdir()
        status = run / "status.json"
        status.write_text(json.dumps({"state": "running", "name": f"simsiam-{i}", "pid": 1000 + i, "step": i * 7,
                                      "heartbeat": time.time(), "message": "training"}))  # fmt: skip
        log = run / "worker.log"
        log.write_bytes(line * (65536 // len(line)))
        statuses.append(status)
        logs.append(log)
    return statuses, logs


def rate(read: Callable[[Path], object], paths: list[Path], seconds: float, threads: int) -> float:
    """Reads per second of `read` over `paths`, round-robin, by `threads` callers at once."""
    counts = [0] * threads
    stop = time.perf_counter() + seconds
    start_gate = threading.Barrier(threads + 1)

    def loop(k: int) -> None:
        start_gate.wait()
        n, i = 0, k
        while True:
            for _ in range(64):
                read(paths[i % len(paths)])
                i += 1
            n += 64
            if time.perf_counter() >= stop:
                break
        counts[k] = n

    workers = [threading.Thread(target=loop, args=(k,)) for k in range(threads)]
    for w in workers:
        w.start()
    t0 = time.perf_counter()
    start_gate.wait()
    for w in workers:
        w.join()
    return sum(counts) / (time.perf_counter() - t0)


def runs_ls_seconds(root: Path) -> float:
    """Wall seconds of one `simsiam-tui runs ls --runs root`, in this process."""
    from simsiam_tui.cli.main import main as cli

    argv, sys.argv = sys.argv, ["simsiam-tui", "runs", "ls", "--runs", str(root)]
    t = time.perf_counter()
    try:
        with contextlib.redirect_stdout(io.StringIO()), contextlib.suppress(SystemExit):
            cli()
    finally:
        sys.argv = argv
    return time.perf_counter() - t


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--files", type=int, default=50)
    ap.add_argument("--seconds", type=float, default=1.0)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--runs-ls", type=int, default=100)
    args = ap.parse_args()
    bound = files.READ_TIMEOUT_S
    cases: list[tuple[str, Callable[[Path], object], int]] = [
        ("read_bytes(status.json)", files.read_bytes, 0),
        ("read_tail(worker.log, 4096)", lambda p: files.read_tail(p, 4096), 1),
    ]
    with tempfile.TemporaryDirectory() as tmp:
        groups = make_files(Path(tmp), args.files)
        print(f"{args.files} files each, {args.threads} reading thread(s), best of {args.rounds} x {args.seconds:g} s")
        for label, read, group in cases:
            best = {"unbounded": 0.0, "bounded": 0.0}
            for _ in range(args.rounds):
                for mode, value in (("unbounded", None), ("bounded", bound)):
                    files.READ_TIMEOUT_S = value
                    best[mode] = max(best[mode], rate(read, groups[group], args.seconds, args.threads))
            files.READ_TIMEOUT_S = bound
            ratio = best["bounded"] / best["unbounded"]
            extra_us = (1 / best["bounded"] - 1 / best["unbounded"]) * 1e6 * args.threads
            print(f"{label:30s} unbounded {best['unbounded']:9.0f}/s  bounded ({bound:g} s) {best['bounded']:9.0f}/s  "
                  f"ratio {ratio:.2f}  +{extra_us:.1f} us/read")  # fmt: skip
        if args.runs_ls:
            sys.path.insert(0, str(REPO / "benchmarks"))
            from startup import make_root

            root = Path(tmp) / "runs"
            make_root(root, args.runs_ls)
            runs_ls_seconds(root)  # imports and caches warm
            best = {"unbounded": float("inf"), "bounded": float("inf")}
            for _ in range(args.rounds):
                for mode, value in (("unbounded", None), ("bounded", bound)):
                    files.READ_TIMEOUT_S = value
                    best[mode] = min(best[mode], runs_ls_seconds(root))
            files.READ_TIMEOUT_S = bound
            label = f"runs ls ({args.runs_ls} runs)"
            print(f"{label:30s} unbounded {best['unbounded'] * 1e3:7.0f} ms  bounded ({bound:g} s) "
                  f"{best['bounded'] * 1e3:7.0f} ms  ratio {best['unbounded'] / best['bounded']:.2f}")  # fmt: skip
        print(f"reader threads after the run: {bounded.stats()}")


if __name__ == "__main__":
    main()
