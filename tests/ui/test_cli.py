"""`simsiam-tui watch DIR...`, `demo` and the bare command open the app on the right roots."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

import simsiam_tui.ui as ui
from simsiam_tui.cli.main import app

runner = CliRunner()


def test_watch_opens_the_app_on_every_root(tmp_path, monkeypatch):
    opened = {}
    monkeypatch.setattr(ui, "run_app", lambda roots, **kw: opened.setdefault("roots", list(roots)))
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    result = runner.invoke(app, ["watch", str(tmp_path / "a"), str(tmp_path / "b")])
    assert result.exit_code == 0, result.output
    assert opened["roots"] == [tmp_path / "a", tmp_path / "b"]


def test_watch_missing_folder_is_one_line_error(tmp_path):
    result = runner.invoke(app, ["watch", str(tmp_path / "nope")])
    assert result.exit_code == 2
    assert "no such folder" in result.output and "Traceback" not in result.output


def test_bare_command_opens_the_runs_root(tmp_path, monkeypatch):
    opened = {}
    monkeypatch.setattr(ui, "run_app", lambda roots, **kw: opened.setdefault("roots", list(roots)))
    result = runner.invoke(app, ["--runs", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert opened["roots"] == [tmp_path]


def test_demo_launches_stop_grad_at_digits_then_opens(tmp_path, monkeypatch):
    import simsiam_tui.launch.api as api

    launched, opened = {}, {}

    def fake_start(plan, root):
        launched["configs"], launched["root"] = plan.configs, Path(root)
        return []

    monkeypatch.setattr(api, "start_plan", fake_start)
    monkeypatch.setattr(ui, "run_app", lambda roots, **kw: opened.setdefault("roots", list(roots)))
    result = runner.invoke(app, ["demo", "--runs", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert [c.variant for c in launched["configs"]] == ["simsiam", "no-stop-grad"]
    assert {c.scale for c in launched["configs"]} == {"digits"}
    assert launched["root"] == tmp_path and opened["roots"] == [tmp_path]
