"""One export: `runs export --csv` and the app's `e` write the same columns and cells from the same rows."""

from __future__ import annotations

import csv
import json
from pathlib import Path

from typer.testing import CliRunner

from simsiam_tui.cli.main import app
from simsiam_tui.config import resolve_config
from simsiam_tui.store import EventWriter, create_run
from simsiam_tui.ui.export import export_csv


def test_cli_and_app_exports_agree(tmp_path: Path) -> None:
    root = tmp_path / "runs"
    paths = create_run(root, resolve_config("simsiam", "digits"), "a")
    writer = EventWriter(paths.events)
    writer.emit("start", 0, 0.0, host="h")
    writer.emit("train", 2, 0.1, loss=-0.5, z_std=0.03, z_std_ref=0.04)
    writer.emit("collapse", 2, 0.1, std_quantiles=[0.01, 0.02], effective_rank=12.5)
    writer.emit("eval", 4, 1.0, knn_top1=0.8)
    writer.close()
    out = tmp_path / "cli.csv"
    result = CliRunner().invoke(app, ["runs", "export", "--runs", str(root), "--csv", str(out)])
    assert result.exit_code == 0, result.output
    app_csv, n = export_csv([paths], tmp_path / "app", stamp="x")
    assert n == 3 and app_csv.read_text() == out.read_text()
    rows = list(csv.DictReader(out.open()))
    assert list(rows[0])[:6] == ["run_id", "variant", "kind", "step", "epoch", "time"]
    assert [r["kind"] for r in rows] == ["train", "collapse", "eval"] and rows[0]["run_id"] == paths.run_id
    assert json.loads(rows[1]["std_quantiles"]) == [0.01, 0.02]  # a list is one parseable cell
