"""`runs plot --by KEY`: final accuracy against a swept config value, mean ± std over replicas, one line per variant.

Runs are grouped exactly as `runs compare --by` groups them (store.groups): replicas pool only when their
configs are equal but for the seed, so a point never mixes two experiments. Only finished runs count.
"""

from __future__ import annotations

import io
import statistics
from dataclasses import dataclass, field
from pathlib import Path

from simsiam_tui.report.errors import ReportError
from simsiam_tui.report.figure import DPI, PANEL_INCHES, check_out
from simsiam_tui.report.style import replica_style, variant_color
from simsiam_tui.store import RunPaths, read_config_dict, read_history, read_status
from simsiam_tui.store.files import atomic_write
from simsiam_tui.store.groups import flat_config, group_runs, shown
from simsiam_tui.store.summary import run_metrics

METRICS = (("knn_top1", "kNN top-1 (%)"), ("linear_top1", "linear top-1, online probe (%)"))


@dataclass
class Point:
    """One swept value: the final metric of each replica there."""

    x: float | str
    values: dict[str, list[float]] = field(default_factory=dict)

    def mean_std(self, metric: str) -> tuple[float, float, int] | None:
        got = self.values.get(metric, [])
        if not got:
            return None
        return statistics.fmean(got), (statistics.stdev(got) if len(got) > 1 else 0.0), len(got)


@dataclass
class Line:
    """A variant (and whatever else sets its runs apart) across the swept values."""

    label: str
    points: list[Point]
    variant: str = ""


def sweep_lines(targets: list[RunPaths], key: str, include_all: bool = False) -> list[Line]:
    """Finished runs grouped by (variant, KEY) as compare groups them; one Line per variant, its points by KEY."""
    rows, configs = [], []
    for paths in targets:
        config = flat_config(read_config_dict(paths))
        status = read_status(paths.status) or {}
        if config.get("linear_eval.source_run") or (not include_all and status.get("state") != "finished"):
            continue
        metrics = run_metrics(read_history(paths.events))
        rows.append({"id": paths.run_id, "knn_top1": metrics.knn_top1, "linear_top1": metrics.linear_top1})
        configs.append(config)
    if not rows:
        return []
    if not any(key in c for c in configs):
        raise ReportError(f"--by {key}: no run's config has that key (keys look like optim.lr, train.epochs)")
    lines: dict[str, Line] = {}
    for group in group_runs(rows, configs, ["variant", key]):
        variant = shown(group.by["variant"])
        rest = ", ".join(f"{k}={shown(v)}" for k, v in group.split.items() if k != key)
        label = f"{variant} ({rest})" if rest else variant
        line = lines.setdefault(label, Line(label, [], variant))
        value = group.by[key]
        point = Point(value if isinstance(value, (int, float)) and not isinstance(value, bool) else shown(value))
        for metric, _ in METRICS:
            point.values[metric] = [100.0 * r[metric] for r in group.members if r.get(metric) is not None]
        line.points.append(point)
    for line in lines.values():
        line.points.sort(key=lambda p: (isinstance(p.x, str), p.x))
    return list(lines.values())


def plot_sweep(targets: list[RunPaths], key: str, out: Path, include_all: bool = False) -> list[Line]:
    """Write the figure: one panel per accuracy metric that any run reports, error bars = std over replicas."""
    fmt = check_out(out)
    lines = sweep_lines(targets, key, include_all)
    if not lines:
        raise ReportError("no finished runs to plot (--all counts runs that did not finish)")
    from matplotlib.figure import Figure  # noqa: TID251 (lazily: only this command needs it)

    metrics = [(m, title) for m, title in METRICS if any(p.mean_std(m) for line in lines for p in line.points)]
    fig = Figure(figsize=(PANEL_INCHES[0] * max(1, len(metrics)), PANEL_INCHES[1]), dpi=DPI, layout="constrained")
    axes = fig.subplots(1, max(1, len(metrics)), squeeze=False)[0]
    numeric = all(isinstance(p.x, (int, float)) for line in lines for p in line.points)
    for ax, (metric, title) in zip(axes, metrics, strict=False):
        nth: dict[str, int] = {}
        for line in lines:
            replica = nth[line.variant] = nth.get(line.variant, -1) + 1  # a variant's lines: one colour, own style
            stats = [(p.x, p.mean_std(metric)) for p in line.points]
            xs = [x for x, s in stats if s is not None]
            if not xs:
                continue
            means = [s[0] for _, s in stats if s is not None]
            stds = [s[1] for _, s in stats if s is not None]
            ax.errorbar(xs if numeric else [str(x) for x in xs], means, yerr=stds, color=variant_color(line.variant), ls=replica_style(replica),
                        marker="o", ms=4, lw=1.4, capsize=3, label=line.label)  # fmt: skip
        positive = numeric and all(float(p.x) > 0 for line in lines for p in line.points)
        xs_all = [float(p.x) for line in lines for p in line.points] if positive else []
        if xs_all and max(xs_all) / min(xs_all) >= 10:  # a learning-rate sweep spans decades
            ax.set_xscale("log")
        ax.set_title(title, fontsize=10)
        ax.set_xlabel(key, fontsize=9)
        ax.set_ylabel("top-1 (%), mean ± std over seeds", fontsize=9)
        ax.tick_params(labelsize=8)
        ax.grid(True, lw=0.4, alpha=0.4)
        ax.spines[["top", "right"]].set_visible(False)
        ax.legend(fontsize=7, frameon=False)
    buffer = io.BytesIO()
    fig.savefig(buffer, format=fmt, metadata={"Software": "simsiam-tui"} if fmt == "png" else None)
    try:
        atomic_write(out, buffer.getvalue(), fsync=False)
    except OSError as exc:
        raise ReportError(f"cannot write {out}: {exc.strerror}") from None
    return lines
