"""The app's one binding to the launcher and the probe: launch, stop, resume, remove, refresh, GPU snapshots.

Everything here is a plain function so that tests can swap in fakes (see `Backend`).
"""

from __future__ import annotations

import shlex
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from simsiam_tui.config import ConfigError, RunConfig, load_suite, parse_override
from simsiam_tui.config.resolve import resolve_launch
from simsiam_tui.config.validate import check_value
from simsiam_tui.errors import SimsiamError
from simsiam_tui.launch.slots import machine_default_scale
from simsiam_tui.store import RunPaths, StoreError, check_name


class ActionError(SimsiamError, ValueError):
    """An action the user asked for could not be done; the message is one line for a notification."""


@dataclass
class LaunchRequest:
    """What the launch dialog asks for, before validation."""

    suite: str | None = None
    presets: list[str] = field(default_factory=list)
    scale: str | None = None
    gpus: str = ""
    per_gpu: str = ""
    overrides: str = ""
    name: str = ""
    stop_on_collapse: bool = False  # `launch --on-collapse stop`


@dataclass
class LaunchPlan:
    """A validated launch: the configs and how to place them."""

    configs: list[RunConfig]
    gpus: list[int] | None
    per_gpu: int | None
    name: str | None


def check_launch(req: LaunchRequest, presets_dir: str | None = None) -> tuple[LaunchPlan | None, dict[str, str]]:
    """Validate every field of a launch request with the CLI's rules and messages.

    Returns (plan, {}) or (None, {field: message}) with every field's problem at once, not only the first.
    """
    errors: dict[str, str] = {}
    if req.suite:
        try:
            load_suite(req.suite, presets_dir)  # its own field's message; resolve_launch below reads it again
        except ConfigError as exc:
            errors["suite"] = str(exc)
    if not req.presets and not req.suite:
        errors["presets"] = "pick a suite or at least one preset"
    overrides: list[str] = []
    try:
        overrides = shlex.split(req.overrides)
    except ValueError as exc:
        errors["overrides"] = f"--set: {exc}"
    bad = []
    for text in overrides:
        try:
            check_value(*parse_override(text))  # the key and the value, each with the CLI's message
        except ConfigError as exc:
            bad.append(str(exc))
    if bad:
        errors["overrides"] = "; ".join(bad)
    if req.stop_on_collapse:  # as the CLI's --on-collapse stop: a config key, recorded in config.json
        overrides.append("monitor.on_collapse=stop")
    configs: list[RunConfig] = []
    if not errors:
        try:
            configs = resolve_launch(req.presets, req.suite, req.scale or machine_default_scale(), overrides, presets_dir)
        except ConfigError as exc:
            errors["config"] = str(exc)
    from simsiam_tui.launch.slots import parse_gpus  # the CLI's --gpus rules and message

    gpus: list[int] | None = None
    try:
        gpus = parse_gpus(req.gpus.strip() or None)  # an empty field is no --gpus: every visible GPU
    except SimsiamError as exc:
        errors["gpus"] = str(exc)
    per_gpu = None
    if req.per_gpu.strip():
        try:
            per_gpu = int(req.per_gpu)
        except ValueError:
            per_gpu = 0
        if per_gpu < 1:
            errors["per_gpu"] = f"--per-gpu expects a positive integer, got '{req.per_gpu}'"
    name = req.name.strip() or None
    if name:
        try:
            check_name(name)
        except StoreError as exc:
            errors["name"] = str(exc)
    if errors:
        return None, errors
    return LaunchPlan(configs, gpus, per_gpu, name), {}


def plan_launch(req: LaunchRequest, presets_dir: str | None = None) -> LaunchPlan:
    """Validate a launch request; raises ActionError with every field's problem, one per `; `-joined part."""
    plan, errors = check_launch(req, presets_dir)
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
        return list(_launch_api().launch_runs(plan.configs, root, gpus=plan.gpus, per_gpu=plan.per_gpu, name=plan.name))

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
