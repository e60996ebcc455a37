"""`--on-collapse stop`: end a run once the collapse verdict has said `collapsed` for several evaluations in a row.

The worker judges its own events with the same rule as the app and `runs compare` (store.verdict), so the
run that stops is the run the table calls COLLAPSED; stopping frees its slot for the queued runs. One
noisy evaluation never stops a run: the verdict itself reads the median of the last points, and the guard
waits for `patience` evaluations in a row.
"""

from __future__ import annotations

from typing import Any

from simsiam_tui.store.reader import RunHistory
from simsiam_tui.store.summary import verdict_view
from simsiam_tui.store.verdict import COLLAPSED, judge


class CollapseGuard:
    """Watches the main rank's events; asks the loop to stop after `patience` collapsed verdicts in a row."""

    def __init__(self, stop: Any, patience: int) -> None:
        self.stop, self.patience = stop, max(1, patience)
        self.history = RunHistory()
        self.streak = 0
        self.first_collapsed_epoch: float | None = None

    def observe(self, kind: str, step: int, epoch: float, fields: dict[str, Any]) -> None:
        """Feed one event; judge the run after each evaluation."""
        if kind not in ("start", "train", "collapse", "eval"):
            return
        self.history.apply([{"kind": kind, "step": step, "epoch": epoch, **fields}])
        if kind != "eval":
            return
        verdict = judge(verdict_view(self.history))
        self.streak = self.streak + 1 if verdict.label == COLLAPSED else 0
        if self.streak == 1:
            self.first_collapsed_epoch = epoch
        if self.streak >= self.patience and not self.stop.requested:
            self.stop.request(
                f"--on-collapse stop: collapsed in {self.streak} evaluations in a row since epoch "
                f"{self.first_collapsed_epoch:g} ({verdict.reason})"
            )
