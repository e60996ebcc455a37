"""Recorded run folders for the report tests: the stop-grad suite and a group of simsiam replicas."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.ui.fixtures import stop_grad_suite, write_run


def add_group(run_dir: Path, group: str) -> None:
    """Mark a run as a replica of `group`, as `launch --seeds` does (the `group` field of its config)."""
    cfg_path = run_dir / "config.json"
    cfg = json.loads(cfg_path.read_text())
    cfg["group"] = group
    cfg_path.write_text(json.dumps(cfg))


@pytest.fixture
def suite_root(tmp_path: Path) -> Path:
    """./runs with the stop-grad pair after 2 epochs and two more simsiam seeds grouped with the first."""
    root = tmp_path / "runs"
    pair = stop_grad_suite(root, upto_epoch=2.0)
    extra = [write_run(root, f"20260101-00001{i}-simsiam-s{i}", "simsiam", 2.0, seed=10 + i) for i in range(2)]
    for paths in (pair[0], *extra):
        add_group(paths.dir, "simsiam-x3")
    return root


@pytest.fixture
def pair_root(tmp_path: Path) -> Path:
    """./runs with just the stop-grad pair, finished."""
    root = tmp_path / "runs"
    stop_grad_suite(root, upto_epoch=10.0)
    return root
