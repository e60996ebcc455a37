"""What a figure plots, as plain data: panels of series per variant, replicas of a group as mean ± std (no matplotlib)."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from simsiam_tui.report.errors import ReportError
from simsiam_tui.report.style import variant_color
from simsiam_tui.store import RunHistory, RunPaths, read_config_dict, read_history
from simsiam_tui.store.reader import SERIES_KINDS

X_AXES = ("step", "epoch", "wall")
X_LABELS = {"step": "step", "epoch": "epoch", "wall": "wall time (min)"}
# Fields every schema-1 worker may write; a metric named here is never "unknown", even before it has data.
KNOWN_FIELDS = {
    "train": ("loss", "lr", "z_std", "z_std_ref", "img_per_s", "data_wait"),
    "collapse": ("effective_rank",),
    "eval": ("knn_top1", "linear_top1", "seconds"),
    "system": ("gpu_util_pct", "gpu_mem_used_mb", "gpu_mem_total_mb", "cpu_pct", "rss_mb"),
}
TITLES = {
    "loss": "training loss",
    "z_std": "std of l2-normalized output",
    "accuracy": "accuracy (%)",
    "knn_top1": "kNN top-1 (%)",
    "linear_top1": "linear top-1 (%)",
    "effective_rank": "effective rank of z",
}
PERCENT = ("knn_top1", "linear_top1")  # stored as fractions, drawn in percent like the paper


@dataclass
class RunData:
    """One run as a figure needs it: id, variant, replica group and its history."""

    run_id: str
    variant: str
    group: str | None
    history: RunHistory
    seed: int | None = None


@dataclass
class Series:
    """One line of a panel: a run, or the mean of a group's replicas with their std (a band).

    The colour is the variant's (report.style, the same in every figure); `replica` numbers a variant's separate
    runs (0, 1, ...), each drawn in its own line style; `probe` marks the linear probe's accuracy."""

    label: str
    variant: str
    color: str
    runs: list[str]
    x: list[float]
    y: list[float]
    std: list[float] | None = None
    replica: int = 0
    probe: bool = False


@dataclass
class Panel:
    """One axes of the figure."""

    key: str
    title: str
    ylabel: str
    series: list[Series] = field(default_factory=list)
    reference: float | None = None
    reference_label: str | None = None


def load_runs(targets: list[RunPaths]) -> list[RunData]:
    """Read each run's config and events; the group comes from its start event, else its config."""
    runs = []
    for paths in targets:
        cfg = read_config_dict(paths)
        history = read_history(paths.events)
        group = next((s.get("group") for s in history.starts if s.get("group")), None) or cfg.get("group")
        variant = cfg.get("variant") or next((s.get("variant") for s in history.starts if s.get("variant")), None)
        train = cfg.get("train")
        seed = train.get("seed") if isinstance(train, dict) else None
        if not isinstance(seed, int) or isinstance(seed, bool):
            seed = next((s["seed"] for s in history.starts if isinstance(s.get("seed"), int)), None)
        runs.append(
            RunData(paths.run_id, str(variant or paths.run_id), str(group) if group else None, history, seed)
        )
    return runs


def find_metric(runs: list[RunData], name: str) -> tuple[str, str]:
    """(kind, field) of a metric named `field` or `kind/field` (or `kind.field`); unknown names raise ReportError."""
    if "/" in name or "." in name:
        kind, _, fld = name.replace(".", "/").partition("/")
        if kind not in SERIES_KINDS:
            raise ReportError(f"unknown metric '{name}': the kind must be one of {', '.join(SERIES_KINDS)}")
        kinds: tuple[str, ...] = (kind,)
    else:
        kinds, fld = SERIES_KINDS, name
    for kind in kinds:
        if fld in KNOWN_FIELDS.get(kind, ()) or any(fld in r.history.series[kind].columns for r in runs):
            if fld not in ("step", "epoch", "time"):
                return kind, fld
    available = sorted(
        {f for r in runs for k in kinds for f in r.history.series[k].columns} - {"step", "epoch", "time"}
    )
    known = sorted({f for k in kinds for f in KNOWN_FIELDS.get(k, ())} | set(available))
    raise ReportError(f"unknown metric '{name}'; try one of: {', '.join(known)}")


def _xy(run: RunData, kind: str, fld: str, x_axis: str) -> tuple[np.ndarray, np.ndarray]:
    series = run.history.series[kind]
    y = np.asarray(series.column(fld), dtype=float)
    if x_axis == "wall":
        t = np.asarray(series.column("time"), dtype=float)
        origin = run.history.starts[0].get("time") if run.history.starts else None
        base = float(origin) if isinstance(origin, (int, float)) else (t[0] if len(t) else 0.0)
        x = (t - base) / 60.0
    else:
        x = np.asarray(series.column(x_axis), dtype=float)
    n = min(len(x), len(y))
    x, y = x[:n], y[:n]
    keep = np.isfinite(x) & np.isfinite(y)
    if fld in PERCENT:
        y = y * 100.0
    return x[keep], y[keep]


