"""The launcher: detached workers on GPUs or CPU slots, a queue, stop/resume/remove and lost-run detection.

Imports config, store and probe only (never torch), so the CLI and the Textual app call it directly.
"""

from __future__ import annotations

from simsiam_tui.launch.api import Action, launch_runs, remove_runs, resume_runs, stop_runs, wait_for_end
from simsiam_tui.launch.errors import LaunchError
from simsiam_tui.launch.scheduler import ensure_runner, runner_alive, schedule, submit
from simsiam_tui.launch.slots import default_cpu_slots, parse_gpus, visible_gpus
from simsiam_tui.launch.state import diagnose, refresh_state
from simsiam_tui.launch.summary import export_columns, export_rows, run_summary

__all__ = [
    "Action",
    "LaunchError",
    "default_cpu_slots",
    "diagnose",
    "ensure_runner",
    "export_columns",
    "export_rows",
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
