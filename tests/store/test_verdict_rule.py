"""The collapse rule's text is generated from store/verdict.py: every threshold appears, in every place it is stated."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from simsiam_tui.store import verdict
from simsiam_tui.store.verdict_rule import rule_lines, rule_markdown, rule_text

THRESHOLDS = {
    name: value
    for name, value in vars(verdict).items()
    if name.isupper() and isinstance(value, (int, float)) and not isinstance(value, bool)
}


def test_every_threshold_is_stated():
    """A threshold added to or changed in verdict.py shows up in the text, or this fails."""
    assert {"COLLAPSED_RANK", "COLLAPSED_Z_STD_RATIO", "COLLAPSING_RANK_FRACTION", "WINDOW"} <= set(THRESHOLDS)
    text = rule_text()
    for name, value in THRESHOLDS.items():
        assert f"{value:g}" in text, f"{name} = {value} is not stated in the rule text"
    assert [label for label, _ in rule_lines()] == ["collapsed", "collapsing", "healthy"]


def test_text_follows_a_changed_threshold(monkeypatch):
    monkeypatch.setattr(verdict, "COLLAPSED_RANK", 3.5)
    assert "effective rank of z under 3.5" in rule_text()
    assert "effective rank of z under 3.5" in rule_markdown()


def test_effective_rank_rule_is_in_the_collapsed_line():
    """The rule that actually flags no-stop-grad on digits (rank 1.1-1.3, z_std/ref ~0.3) is stated."""
    collapsed = dict(rule_lines())["collapsed"]
    assert f"effective rank of z under {verdict.COLLAPSED_RANK:g}" in collapsed


def test_runs_show_states_the_rule(tmp_path):
    from simsiam_tui.cli.main import app
    from tests.ui.fixtures import stop_grad_suite

    stop_grad_suite(tmp_path)
    runner = CliRunner()
    listed = json.loads(runner.invoke(app, ["runs", "ls", "--runs", str(tmp_path), "--json"]).stdout)
    collapsed = next(r for r in listed if r["variant"] == "no-stop-grad")
    shown = runner.invoke(app, ["runs", "show", collapsed["id"], "--runs", str(tmp_path)])
    assert shown.exit_code == 0, shown.output
    flat = " ".join(shown.stdout.split())
    for line in rule_text().splitlines():
        assert " ".join(line.split()) in flat
