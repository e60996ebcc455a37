"""Build hook: the repository's top-level presets/ folder ships inside the wheel as simsiam_tui/presets."""

from __future__ import annotations

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

PRESETS = Path(__file__).resolve().parent / "presets"


class BuildPyWithPresets(build_py):
    """build_py, then copy presets/**/*.toml to <build_lib>/simsiam_tui/presets (read via importlib.resources)."""

    def run(self) -> None:
        super().run()
        target = Path(self.build_lib) / "simsiam_tui" / "presets"
        for path in sorted(PRESETS.rglob("*.toml")):
            out = target / path.relative_to(PRESETS)
            out.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(path, out)


setup(cmdclass={"build_py": BuildPyWithPresets})
