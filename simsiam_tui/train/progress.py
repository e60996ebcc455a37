"""One progress line per epoch on stdout (worker.log), as every training script prints: built from the events written."""

from __future__ import annotations

import math
import sys
import time
from typing import Any, TextIO

from simsiam_tui.train.runtime import SafeEvents


def duration(seconds: float | None) -> str:
    """1h02m, 4m05s, 12s, or a dash."""
    if seconds is None or not math.isfinite(seconds):
        return "-"
    s = int(round(seconds))
    if s >= 3600:
        return f"{s // 3600}h{s % 3600 // 60:02d}m"
    return f"{s // 60}m{s % 60:02d}s" if s >= 60 else f"{s}s"


def _num(value: Any, spec: str) -> str:
    return format(value, spec) if isinstance(value, (int, float)) and math.isfinite(value) else "-"


class ProgressLog:
    """Watches the events of one run and prints a line when an epoch is done (after its kNN eval, when one is due)."""

    def __init__(self, epochs: int, knn_every: int, out: TextIO | None = None, clock: Any = time.monotonic) -> None:
        self.epochs, self.knn_every = epochs, max(1, knn_every)
        self.out, self.clock = out, clock
        self.last: dict[str, Any] = {}
        self.total_steps = self.step0 = 0
        self.t0: float | None = None
        self.pending: tuple[int, float] | None = None  # (step, epoch) of an epoch waiting for its eval

    def observe(self, kind: str, step: int, epoch: float, fields: dict[str, Any]) -> None:
        """Take one event; print the epoch's line when it is complete."""
        if kind == "start":
            self.t0, self.step0 = self.clock(), step
            self.total_steps = int(fields.get("total_steps") or 0)
        elif kind == "train":
            ref = fields.get("z_std_ref")
            self.last.update(loss=fields.get("loss"), img_per_s=fields.get("img_per_s"))
            if isinstance(ref, (int, float)) and ref and isinstance(fields.get("z_std"), (int, float)):
                self.last["z_ratio"] = fields["z_std"] / ref
        elif kind == "collapse":
            self.last["rank"] = fields.get("effective_rank")
        elif kind == "eval":
            self.last["knn"] = fields.get("knn_top1")
            if self.pending and self.pending[0] == step:
                self._print(*self.pending)
        elif kind == "checkpoint" and fields.get("reason") == "epoch":
            done = round(epoch)
            if done % self.knn_every == 0 or done == self.epochs:
                self.pending = (step, epoch)  # the eval of this epoch follows; its kNN belongs on the line
            else:
                self._print(step, epoch)
        elif kind == "end" and self.pending:
            self._print(*self.pending)

    def line(self, step: int, epoch: float) -> str:
        """`epoch 3/50  step 63/1050  loss -0.4123  z_std/ref 0.93  rank 27.1  kNN 0.712  img/s 640  ETA 1m12s`."""
        eta = None
        if self.t0 is not None and step > self.step0 and self.total_steps:
            rate = (step - self.step0) / max(self.clock() - self.t0, 1e-9)
            eta = (self.total_steps - step) / rate
        last = self.last
        return (
            f"epoch {round(epoch)}/{self.epochs}  step {step}/{self.total_steps or '?'}  "
            f"loss {_num(last.get('loss'), '.4f')}  z_std/ref {_num(last.get('z_ratio'), '.2f')}  "
            f"rank {_num(last.get('rank'), '.1f')}  kNN {_num(last.get('knn'), '.3f')}  "
            f"img/s {_num(last.get('img_per_s'), '.0f')}  ETA {duration(eta)}"
        )

    def _print(self, step: int, epoch: float) -> None:
        self.pending = None
        out = self.out or sys.stdout
        print(f"{time.strftime('%H:%M:%S')} {self.line(step, epoch)}", file=out, flush=True)


class LoggedEvents(SafeEvents):
    """SafeEvents that also feeds a ProgressLog (on the main rank only: the ranks share one worker.log)."""

    def __init__(self, writer: Any | None, progress: ProgressLog, watchers: tuple[Any, ...] = ()) -> None:
        super().__init__(writer)
        self.progress = progress
        self.watchers = watchers  # more observers of the main rank's events (the --on-collapse guard)

    def emit(self, kind: str, step: int, epoch: float, **fields: Any) -> None:
        """Write the event, then let the progress line (and any watcher) see it."""
        super().emit(kind, step, epoch, **fields)
        if self.writer is not None:
            self.progress.observe(kind, step, epoch, fields)
            for watcher in self.watchers:
                watcher.observe(kind, step, epoch, fields)
