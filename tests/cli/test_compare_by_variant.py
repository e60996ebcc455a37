"""`launch --seeds N` and `runs compare --by variant [--markdown]` on recorded event files (no training)."""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
from pathlib import Path

from typer.testing import CliRunner

from simsiam_tui.cli.main import app
from simsiam_tui.config import config_to_dict, resolve_config
from simsiam_tui.store import create_run, encode_event, write_status

runner = CliRunner()
REPO = Path(__file__).resolve().parents[2]
REF = 1 / 512**0.5


def record_run(root: Path, variant: str, seed: int, knn: float, linear: float, ratio: float, rank: float,
               loss: float, source: str | None = None) -> str:
    """A finished run folder whose events carry the given final metrics (as a worker writes them)."""
    data = config_to_dict(resolve_config(variant, "digits", [f"train.seed={seed}"]))
    data["group"] = f"{variant}@digits-1"
    if source is not None:
        data["linear_eval"]["source_run"] = source
    paths = create_run(root, data, f"{variant}-s{seed}")
    lines = [encode_event("start", 0, 0.0, {"num_classes": 10, "seed": seed, "resumed_from_step": None})]
    for step in range(1, 8):
        lines.append(encode_event("train", step * 10, step, {"loss": loss, "z_std": ratio * REF, "z_std_ref": REF}))
        lines.append(encode_event("collapse", step * 10, step, {"effective_rank": rank}))
        lines.append(encode_event("eval", step * 10, step, {"knn_top1": knn, "linear_top1": linear}))
    lines.append(encode_event("end", 70, 7.0, {"state": "finished", "reason": "done"}))
    paths.events.write_text("".join(lines))
    write_status(paths.status, {"state": "finished", "name": variant, "variant": variant, "created": 1.0})
    return paths.run_id


def suite(root: Path) -> dict[str, list[str]]:
    """simsiam healthy in 3 seeds, no-stop-grad collapsed in 3, and a linear eval of simsiam's seed 0."""
    ids: dict[str, list[str]] = {"simsiam": [], "no-stop-grad": []}
    for seed, (knn, lin) in enumerate([(0.80, 0.70), (0.82, 0.74), (0.84, 0.78)]):
        ids["simsiam"].append(record_run(root, "simsiam", seed, knn, lin, 0.95, 30.0, -0.9))
    for seed in range(3):
        ids["no-stop-grad"].append(record_run(root, "no-stop-grad", seed, 0.5 + seed / 100, 0.11, 0.3, 1.2, -1.0))
    ids["eval"] = [record_run(root, "simsiam", 0, 0.0, 0.91, 1.0, 1.0, 0.3, source=ids["simsiam"][0])]
    return ids


def test_compare_by_variant_means_stds_and_verdict_counts(tmp_path: Path) -> None:
    suite(tmp_path)
    result = runner.invoke(app, ["runs", "compare", "--by", "variant", "--runs", str(tmp_path), "--json"])
    assert result.exit_code == 0, result.output
    groups = {g["variant"]: g for g in json.loads(result.stdout)}
    assert set(groups) == {"simsiam", "no-stop-grad"}  # the linear-eval run is no variant of its own
    sim, nsg = groups["simsiam"], groups["no-stop-grad"]
    assert sim["n"] == 3 and sim["seeds"] == [0, 1, 2]
    mean, std, count = sim["stats"]["knn_top1_last"]
    assert abs(mean - 0.82) < 1e-6 and abs(std - statistics.stdev([0.80, 0.82, 0.84])) < 1e-6 and count == 3
    assert abs(sim["stats"]["linear_top1_last"][0] - 0.74) < 1e-6
    assert sim["stats"]["linear_eval_top1"][2] == 1  # one of three seeds has a linear eval
    assert sim["verdicts"] == {"healthy": 3} and nsg["verdicts"] == {"collapsed": 3}
    text = runner.invoke(app, ["runs", "compare", "--by", "variant", "--runs", str(tmp_path)]).stdout
    assert "collapsed 3/3" in text and "healthy 3/3" in text and "82.0 ± 2.0" in text and "74.0 ± 4.0" in text


