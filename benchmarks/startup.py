"""Startup benchmark: CPU seconds of `simsiam-tui --help` and `simsiam-tui runs ls`, each a fresh process.

    python benchmarks/startup.py [--repeat 7] [--runs-count 20]

CPU time (user + system) of the child process, from resource.getrusage(RUSAGE_CHILDREN) before and after
each run: on a shared, loaded machine it moves far less than wall time. The command runs as
`python -m simsiam_tui.cli` (what the console script calls) in a fresh temp directory with a runs root of
--runs-count finished runs; a bare `python -c pass` is printed beside it as the interpreter's own floor.
Also lists which heavy packages (torch, textual, matplotlib) each command imported: none should be.
Target (issue 16): about 0.3 s each.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from simsiam_tui.store import write_status  # noqa: E402

HEAVY = ("torch", "torchvision", "textual", "matplotlib", "sklearn")
# runs the CLI in-process, then writes the heavy top-level packages it imported (a JSON list) to fd $OUT_FD
PROBE = (
    "import os, sys, json\n"
    "from simsiam_tui.cli.main import main\n"
    "try:\n    main()\nexcept SystemExit:\n    pass\n"
    "heavy = sorted({m.split('.')[0] for m in sys.modules} & set(json.loads(os.environ['HEAVY'])))\n"
    "os.write(int(os.environ['OUT_FD']), json.dumps(heavy).encode())\n"
)


def make_root(root: Path, count: int) -> None:
    """`count` finished runs, each a config.json, a status.json and a short events.jsonl."""
    for i in range(count):
        d = root / f"20260101-{i:06d}-simsiam-{i:04x}"
        d.mkdir(parents=True)
        (d / "config.json").write_text(json.dumps({"variant": "simsiam", "scale": "digits", "train": {"epochs": 3}}))
        write_status(d / "status.json", {"state": "finished", "name": f"simsiam-{i}", "created": time.time()})
        (d / "events.jsonl").write_text(
            json.dumps({"v": 1, "kind": "start", "time": time.time(), "step": 0, "epoch": 0.0}) + "\n"
        )


def cpu_of(argv: list[str], cwd: Path, env: dict[str, str]) -> tuple[float, float]:
    """(CPU seconds, wall seconds) of one child process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t = time.perf_counter()
    subprocess.run(argv, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    wall = time.perf_counter() - t
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime), wall


def heavy_imports(args: list[str], cwd: Path, env: dict[str, str]) -> list[str]:
    """The heavy packages a command imported (run in-process by PROBE; the answer comes back on a pipe)."""
    read, write = os.pipe()
    proc = subprocess.Popen(
        [sys.executable, "-c", PROBE, *args],
        cwd=cwd,
        env={**env, "HEAVY": json.dumps(HEAVY), "OUT_FD": str(write)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        pass_fds=(write,),
    )
    os.close(write)
    with os.fdopen(read, "rb") as fh:
        data = fh.read()
    proc.wait()
    return json.loads(data or b"[]")


def main() -> None:
    """Time each command --repeat times and print medians."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=7)
    ap.add_argument("--runs-count", type=int, default=20)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="simsiam-startup-") as tmp:
        cwd = Path(tmp)
        make_root(cwd / "runs", args.runs_count)
        env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")]).rstrip(os.pathsep)}
        env.pop("SIMSIAM_TUI_RUNS", None)
        cli = [sys.executable, "-m", "simsiam_tui.cli"]
        commands = {
            "python -c pass": [sys.executable, "-c", "pass"],
            "simsiam-tui --help": [*cli, "--help"],
            f"simsiam-tui runs ls ({args.runs_count} runs)": [*cli, "runs", "ls"],
        }
        print(f"python {sys.version.split()[0]}; {args.repeat} runs each, median; CPU = user + system of the child")
        width = max(len(k) for k in commands)
        for name, argv in commands.items():
            cpu_of(argv, cwd, env)  # warm the file cache and .pyc files
            samples = [cpu_of(argv, cwd, env) for _ in range(args.repeat)]
            cpu = statistics.median(s[0] for s in samples)
            wall = statistics.median(s[1] for s in samples)
            heavy = heavy_imports(argv[3:], cwd, env) if argv[:3] == cli else []
            note = f"   heavy imports: {', '.join(heavy) or 'none'}" if argv[:3] == cli else ""
            print(f"{name:<{width}}  CPU {cpu:5.2f} s   wall {wall:5.2f} s{note}")


if __name__ == "__main__":
    main()