def _mean_std(members: list[tuple[np.ndarray, np.ndarray]]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Replicas on the x of the shortest one (replicas log at the same steps; others are interpolated)."""
    members = [(x, y) for x, y in members if len(x)]
    base_x = min((x for x, _ in members), key=lambda x: x[-1])
    stack = np.stack([np.interp(base_x, x, y) for x, y in members])
    return base_x, stack.mean(axis=0), stack.std(axis=0)


def _units(runs: list[RunData]) -> list[tuple[str, list[RunData]]]:
    """Runs grouped by replica group (in first-seen order); a run without a group is its own unit."""
    units: dict[str, list[RunData]] = {}
    for run in runs:
        units.setdefault(f"group:{run.group}" if run.group else f"run:{run.run_id}", []).append(run)
    return list(units.items())


def _labels(runs: list[RunData]) -> dict[str, tuple[str, int]]:
    """A short legend label and a replica number per unit: `simsiam`, `simsiam s1` when a variant has several
    separate runs (its seed; the id's suffix only where seeds repeat), `simsiam (mean ± std, n=3)` for a group."""
    units = _units(runs)
    per_variant: dict[str, int] = {}
    for _, members in units:
        per_variant[members[0].variant] = per_variant.get(members[0].variant, 0) + 1
    out: dict[str, tuple[str, int]] = {}
    seen: dict[str, int] = {}
    for key, members in units:
        variant = members[0].variant
        replica = seen.get(variant, 0)
        seen[variant] = replica + 1
        if key.startswith("group:") and len(members) > 1:
            label = f"{variant} (mean ± std, n={len(members)})"
        elif per_variant[variant] == 1:
            label = variant
        else:
            seed = members[0].seed
            label = f"{variant} s{seed}" if seed is not None else f"{variant} {members[0].run_id[-4:]}"
        out[key] = (label, replica)
    counts: dict[str, int] = {}
    for label, _ in out.values():
        counts[label] = counts.get(label, 0) + 1
    for key, members in units:  # two runs of one variant and one seed: the id's suffix tells them apart
        label, replica = out[key]
        if counts[label] > 1:
            out[key] = (f"{label} {members[0].run_id[-4:]}", replica)
    return out


def _series(runs: list[RunData], kind: str, fld: str, x_axis: str) -> list[Series]:
    out = []
    labels = _labels(runs)
    for key, members in _units(runs):
        curves = [_xy(r, kind, fld, x_axis) for r in members]
        if not any(len(x) for x, _ in curves):
            continue
        variant = members[0].variant
        ids = [r.run_id for r in members]
        label, replica = labels[key]
        color = variant_color(variant)
        if key.startswith("group:") and len(members) > 1:
            x, mean, std = _mean_std(curves)
            out.append(Series(label, variant, color, ids, x.tolist(), mean.tolist(), std.tolist(), replica))
        else:
            x, y = curves[0]
            out.append(Series(label, variant, color, ids, x.tolist(), y.tolist(), None, replica))
    return out


def _reference(runs: list[RunData]) -> float | None:
    last = [r.history.series["train"].last("z_std_ref") for r in runs]
    refs = [v for v in last if v is not None and math.isfinite(v)]
    return float(np.mean(refs)) if refs else None


def figure_data(runs: list[RunData], metrics: list[str] | None = None, x_axis: str = "step") -> list[Panel]:
    """The panels of a figure; without `metrics`, the paper's Figure 2: loss, output std with 1/sqrt(d), accuracy."""
    if not runs:
        raise ReportError("no runs to plot")
    if x_axis not in X_AXES:
        raise ReportError(f"--x must be one of {', '.join(X_AXES)}, got '{x_axis}'")
    panels: list[Panel] = []
    if not metrics:
        panels.append(Panel("loss", TITLES["loss"], "loss", _series(runs, "train", "loss", x_axis)))
        ref = _reference(runs)
        z = Panel("z_std", TITLES["z_std"], "std", _series(runs, "train", "z_std", x_axis), ref)
        z.reference_label = "1/sqrt(d)" if ref is not None else None
        panels.append(z)
        acc = Panel("accuracy", TITLES["accuracy"], "top-1 (%)", _series(runs, "eval", "knn_top1", x_axis))
        for s in _series(runs, "eval", "linear_top1", x_axis):
            s.probe = True  # the same run's line, marked: kNN and the linear probe share colour and style
            acc.series.append(s)
        panels.append(acc)
        return panels
    for name in metrics:
        kind, fld = find_metric(runs, name)
        panel = Panel(f"{kind}/{fld}", TITLES.get(fld, f"{kind}/{fld}"), fld, _series(runs, kind, fld, x_axis))
        if fld == "z_std":
            panel.reference, panel.reference_label = _reference(runs), "1/sqrt(d)"
        panels.append(panel)
    return panels


def to_json(panels: list[Panel], digits: int = 6) -> list[dict[str, Any]]:
    """The panels as JSON-ready dicts, numbers rounded to `digits` significant digits (for snapshots)."""

    def r(v: float) -> float:
        return float(f"{v:.{digits}g}")

    out = []
    for p in panels:
        out.append(
            {
                "key": p.key,
                "title": p.title,
                "ylabel": p.ylabel,
                "reference": None if p.reference is None else r(p.reference),
                "series": [
                    {
                        "label": s.label,
                        "variant": s.variant,
                        "color": s.color,
                        "runs": s.runs,
                        "replica": s.replica,
                        "probe": s.probe,
                        "x": [r(v) for v in s.x],
                        "y": [r(v) for v in s.y],
                        "std": None if s.std is None else [r(v) for v in s.std],
                    }
                    for s in p.series
                ],
            }
        )
    return out
