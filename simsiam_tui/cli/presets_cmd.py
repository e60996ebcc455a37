"""`simsiam-tui presets ls|show`: the variants, suites and scales that ship or that a user folder adds."""

from __future__ import annotations

import json

import typer
from rich.table import Table

from simsiam_tui.cli.common import (
    JsonOption,
    PresetsDirOption,
    SetOption,
    console,
    print_json,
)
from simsiam_tui.config import (
    config_to_dict,
    describe_preset,
    list_presets,
    list_scales,
    list_suites,
    load_suite,
    resolve_config,
)
from simsiam_tui.launch.slots import machine_default_scale

app = typer.Typer(help="List presets, suites and scales, or show one preset's resolved config.", no_args_is_help=True)


@app.command("ls")
def presets_ls(
    presets: str | None = PresetsDirOption,
    as_json: bool = JsonOption,
) -> None:
    """List presets (with the paper's figure), suites and scales."""
    names = list_presets(presets)
    suites = {name: load_suite(name, presets) for name in list_suites(presets)}
    scales = list_scales(presets)
    if as_json:
        print_json(
            {
                "presets": {n: dict(zip(("description", "paper"), describe_preset(n, presets), strict=True)) for n in names},
                "suites": {n: s.presets for n, s in suites.items()},
                "scales": scales,
            }
        )
        return
    table = Table(title="presets")
    table.add_column("preset", style="bold")
    table.add_column("what")
    table.add_column("paper reports")
    for name in names:
        description, paper = describe_preset(name, presets)
        table.add_row(name, description, paper)
    console.print(table)
    suite_table = Table(title="suites")
    suite_table.add_column("suite", style="bold")
    suite_table.add_column("presets")
    suite_table.add_column("what")
    for name, suite in suites.items():
        suite_table.add_row(name, ", ".join(suite.presets), suite.description)
    console.print(suite_table)
    console.print("scales: " + ", ".join(scales))


@app.command("show")
def presets_show(
    name: str = typer.Argument(..., help="Preset name or path to a .toml file."),
    scale: str | None = typer.Option(None, "--scale", help="Scale to resolve at (digits, cifar10, imagenet)."),
    overrides: list[str] = SetOption,
    presets: str | None = PresetsDirOption,
) -> None:
    """Print a preset's fully resolved config as JSON."""
    cfg = resolve_config(name, scale or machine_default_scale(), overrides, presets)
    console.print_json(json.dumps(config_to_dict(cfg)))
