"""The error a report command raises for bad input (an unknown metric, a bad file name, no runs)."""

from __future__ import annotations

from simsiam_tui.store import StoreError


class ReportError(StoreError):
    """A report cannot be made from what the user asked for; the message is one line."""
