"""simsiam-tui: launch SimSiam-style self-supervised runs and watch which learn and which collapse."""

from __future__ import annotations

__version__ = "0.1.0"
