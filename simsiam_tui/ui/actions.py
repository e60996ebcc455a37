"""The app's one binding to the launcher and the probe: launch, stop, resume, remove, refresh, GPU snapshots.

Everything here is a plain function so that tests can swap in fakes (see `Backend`).
"""

from __future__ import annotations

import shlex
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from simsiam_tui.errors import SimsiamError
from simsiam_tui.launch.request import LaunchPlan as LaunchPlan  # re-exported: what the dialog dismisses with
from simsiam_tui.launch.request import LaunchRequest, check_request
from simsiam_tui.store import RunPaths


class ActionError(SimsiamError, ValueError):
    """An action the user asked for could not be done; the message is one line for a notification."""


@dataclass
class LaunchForm:
    """What the launch dialog's fields hold, as typed; it becomes the launcher's one LaunchRequest."""

    suite: str | None = None
    presets: list[str] = field(default_factory=list)
    scale: str | None = None
    gpus: str = ""
    per_gpu: str = ""
    overrides: str = ""
    name: str = ""
    stop_on_collapse: bool = False  # `launch --on-collapse stop`
    seeds: str = ""  # `--seeds N`: replicas of each variant and sweep point
    sweeps: str = ""  # `--sweep KEY=V1,V2` as typed, space-separated for more than one key


def check_launch(form: LaunchForm, presets_dir: str | None = None) -> tuple[LaunchPlan | None, dict[str, str]]:
    """Check the form as the CLI checks `launch` (the same request, rules and messages), every field at once.

    Returns (plan, {}) or (None, {field: message}); a problem of where the runs would go marks the GPUs field.
    """
    errors: dict[str, str] = {}
    overrides: list[str] = []
    try:
        overrides = shlex.split(form.overrides)
    except ValueError as exc:
        errors["overrides"] = f"--set: {exc}"
    sweeps: list[str] = []
    try:
        sweeps = shlex.split(form.sweeps)
    except ValueError as exc:
        errors["sweeps"] = f"--sweep: {exc}"
    seeds = 1
    if form.seeds.strip():
        try:
            seeds = int(form.seeds)
        except ValueError:
            errors["seeds"] = f"--seeds expects a positive integer, got '{form.seeds}'"
    per_gpu = None
    if form.per_gpu.strip():
        try:
            per_gpu = int(form.per_gpu)
        except ValueError:
            errors["per_gpu"] = f"--per-gpu expects a positive integer, got '{form.per_gpu}'"
    request = LaunchRequest(
        presets=tuple(form.presets),
        suite=form.suite,
        scale=form.scale,
        overrides=tuple(overrides),
        on_collapse="stop" if form.stop_on_collapse else None,
        seeds=seeds,
        sweeps=tuple(sweeps),
        gpus=form.gpus.strip() or None,  # an empty field is no --gpus: every visible GPU
        per_gpu=per_gpu,
        name=form.name.strip() or None,
        presets_dir=presets_dir,
    )
    plan, problems = check_request(request)
    for key, message in problems.items():
        errors.setdefault("gpus" if key == "placement" else key, message)
    return (plan, {}) if plan is not None and not errors else (None, errors)


def plan_launch(form: LaunchForm, presets_dir: str | None = None) -> LaunchPlan:
    """Check a launch form; raises ActionError with every field's problem, one per `; `-joined part."""
    plan, errors = check_launch(form, presets_dir)
    if plan is None:
        raise ActionError("; ".join(errors.values()))
    return plan


def _launch_api() -> Any:
    try:
        from simsiam_tui.launch import api
    except ImportError as exc:  # the launcher is optional for watching
        raise ActionError(f"the launcher is not available ({exc})") from None
    return api


def _actions_text(actions: Sequence[Any]) -> str:
    return "; ".join(f"{a.run_id}: {a.action}" for a in actions) or "nothing to do"


class Backend:
    """Launcher and probe calls; the app holds one, tests pass a fake."""

    def launch(self, plan: LaunchPlan, root: Path) -> list[RunPaths]:
        """Create and start the runs of a plan under `root`."""
        return list(_launch_api().start_plan(plan, root))

    def stop(self, runs: Sequence[RunPaths]) -> str:
        """Ask workers to checkpoint and stop."""
        return _actions_text(_launch_api().stop_runs(runs))

    def resume(self, runs: Sequence[RunPaths]) -> str:
        """Queue stopped/failed/lost runs again from their checkpoints."""
        return _actions_text(_launch_api().resume_runs(runs))

    def remove(self, runs: Sequence[RunPaths]) -> str:
        """Delete run directories (live runs are refused)."""
        return _actions_text(_launch_api().remove_runs(runs))

    def refresh(self, paths: RunPaths) -> None:
        """Mark a live run whose worker died as lost (the launcher's check)."""
        try:
            from simsiam_tui.launch.state import refresh_state
        except ImportError:
            return
        refresh_state(paths)

    def gpus(self) -> tuple[list[dict[str, Any]], str | None]:
        """Local GPUs ([] when none) and why there are none."""
        try:
            from simsiam_tui.probe import gpu_snapshot, nvml_error
        except ImportError as exc:
            return [], f"probe unavailable ({exc})"
        return gpu_snapshot(), nvml_error()


ActionFn = Callable[[Sequence[RunPaths]], str]
