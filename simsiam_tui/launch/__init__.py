"""The launcher: detached workers on GPUs or CPU slots, a queue, stop/resume/remove and lost-run detection.

Imports config, store and probe only (never torch), so the CLI and the Textual app call it directly:

- launch_runs(configs, root, gpus=None, per_gpu=None, name=None) -> list[RunPaths]: create and start (or queue)
- stop_runs(runs, force=False), resume_runs(runs, gpus=None, per_gpu=None), remove_runs(runs, force=False)
  -> list[Action]; LaunchError (one line) for what cannot be done
- refresh_state(paths) -> state: status.json checked against the worker's pid and heartbeat (writes `lost`)
- run_summary(paths, history=None) -> RunSummary: progress, last/best metrics, verdict (`.to_dict()` for JSON)
- wait_for_end(runs, timeout), runner_alive(root), parse_gpus("0,2"), default_cpu_slots()

CPU runs: without GPUs, at most per_gpu runs at once per machine (default max(2, cores // 4), or
$SIMSIAM_TUI_CPU_SLOTS), each with cores // per_gpu OMP threads.
"""

from __future__ import annotations

from simsiam_tui.launch.api import Action, await_resume, launch_runs, remove_runs, resume_runs, stop_runs, wait_for_end
from simsiam_tui.launch.errors import LaunchError
from simsiam_tui.launch.scheduler import ensure_runner, runner_alive, schedule, submit
from simsiam_tui.launch.slots import default_cpu_slots, parse_gpus, visible_gpus
from simsiam_tui.launch.state import current_state, diagnose, refresh_state
from simsiam_tui.launch.summary import run_summary

__all__ = [
    "Action",
    "await_resume",
    "LaunchError",
    "current_state",
    "default_cpu_slots",
    "diagnose",
    "ensure_runner",
    "launch_runs",
    "parse_gpus",
    "refresh_state",
    "remove_runs",
    "resume_runs",
    "run_summary",
    "runner_alive",
    "schedule",
    "stop_runs",
    "submit",
    "visible_gpus",
    "wait_for_end",
]
