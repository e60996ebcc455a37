"""The training worker: data, device augmentations, models, methods, monitors, loop."""

from __future__ import annotations

from simsiam_tui.train.errors import UserFacingError

__all__ = ["UserFacingError", "run_worker"]


def run_worker(run_dir):  # type: ignore[no-untyped-def]
    """Start or resume the run held in `run_dir`; return the process exit code (imports torch lazily)."""
    from simsiam_tui.train.worker import run_worker as _run_worker

    return _run_worker(run_dir)
