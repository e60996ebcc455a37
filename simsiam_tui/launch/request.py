"""One launch request: what `launch`, `slurm submit` and the app's launch dialog all build, checked one way.

A request is checked whole before anything exists: every field's own rule (name, GPUs, numbers, `--set`,
`--sweep`), then the configs it resolves to (presets, suite, scale, the data on disk), then, for a local
launch, where each run would go (the GPUs it names are visible, `train.device=cuda` has one). The same
checks run for `--dry-run`. The result is a plan: the configs, their run names and their slot requests.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from simsiam_tui.config import ConfigError, RunConfig, parse_override
from simsiam_tui.config.resolve import resolve_launch
from simsiam_tui.config.schema import MAX_SEEDS
from simsiam_tui.config.seeds import replicate
from simsiam_tui.config.sweep import MAX_GRID, point_overrides, point_text, sweep_points
from simsiam_tui.config.validate import brief, check_value
from simsiam_tui.errors import SimsiamError
from simsiam_tui.launch.errors import LaunchError
from simsiam_tui.launch.labels import run_labels
from simsiam_tui.launch.slots import Request, check_launch_numbers, machine_default_scale, make_request, parse_gpus
from simsiam_tui.store import check_name


@dataclass(frozen=True)
class LaunchRequest:
    """Everything a launch asks for, before any check. Field names follow the CLI's options."""

    presets: tuple[str, ...] = ()
    suite: str | None = None
    scale: str | None = None  # None: the machine's default (cifar10 where a GPU is visible, else digits)
    overrides: tuple[str, ...] = ()  # --set KEY=VALUE
    seed: int | None = None
    seeds: int = 1
    sweeps: tuple[str, ...] = ()  # --sweep KEY=V1,V2
    on_collapse: str | None = None  # `stop`: the config key monitor.on_collapse
    gpus: str | None = None  # --gpus as typed: `0,2`, `cpu`, `all`; None: every visible GPU
    per_gpu: int | None = None
    gpus_per_run: int = 1
    name: str | None = None
    presets_dir: str | None = None
    local: bool = True  # runs on this machine: its GPUs are checked (`slurm submit`: the job's node has them)


@dataclass(frozen=True)
class LaunchPlan:
    """A checked request: one config, run name and slot request per run (no slot requests when not local)."""

    request: LaunchRequest
    configs: list[RunConfig]
    labels: list[str]
    gpus: list[int] | None
    slots: list[Request] = field(default_factory=list)


def _field_problems(req: LaunchRequest) -> dict[str, str]:
    """Each field's own rule, every field's problem at once (the dialog marks each field)."""
    problems: dict[str, str] = {}

    def check(key: str, test: Callable[[], object]) -> None:
        try:
            test()
        except SimsiamError as exc:
            problems.setdefault(key, str(exc))

    if not req.presets and not req.suite:
        problems["presets"] = "give --preset NAME (repeatable) or --suite NAME; see `simsiam-tui presets ls`"
    if req.name is not None:
        check("name", lambda: check_name(req.name or ""))
    check("gpus", lambda: parse_gpus(req.gpus))
    check("per_gpu", lambda: check_launch_numbers(req.per_gpu, req.gpus_per_run))
    if not 1 <= req.seeds <= MAX_SEEDS:  # before any config is copied: a huge N would take minutes, --dry-run too
        problems["seeds"] = f"--seeds {req.seeds} is out of range: expected 1 to {MAX_SEEDS} replicas per variant"
    bad = []
    for text in req.overrides:  # every override's problem at once, in the words the resolved config uses
        try:
            check_value(*parse_override(text), f" (from --set {brief(text)})")
        except ConfigError as exc:
            bad.append(str(exc))
    if bad:
        problems["overrides"] = "; ".join(bad)
    check("sweeps", lambda: sweep_points(list(req.sweeps)))
    return problems


def _configs(req: LaunchRequest) -> list[RunConfig]:
    """Every run config of the request: presets x sweep points x seeds, each validated, the data checked."""
    scale = req.scale or machine_default_scale()  # the one default-scale rule, for the CLI and the app alike
    extra = [f"train.seed={req.seed}"] if req.seed is not None else []
    if req.on_collapse is not None:  # a config key like any other: validated with its choices, recorded
        extra.append(f"monitor.on_collapse={req.on_collapse}")
    points = sweep_points(list(req.sweeps))
    if len(points) * req.seeds > MAX_GRID:  # every point is at least one run: said before any config is resolved
        raise ConfigError(f"this launch asks for at least {len(points) * req.seeds} runs; at most {MAX_GRID} at once")
    configs: list[RunConfig] = []
    for point in points:
        overrides = [*req.overrides, *point_overrides(point), *extra]
        for cfg in resolve_launch(list(req.presets), req.suite, scale, overrides, req.presets_dir):
            cfg.sweep = point_text(point)
            configs.append(cfg)
    if len(configs) * req.seeds > MAX_GRID:
        raise ConfigError(f"this launch asks for {len(configs) * req.seeds} runs; at most {MAX_GRID} at once")
    return replicate(configs, req.seeds)


def check_request(req: LaunchRequest) -> tuple[LaunchPlan | None, dict[str, str]]:
    """(plan, {}) or (None, {field: message}): every field's problem, else the first one of the resolved runs.

    Fields: presets, name, gpus, per_gpu, seeds, overrides, sweeps; `config` for a problem of the resolved
    configs (a preset, the suite, the data); `placement` for where the runs would go (GPUs, device, batch).
    """
    problems = _field_problems(req)
    if problems:
        return None, problems
    try:
        configs = _configs(req)
    except SimsiamError as exc:
        return None, {"config": str(exc)}
    try:
        labels = run_labels(configs, req.name)
        gpus = parse_gpus(req.gpus)
        slots = place(configs, gpus, req.per_gpu, req.gpus_per_run) if req.local else []
    except SimsiamError as exc:
        return None, {"placement": str(exc)}
    return LaunchPlan(req, configs, labels, gpus, slots), {}


def place(
    configs: Sequence[RunConfig], gpus: list[int] | None, per_gpu: int | None, gpus_per_run: int
) -> list[Request]:
    """Where each run would go on this machine, checked as a real launch checks it (before any folder, and in
    --dry-run): the global batch divides over a DDP run's processes, the GPUs are visible, the device exists."""
    requests = []
    for cfg in configs:
        batch = cfg.data.batch_size
        if batch % max(1, gpus_per_run):
            fix = max(gpus_per_run, batch // gpus_per_run * gpus_per_run)
            raise LaunchError(
                f"data.batch_size {batch} ({cfg.variant}) is the global batch and must divide by "
                f"--gpus-per-run {gpus_per_run}; fix: --set data.batch_size={fix}"
            )
        requests.append(make_request(gpus, per_gpu, cfg.train.device, gpus_per_run))
    return requests


def plan_launch(req: LaunchRequest) -> LaunchPlan:
    """The request's plan; a LaunchError with every problem, `; `-joined, when it has any (one line for the CLI)."""
    plan, problems = check_request(req)
    if plan is None:
        raise LaunchError("; ".join(problems.values()))
    return plan
