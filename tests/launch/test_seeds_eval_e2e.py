"""End to end through the real CLI: `launch --suite stop-grad --seeds 2`, `runs compare --by variant`, `eval linear`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.launch.conftest import TINY, events_of, run_cli, status_of, wait_until

pytestmark = pytest.mark.slow


def test_seeds_compare_by_variant_and_eval_linear(root: Path) -> None:
    result = run_cli(
        "launch", "--suite", "stop-grad", "--seeds", "2", *TINY, "--set", "train.epochs=3", "--per-gpu", "2",
        "--runs", str(root), "--json",
    )
    assert result.returncode == 0, result.stderr
    launched = json.loads(result.stdout)
    assert len(launched) == 4  # two variants x two seeds
    dirs = [Path(r["dir"]) for r in launched]
    wait_until(lambda: all(status_of(d).get("state") in ("finished", "failed") for d in dirs), 900, "4 runs to end")
    groups: dict[str, set[int]] = {}
    for d in dirs:
        assert status_of(d)["state"] == "finished", (d / "worker.log").read_text()[-2000:]
        events = events_of(d)
        start = next(e for e in events if e["kind"] == "start")
        groups.setdefault(start["group"], set()).add(start["seed"])
        evals = [e for e in events if e["kind"] == "eval"]
        assert evals and all(isinstance(e["linear_top1"], float) for e in evals)  # the online probe reports
    assert sorted(groups.values(), key=sorted) == [{0, 1}, {0, 1}]  # one group per variant, seeds 0 and 1

    table = run_cli("runs", "compare", "--by", "variant", "--runs", str(root))
    assert table.returncode == 0, table.stderr
    assert "±" in table.stdout and "2/2" in table.stdout
    rows = {g["variant"]: g for g in json.loads(run_cli("runs", "compare", "--by", "variant", "--runs", str(root),
                                                        "--json").stdout)}
    assert rows["simsiam"]["n"] == rows["no-stop-grad"]["n"] == 2
    assert rows["simsiam"]["stats"]["linear_top1_last"][2] == 2

    simsiam = next(r["id"] for r in launched if "-simsiam-s0-" in r["id"])
    ev = run_cli("eval", "linear", "simsiam-s0", "--runs", str(root), "--json")  # by name, as the README types it
    assert ev.returncode == 0, ev.stderr
    ev_dir = Path(json.loads(ev.stdout)["dir"])
    wait_until(lambda: status_of(ev_dir).get("state") in ("finished", "failed"), 300, "the linear eval to end")
    assert status_of(ev_dir)["state"] == "finished", (ev_dir / "worker.log").read_text()[-2000:]
    top1 = [e["linear_top1"] for e in events_of(ev_dir) if e["kind"] == "eval"]
    assert len(top1) == 100 and top1[-1] > 0.5  # the CIFAR recipe's 100 epochs; chance is 0.1
    compare = json.loads(run_cli("runs", "compare", "--runs", str(root), "--json").stdout)
    source = next(r for r in compare if r["id"] == simsiam)
    assert source["linear_eval_top1"] == top1[-1] and source["knn_top1_last"] is not None
    evaluation = next(r for r in compare if r["id"] == ev_dir.name)  # its own state and top-1, no collapse verdict
    assert evaluation["verdict"] == "n/a" and evaluation["epochs"] == 100 and evaluation["epoch"] == 100
