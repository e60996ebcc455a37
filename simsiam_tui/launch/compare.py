"""`runs compare`: linear-eval results beside their source runs, and mean ± std per group of equal configs."""

from __future__ import annotations

import statistics
from collections import Counter
from typing import Any

from simsiam_tui.store.groups import EVAL_PREFIX, group_runs
from simsiam_tui.store.text import printable

# (summary key, column title, scale for display, format): what `--by variant` aggregates
METRICS = (
    ("knn_top1_last", "kNN top-1 %", 100.0, ".1f"),
    ("linear_top1_last", "linear top-1 % (online probe)", 100.0, ".1f"),
    ("linear_eval_top1", "linear eval %", 100.0, ".1f"),
    ("loss_last", "final loss", 1.0, ".3f"),
    ("z_std_ratio", "z_std/ref", 1.0, ".2f"),
    ("effective_rank", "eff. rank", 1.0, ".1f"),
)
VERDICT_ORDER = ("collapsed", "collapsing", "healthy", "unknown")


PROTOCOL_SKIP = ("source_run", "source_dir", "checkpoint")  # which run an evaluation froze is no protocol


def attach_linear_evals(rows: list[dict[str, Any]], configs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Give each pre-training row the top-1 of its latest linear-eval run (`linear_eval_top1`, `linear_eval_run`),
    and its protocol to its flat config (`eval:linear_eval.epochs`, ...), so evaluations compare like with like."""
    by_source: dict[str, tuple[dict[str, Any], dict[str, Any]]] = {}
    for row, flat in zip(rows, configs, strict=True):  # rows come oldest first: the latest eval of a source wins
        if row.get("kind") == "linear-eval" and row.get("source_run") and row.get("linear_top1_last") is not None:
            by_source[row["source_run"]] = (row, flat)
    for row, flat in zip(rows, configs, strict=True):
        found = by_source.get(row["id"]) if row.get("kind") != "linear-eval" else None
        row["linear_eval_top1"] = found[0]["linear_top1_last"] if found else None
        row["linear_eval_run"] = found[0]["id"] if found else None
        if found:
            for key, value in found[1].items():
                if key.startswith("linear_eval.") and key.split(".", 1)[1] not in PROTOCOL_SKIP:
                    flat[f"{EVAL_PREFIX}{key}"] = value
    return rows


def mean_std(values: list[float]) -> tuple[float, float] | None:
    """Mean and sample standard deviation (0 for one value); None for no values."""
    if not values:
        return None
    return statistics.fmean(values), (statistics.stdev(values) if len(values) > 1 else 0.0)


def compare_groups(rows: list[dict[str, Any]], configs: list[dict[str, Any]], by: list[str]) -> list[dict[str, Any]]:
    """One dict per group of equal configs (launch.groups): label, n, {metric: (mean, std, count)}, verdict counts.

    Linear-evaluation runs are no group of their own here: their top-1 sits beside their source's group.
    """
    kept = [(r, c) for r, c in zip(rows, configs, strict=True) if r.get("kind") != "linear-eval"]
    out = []
    for group in group_runs([r for r, _ in kept], [c for _, c in kept], by):
        members = group.members
        stats: dict[str, tuple[float, float, int] | None] = {}
        for key, *_ in METRICS:
            values = [float(r[key]) for r in members if r.get(key) is not None]
            ms = mean_std(values)
            stats[key] = (ms[0], ms[1], len(values)) if ms else None
        verdicts = Counter(str(r.get("verdict")) for r in members)
        out.append(
            {
                "label": group.label,
                "by": group.by,
                "split": {k.removeprefix(EVAL_PREFIX): v for k, v in group.split.items()},
                "variant": members[0].get("variant"),
                "scale": members[0].get("scale"),
                "n": len(members),
                "seeds": sorted(r["seed"] for r in members if isinstance(r.get("seed"), int)),
                "runs": [r["id"] for r in members],
                "stats": stats,
                "verdicts": {v: verdicts[v] for v in VERDICT_ORDER if verdicts[v]},
            }
        )
    return out


def fmt_stat(stat: tuple[float, float, int] | None, scale: float, spec: str, n: int) -> str:
    """`mean ± std` over two or more runs, the value alone for one, with `(k of n)` when only some runs report it."""
    if stat is None:
        return "-"
    mean, std, count = stat
    text = format(mean * scale, spec) if count == 1 else f"{format(mean * scale, spec)} ± {format(std * scale, spec)}"
    return text if count == n else f"{text} ({count} of {n})"


def fmt_verdicts(counts: dict[str, int], n: int) -> str:
    """`collapsed 3/3`, or `healthy 2/3, collapsing 1/3`."""
    return ", ".join(f"{label} {k}/{n}" for label, k in counts.items()) or "-"


def markdown(groups: list[dict[str, Any]], paper: dict[str, str], title: str = "variant") -> str:
    """The per-group table as GitHub Markdown, with the paper's figure for each variant beside ours."""
    shown = [m for m in METRICS if any(g["stats"][m[0]] is not None for g in groups)]
    head = [title, "n", *(m[1] for m in shown), "verdicts", "paper"]
    lines = ["| " + " | ".join(head) + " |", "|" + "|".join(["---"] + ["--:"] * (1 + len(shown)) + ["---", "---"]) + "|"]
    for g in groups:
        cells = [f"`{printable(g['label'])}`", str(g["n"])]  # a name from a run folder: no raw control bytes
        cells += [fmt_stat(g["stats"][key], scale, spec, g["n"]) for key, _, scale, spec in shown]
        cells += [fmt_verdicts(g["verdicts"], g["n"]), paper.get(str(g["variant"]), "").replace("|", "/") or "-"]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"
