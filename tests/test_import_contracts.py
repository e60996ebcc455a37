"""The import-linter contracts in pyproject hold on the real tree and break on a copy that crosses a layer."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def _lint(tree: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(tree)}
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache"], cwd=tree, env=env, capture_output=True, text=True, timeout=120
    )


@pytest.fixture()
def tree(tmp_path: Path) -> Path:
    """A copy of the package and the contracts, outside the repository."""
    shutil.copytree(REPO / "simsiam_tui", tmp_path / "simsiam_tui", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(REPO / "pyproject.toml", tmp_path / "pyproject.toml")
    return tmp_path


def test_contracts_hold_on_the_real_tree(tree: Path) -> None:
    result = _lint(tree)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


@pytest.mark.parametrize(
    ("module", "source", "broken"),
    [
        ("ui/sneaky.py", "import torch\n", "torch and torchvision only in train"),
        ("ui/sneaky.py", "import psutil\n", "Only probe.host imports psutil"),
        ("ui/sneaky.py", "from simsiam_tui.train import worker\n", "no other layer imports simsiam_tui.train"),
        ("train/sneaky.py", "import textual\n", "textual only in ui"),
        ("store/sneaky.py", "from simsiam_tui.launch import api\n", "First-party layers"),
        ("store/sneaky.py", "import numpy\n", "standard library only"),
        ("report/figures.py", "import torch\n", "torch and torchvision only in train"),
    ],
)
def test_a_crossing_import_breaks_a_contract(tree: Path, module: str, source: str, broken: str) -> None:
    path = tree / "simsiam_tui" / module
    if not path.parent.exists():  # a package that does not exist yet (report/): the contracts cover it once it does
        path.parent.mkdir()
        (path.parent / "__init__.py").write_text('"""A new package."""\n')
    path.write_text(f'"""A module that crosses a boundary."""\n\n{source}')
    result = _lint(tree)
    assert result.returncode == 1, result.stdout + result.stderr
    out = " ".join(result.stdout.split())  # the report wraps long contract names
    assert f"{broken}" in out and "BROKEN" in out, out