def test_markdown_puts_the_paper_beside_ours(tmp_path: Path) -> None:
    suite(tmp_path)
    result = runner.invoke(app, ["runs", "compare", "--by", "variant", "--markdown", "--runs", str(tmp_path)])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0].startswith("| variant | n | kNN top-1 %") and lines[0].endswith("| verdicts | paper |")
    assert set(lines[1]) <= set("|-:")
    row = next(line for line in lines if line.startswith("| `simsiam`"))
    cells = [c.strip() for c in row.strip("|").split("|")]
    assert cells[1] == "3" and cells[2] == "82.0 ± 2.0" and cells[3] == "74.0 ± 4.0"
    assert cells[4] == "91.0 (1 of 3)"  # one linear eval beside its source's group: a value, no ± over one run
    assert "67.7" in cells[-1]  # the paper's ImageNet figure, from the preset
    nsg = next(line for line in lines if line.startswith("| `no-stop-grad`"))
    assert "collapsed 3/3" in nsg and "0.1%" in nsg


def test_compare_shows_linear_eval_beside_knn(tmp_path: Path) -> None:
    ids = suite(tmp_path)
    rows = json.loads(runner.invoke(app, ["runs", "compare", "--runs", str(tmp_path), "--json"]).stdout)
    by_id = {r["id"]: r for r in rows}
    source = by_id[ids["simsiam"][0]]
    assert source["linear_eval_top1"] == 0.91 and source["linear_eval_run"] == ids["eval"][0]
    assert source["knn_top1_last"] == 0.80 and source["linear_top1_last"] == 0.70
    ev = by_id[ids["eval"][0]]
    assert ev["kind"] == "linear-eval" and ev["source_run"] == ids["simsiam"][0]
    text = runner.invoke(app, ["runs", "compare", "--runs", str(tmp_path)]).stdout
    assert f"linear eval of {ids['simsiam'][0]}" in text and "0.910" in text
    shown = json.loads(runner.invoke(app, ["runs", "show", ids["simsiam"][0], "--runs", str(tmp_path), "--json"]).stdout)
    assert shown["summary"]["linear_eval_top1"] == 0.91  # `runs show` of the source names its linear eval too
    listed = runner.invoke(app, ["runs", "ls", "--runs", str(tmp_path)]).stdout
    assert f"linear eval of {ids['simsiam'][0]}" in listed


def test_bad_by_and_markdown_alone_are_one_line(tmp_path: Path) -> None:
    for args in (["--by", "seed"], ["--markdown"]):
        proc = subprocess.run(
            [sys.executable, "-m", "simsiam_tui.cli", "runs", "compare", *args, "--runs", str(tmp_path)],
            capture_output=True, text=True, cwd=tmp_path, env={"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin"},
        )
        assert proc.returncode == 2 and len(proc.stderr.strip().splitlines()) == 1, proc.stderr
        assert "Traceback" not in proc.stderr


def test_launch_seeds_dry_run_groups_replicas(tmp_path: Path) -> None:
    result = runner.invoke(
        app,
        ["launch", "--suite", "stop-grad", "--seeds", "3", "--seed", "5", "--scale", "digits", "--dry-run", "--json",
         "--runs", str(tmp_path)],
    )
    assert result.exit_code == 0, result.output
    configs = json.loads(result.stdout)
    assert [(c["variant"], c["train"]["seed"]) for c in configs] == [
        ("simsiam", 5), ("simsiam", 6), ("simsiam", 7), ("no-stop-grad", 5), ("no-stop-grad", 6), ("no-stop-grad", 7)
    ]
    groups = [c["group"] for c in configs]
    assert len(set(groups[:3])) == 1 and len(set(groups[3:])) == 1 and groups[0] != groups[3]
    assert groups[0].startswith("simsiam@digits-")
    bad = runner.invoke(app, ["launch", "--preset", "simsiam", "--seeds", "0", "--dry-run"])
    assert bad.exit_code == 2


