"""`simsiam-tui --help` and `runs ls` stay light: no torch, torchvision, textual or matplotlib imported on the way."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from simsiam_tui.store import write_status

REPO = Path(__file__).resolve().parents[2]
HEAVY = ("torch", "torchvision", "textual", "matplotlib")
CODE = """
import json, sys
from simsiam_tui.cli.main import main
sys.argv = ["simsiam-tui", *json.loads(sys.argv[1])]
try:
    main()
except SystemExit as exc:
    code = exc.code
else:
    code = 0
heavy = sorted({m.split(".")[0] for m in sys.modules} & set(%r))
print("HEAVY=" + json.dumps(heavy))
sys.exit(code)
"""


@pytest.mark.parametrize("args", [["--help"], ["runs", "ls"], ["runs", "ls", "--json"]])
def test_light_commands_import_no_heavy_package(tmp_path: Path, args: list[str]) -> None:
    run = tmp_path / "runs" / "20260101-000000-simsiam-0000"
    run.mkdir(parents=True)
    (run / "config.json").write_text(json.dumps({"variant": "simsiam", "scale": "digits", "train": {"epochs": 1}}))
    write_status(run / "status.json", {"state": "finished"})
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    env.pop("SIMSIAM_TUI_RUNS", None)
    result = subprocess.run(
        [sys.executable, "-c", CODE % (list(HEAVY),), json.dumps(args)], cwd=tmp_path, env=env,
        capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 0, result.stderr
    line = [x for x in result.stdout.splitlines() if x.startswith("HEAVY=")][-1]
    assert json.loads(line.removeprefix("HEAVY=")) == []
    if args[:2] == ["runs", "ls"]:
        assert "20260101-000000-simsiam-0000" in result.stdout  # the command did its work
