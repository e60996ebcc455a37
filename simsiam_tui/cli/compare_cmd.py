"""`simsiam-tui runs compare`: runs side by side, or per group of equal configs (mean ± std over seeds)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer
from rich.table import Table

from simsiam_tui.cli.common import JsonOption, RunsOption, console, fail, print_json
from simsiam_tui.cli.tables import cell, summary_table, table_console
from simsiam_tui.launch import run_summary
from simsiam_tui.launch.compare import METRICS, attach_linear_evals, compare_groups, fmt_stat, fmt_verdicts
from simsiam_tui.launch.compare import markdown as compare_markdown
from simsiam_tui.store import list_runs, read_config_dict, resolve_run, runs_root
from simsiam_tui.store.groups import flat_config, matches, parse_where


def runs_compare(
    run: list[str] = typer.Argument(None, help="Run ids or prefixes (default: every run)."),
    by: str | None = typer.Option(
        None, "--by", help="Config keys to group by, comma-separated (variant, optim.lr, train.epochs...): mean ± std per group."
    ),
    where: list[str] = typer.Option([], "--where", help="Only runs whose config has KEY=VALUE; repeatable."),
    include_all: bool = typer.Option(False, "--all", help="With --by: count runs that did not finish, too."),
    markdown: bool = typer.Option(False, "--markdown", help="With --by: a Markdown table, the paper beside each variant."),
    runs: str | None = RunsOption,
    as_json: bool = JsonOption,
) -> None:
    """Side by side: loss, z_std/ref, kNN and linear top-1, img/s, epochs, state and the collapse verdict.

    With --by, runs pool into one mean ± std only when their configs are equal but for the seed: a group
    whose runs differ in other keys is split, and the keys are named. Only finished runs count unless --all.
    """
    keys = [k.strip() for k in (by or "").split(",") if k.strip()]
    if by is not None and not keys:
        raise fail("--by needs config keys, e.g. --by variant or --by optim.lr,train.epochs")
    if markdown and not keys:
        raise fail("--markdown needs --by KEY (e.g. --by variant)")
    wanted = parse_where(where)
    root = runs_root(runs, must_exist=True)
    targets = [resolve_run(root, r) for r in run] if run else list_runs(root)
    raw = [read_config_dict(p) for p in targets]  # each config.json read once, for the groups and the summaries
    flat = [flat_config(r) for r in raw]
    picked = [(p, r, c) for p, r, c in zip(targets, raw, flat, strict=True) if matches(c, wanted)]
    rows = [run_summary(p, config=r).to_dict() for p, r, _ in picked]
    configs = [c for _, _, c in picked]
    rows = attach_linear_evals(rows, configs)
    if keys:
        _compare_groups(rows, configs, keys, root, markdown, as_json, include_all)
        return
    if as_json:
        print_json(rows)
        return
    if not rows:
        console.print(f"no runs in {root}" + (" match --where" if wanted else ""), highlight=False)
        return
    table_console().print(summary_table(rows, f"compare ({len(rows)} runs)"))


def _compare_groups(
    rows: list[dict[str, Any]], configs: list[dict[str, Any]], by: list[str], root: Path, markdown: bool, as_json: bool,
    include_all: bool,
) -> None:  # fmt: skip
    """One row per group of equal configs: n, mean ± std of each metric over its runs, verdict counts."""
    from simsiam_tui.config import valid_keys

    known = set(valid_keys())
    unknown = [k for k in by if k not in known and not any(k in c for c in configs)]
    if unknown:
        raise fail(f"--by {','.join(unknown)}: not a config key (keys look like variant, optim.lr, train.epochs)")
    finished = [i for i, r in enumerate(rows) if include_all or r.get("state") == "finished" or r.get("kind") == "linear-eval"]
    left_out = len(rows) - len(finished)
    groups = compare_groups([rows[i] for i in finished], [configs[i] for i in finished], by)
    if as_json:
        print_json(groups)
        return
    note = f"{left_out} run(s) that did not finish left out (--all counts them)" if left_out else ""
    if not groups:
        console.print(f"no finished pre-training runs in {root}" + (f"; {note}" if note else ""), highlight=False)
        return
    title = ", ".join(by)
    if markdown:
        typer.echo(compare_markdown(groups, _paper_figures([str(g["variant"]) for g in groups]), title), nl=False)
        return
    table = Table(title=f"compare by {title} ({len(finished)} runs in {root}; mean ± std over equal configs)")
    for col in (title, "n", *(m[1] for m in METRICS), "verdicts"):
        table.add_column(col, justify="left" if col in (title, "verdicts") else "right", no_wrap=col != title)
    for g in groups:
        stats = [fmt_stat(g["stats"][key], scale, spec, g["n"]) for key, _, scale, spec in METRICS]
        verdicts = cell(fmt_verdicts(g["verdicts"], g["n"]))
        table.add_row(cell(g["label"]), str(g["n"]), *stats, verdicts)
    table_console().print(table)
    if note:
        console.print(note, highlight=False)


def _paper_figures(variants: list[str]) -> dict[str, str]:
    """The paper's figure per variant, from the presets (DESIGN.md's variant table); none for unknown ones."""
    from simsiam_tui.config import ConfigError, describe_preset

    figures = {}
    for variant in variants:
        try:
            figures[variant] = describe_preset(variant)[1]
        except ConfigError:
            figures[variant] = ""
    return figures


def register(app: typer.Typer) -> None:
    """Add `compare` to the `runs` group."""
    app.command("compare")(runs_compare)
