"""`python benchmarks/startup.py` prints the CPU time of `--help` and `runs ls`, and that neither imports torch."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_startup_benchmark_prints_both_commands(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, str(REPO / "benchmarks" / "startup.py"), "--repeat", "1", "--runs-count", "3"],
        cwd=tmp_path, capture_output=True, text=True, timeout=300,
    )
    assert result.returncode == 0, result.stderr
    for name in ("simsiam-tui --help", "simsiam-tui runs ls (3 runs)"):
        line = next(x for x in result.stdout.splitlines() if x.startswith(name))
        cpu = float(re.search(r"CPU\s+([\d.]+) s", line).group(1))
        assert 0 < cpu < 30 and line.endswith("heavy imports: none")
    assert list(tmp_path.iterdir()) == []  # its runs root lived in a temp folder of its own
