"""The Textual app: live side-by-side panels for every run, and launching from inside (never imports torch)."""

from __future__ import annotations

from simsiam_tui.ui.app import SimsiamApp, run_app

__all__ = ["SimsiamApp", "run_app"]
