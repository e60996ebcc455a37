"""A stand-in worker for launcher tests ($SIMSIAM_TUI_WORKER): records the GPUs it was given, then waits to be killed."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

run_dir = Path(sys.argv[1])
(run_dir / "visible_gpus.txt").write_text(os.environ.get("CUDA_VISIBLE_DEVICES", "<unset>"))
time.sleep(300)
