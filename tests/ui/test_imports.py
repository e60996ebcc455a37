"""The app never imports torch (nor matplotlib or tensorboard, which only `runs plot` and `--tensorboard` load)."""

from __future__ import annotations

import subprocess
import sys

CODE = """
import sys
import simsiam_tui.ui
from simsiam_tui.ui import SimsiamApp
from simsiam_tui.ui.app import SimsiamApp as _
import simsiam_tui.ui.actions, simsiam_tui.ui.screens.launch, simsiam_tui.ui.export
import simsiam_tui.cli.main, simsiam_tui.cli.ui_cmd, simsiam_tui.cli.report_cmd, simsiam_tui.ui.live_charts
app = SimsiamApp(["runs-that-do-not-exist"])
bad = sorted(m for m in sys.modules if m.split(".")[0] in ("torch", "torchvision", "matplotlib", "tensorboard", "tensorboardX"))
print(",".join(bad))
sys.exit(1 if bad else 0)
"""


def test_app_does_not_import_torch():
    result = subprocess.run([sys.executable, "-c", CODE], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, f"torch modules imported: {result.stdout.strip()} {result.stderr[-2000:]}"
