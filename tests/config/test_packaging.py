"""The presets live in the repository's top-level presets/ and ship inside the wheel, found via importlib.resources."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from simsiam_tui.config import list_presets
from simsiam_tui.config.presets import SHIPPED_DIR

REPO = Path(__file__).resolve().parents[2]


def test_a_checkout_reads_the_top_level_presets_folder() -> None:
    assert SHIPPED_DIR == REPO / "presets"
    assert not (REPO / "simsiam_tui" / "presets").exists()
    assert {p.stem for p in (REPO / "presets").glob("*.toml")} - {"base"} <= set(list_presets())


@pytest.mark.slow
def test_the_wheel_ships_the_presets_and_the_installed_copy_finds_them(tmp_path: Path) -> None:
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation", "-w", str(tmp_path), str(REPO)],
        check=True, capture_output=True, timeout=300,
    )
    (wheel,) = tmp_path.glob("simsiam_tui-*.whl")
    site = tmp_path / "site"
    with zipfile.ZipFile(wheel) as zf:
        names = zf.namelist()
        zf.extractall(site)  # what pip puts in site-packages
    shipped = {n.removeprefix("simsiam_tui/presets/") for n in names if n.startswith("simsiam_tui/presets/")}
    in_repo = {str(p.relative_to(REPO / "presets")) for p in (REPO / "presets").rglob("*.toml")}
    assert shipped == in_repo
    code = "import json, simsiam_tui.config as c, simsiam_tui.config.presets as p; print(json.dumps([str(p.SHIPPED_DIR), c.list_presets(), c.list_suites()]))"
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"} | {"PYTHONPATH": str(site)}
    out = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=env, capture_output=True, text=True, check=True)
    shipped_dir, presets, suites = json.loads(out.stdout)
    assert shipped_dir == str(site / "simsiam_tui" / "presets")  # the wheel's copy, not the checkout's
    assert {"simsiam", "no-stop-grad", "byol"} <= set(presets) and "stop-grad" in suites
