"""`simsiam-tui runs ...`: list and inspect runs under a runs root."""

from __future__ import annotations

import time

import typer
from rich.table import Table

from simsiam_tui.cli.common import console, print_json, user_errors
from simsiam_tui.store import list_runs, read_config_dict, read_status, runs_root

app = typer.Typer(help="List, inspect, stop, resume, compare and export runs.", no_args_is_help=True)

RunsOption = typer.Option(None, "--runs", help="Runs root (default $SIMSIAM_TUI_RUNS or ./runs).")
JsonOption = typer.Option(False, "--json", help="Print JSON.")


def run_rows(root: str | None) -> list[dict]:
    """One summary dict per run: id, variant, scale, state, epochs."""
    rows = []
    for paths in list_runs(runs_root(root)):
        status = read_status(paths.status) or {}
        cfg = read_config_dict(paths)
        rows.append(
            {
                "id": paths.run_id,
                "variant": cfg.get("variant"),
                "scale": cfg.get("scale"),
                "state": status.get("state", "unknown"),
                "epochs": (cfg.get("train") or {}).get("epochs"),
                "created": status.get("created"),
                "dir": str(paths.dir),
            }
        )
    return rows


@app.command("ls")
@user_errors
def runs_ls(runs: str | None = RunsOption, as_json: bool = JsonOption) -> None:
    """List every run under the runs root."""
    runs_root(runs)  # a root that is a file is an error, a missing one is just empty
    rows = run_rows(runs)
    if as_json:
        print_json(rows)
        return
    table = Table(title=f"runs in {runs_root(runs)}")
    for col in ("id", "variant", "scale", "state", "epochs", "created"):
        table.add_column(col)
    for row in rows:
        created = time.strftime("%Y-%m-%d %H:%M", time.localtime(row["created"])) if row["created"] else ""
        table.add_row(row["id"], str(row["variant"]), str(row["scale"]), row["state"], str(row["epochs"]), created)
    console.print(table)