def _compare(root: Path, *args: str) -> list[dict]:
    result = runner.invoke(app, ["runs", "compare", *args, "--runs", str(root), "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def _run_with(root: Path, variant: str, seed: int, knn: float, *overrides: str, state: str = "finished") -> str:
    run_id = record_run(root, variant, seed, knn, 0.5, 0.9, 20.0, -0.9)
    run_dir = next(p for p in root.iterdir() if p.name == run_id)
    config = json.loads((run_dir / "config.json").read_text())
    for item in overrides:
        key, value = item.split("=")
        section, name = key.split(".")
        config[section][name] = json.loads(value)
    (run_dir / "config.json").write_text(json.dumps(config))
    write_status(run_dir / "status.json", {"state": state, "name": variant, "variant": variant, "created": 1.0})
    return run_id


def test_runs_of_different_configs_never_share_a_row(tmp_path: Path) -> None:
    """A 2-epoch and a 4-epoch run of one variant are two rows, each named by the key that differs."""
    for seed in (0, 1):
        _run_with(tmp_path, "no-stop-grad", seed, 0.2, "train.epochs=2")
    _run_with(tmp_path, "no-stop-grad", 0, 0.6, "train.epochs=4")
    groups = {g["label"]: g for g in _compare(tmp_path, "--by", "variant")}
    assert set(groups) == {"no-stop-grad (train.epochs=2)", "no-stop-grad (train.epochs=4)"}
    two, four = groups["no-stop-grad (train.epochs=2)"], groups["no-stop-grad (train.epochs=4)"]
    assert two["n"] == 2 and two["split"] == {"train.epochs": 2} and four["n"] == 1
    assert abs(two["stats"]["knn_top1_last"][0] - 0.2) < 1e-9 and abs(four["stats"]["knn_top1_last"][0] - 0.6) < 1e-9
    text = runner.invoke(app, ["runs", "compare", "--by", "variant", "--runs", str(tmp_path)]).stdout
    assert "60.0 " in text and "60.0 ±" not in text  # a group of one: its value, no ± over one run


def test_group_by_any_key_filter_with_where_and_unfinished_runs_left_out(tmp_path: Path) -> None:
    for lr, knns in ((0.01, (0.5, 0.7)), (0.05, (0.8, 0.9))):
        for seed, knn in enumerate(knns):
            _run_with(tmp_path, "simsiam", seed, knn, f"optim.lr={lr}")
    _run_with(tmp_path, "simsiam", 9, 0.1, "optim.lr=0.05", state="failed")
    groups = {g["label"]: g for g in _compare(tmp_path, "--by", "optim.lr")}
    assert set(groups) == {"0.01", "0.05"} and [g["n"] for g in groups.values()] == [2, 2]
    assert abs(groups["0.05"]["stats"]["knn_top1_last"][0] - 0.85) < 1e-9
    everything = {g["label"]: g for g in _compare(tmp_path, "--by", "optim.lr", "--all")}
    assert everything["0.05"]["n"] == 3
    only = _compare(tmp_path, "--by", "variant", "--where", "optim.lr=0.050")
    assert len(only) == 1 and only[0]["n"] == 2
    text = runner.invoke(app, ["runs", "compare", "--by", "optim.lr", "--runs", str(tmp_path)]).stdout
    assert "1 run(s) that did not finish left out" in text


def test_linear_evaluations_of_different_protocols_never_share_a_column(tmp_path: Path) -> None:
    sources = [_run_with(tmp_path, "simsiam", seed, 0.8) for seed in (0, 1)]
    for source, epochs in zip(sources, (10, 90), strict=True):
        run_id = record_run(tmp_path, "simsiam", 0, 0.0, 0.9, 1.0, 1.0, 0.3, source=source)
        config_path = tmp_path / run_id / "config.json"
        config = json.loads(config_path.read_text())
        config["linear_eval"]["epochs"] = epochs
        config_path.write_text(json.dumps(config))
    labels = sorted(g["label"] for g in _compare(tmp_path, "--by", "variant"))
    assert labels == ["simsiam (linear_eval.epochs=10)", "simsiam (linear_eval.epochs=90)"]
