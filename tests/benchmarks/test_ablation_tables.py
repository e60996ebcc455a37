"""benchmarks/ablation_tables.sh, the README's 3-seed table in one command, on one variant, two seeds, one epoch."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_trains_evaluates_and_prints_the_markdown_table(tmp_path: Path) -> None:
    command = Path(sys.executable).parent / "simsiam-tui"  # the installed entry point, as a user has it
    env = {k: v for k, v in os.environ.items() if not k.startswith("SIMSIAM_TUI")}
    env.update(VARIANTS="no-stop-grad", SEEDS="2", EPOCHS="1", GPUS="cpu", AT_ONCE="2", SIMSIAM_TUI=str(command))
    result = subprocess.run(
        ["bash", str(REPO / "benchmarks" / "ablation_tables.sh")], cwd=tmp_path, env=env, capture_output=True,
        text=True, timeout=400,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "1 variants x 2 seeds trained in" in result.stderr and "linear evaluations in" in result.stderr
    row = next(line for line in result.stdout.splitlines() if line.startswith("| `no-stop-grad` |"))
    cells = [c.strip() for c in row.strip("|").split("|")]
    assert cells[1] == "2"  # n: both seeds
    linear_eval = cells[4]  # mean ± std over the two linear evaluations, in %
    assert "±" in linear_eval and 10.0 < float(linear_eval.split("±")[0]) <= 100.0
    runs = sorted(p.name for p in (tmp_path / "runs-tables").iterdir() if not p.name.startswith("."))
    assert len(runs) == 4 and sum("-no-stop-grad-s" in name and "-linear-" in name for name in runs) == 2
