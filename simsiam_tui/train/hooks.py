"""Hooks around the training loop: fault injection for the tests, and callbacks, kept out of `Trainer.run`."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

import torch

from simsiam_tui.train import dist

if TYPE_CHECKING:
    from simsiam_tui.train.loop import Trainer

FAULT_ENV = "SIMSIAM_TUI_FAULT"  # e.g. "nan_at_step=5,hold_after_epoch=1,raise_at_step=3" (tests only)


class Hooks:
    """Called by the loop at fixed points; the base class does nothing. Steps are 1-based counts of optimizer steps."""

    def before_step(self, trainer: Trainer, step: int) -> None:
        """Before the forward pass of optimizer step `step`."""

    def on_loss(self, trainer: Trainer, step: int, loss: torch.Tensor) -> torch.Tensor:
        """The loss of step `step`, before the finiteness check; return it (or a replacement)."""
        return loss

    def after_step(self, trainer: Trainer) -> bool:
        """After the optimizer step and the monitors; True asks the loop to checkpoint and stop."""
        return False

    def after_epoch(self, trainer: Trainer, epochs_done: int) -> None:
        """After the epoch's checkpoint and evaluation."""


class Callbacks(Hooks):
    """Plain functions called after every step and epoch (benchmarks, notebooks)."""

    def __init__(
        self,
        on_step: Callable[[Trainer], None] | None = None,
        on_epoch: Callable[[Trainer, int], None] | None = None,
    ) -> None:
        self.on_step, self.on_epoch = on_step, on_epoch

    def after_step(self, trainer: Trainer) -> bool:
        if self.on_step is not None:
            self.on_step(trainer)
        return False

    def after_epoch(self, trainer: Trainer, epochs_done: int) -> None:
        if self.on_epoch is not None:
            self.on_epoch(trainer, epochs_done)


def parse_faults(text: str) -> dict[str, int]:
    """`key=int,key=int` -> {key: int}."""
    out: dict[str, int] = {}
    for item in text.split(","):
        if "=" in item:
            key, value = item.split("=", 1)
            out[key.strip()] = int(value)
    return out


class FaultHooks(Hooks):
    """Crash, diverge or hang a worker on purpose, as the tests ask through $SIMSIAM_TUI_FAULT.

    raise_at_step=N: raise before step N. nan_at_step=N: step N's loss is NaN. hold_at_step=N: after
    step N, flush and wait for a stop signal. hold_after_epoch=E: the same after epoch E's checkpoint.
    fault_rank=R: only rank R misbehaves (the others get no faults).
    """

    def __init__(self, faults: dict[str, int], rank: int = 0) -> None:
        self.faults = faults if faults.get("fault_rank", rank) == rank else {}

    def before_step(self, trainer: Trainer, step: int) -> None:
        if self.faults.get("raise_at_step") == step:
            raise RuntimeError(f"injected fault at step {step}")

    def on_loss(self, trainer: Trainer, step: int, loss: torch.Tensor) -> torch.Tensor:
        return loss * float("nan") if self.faults.get("nan_at_step") == step else loss

    def after_step(self, trainer: Trainer) -> bool:
        return self._hold(trainer) if self.faults.get("hold_at_step") == trainer.step else False

    def after_epoch(self, trainer: Trainer, epochs_done: int) -> None:
        if self.faults.get("hold_after_epoch") == epochs_done:
            self._hold(trainer)

    @staticmethod
    def _hold(trainer: Trainer) -> bool:
        """Flush events and sleep until a stop signal reaches any rank (the test SIGKILLs or SIGTERMs us)."""
        trainer.events.flush(fsync=True)
        while not dist.agree(trainer.stop.requested, device=trainer.device)[0]:
            time.sleep(0.05)
        return True


def hooks_from_env(rank: int) -> Hooks:
    """FaultHooks when $SIMSIAM_TUI_FAULT is set, else no hooks."""
    faults = parse_faults(os.environ.get(FAULT_ENV, ""))
    return FaultHooks(faults, rank) if faults else Hooks()
