"""The loop's per-step check (a non-finite loss, a stop signal on any rank), read one step late.

Reading a CUDA value on the host (`bool(t)`, `.tolist()`) waits until the device has run all the work
queued so far. Checked at once, every step, that left the device idle while the host launched the
next step's augmentation, forward and backward. So each step's flags are computed on the device,
copied to pinned host memory behind a CUDA event, and read after the next step has been queued: the
device always has a step of work ahead of it. The step whose loss was not finite is still the one
reported, and the loop reads every pending flag before it saves (`read(keep=0)`), so last.pt stays
the last good state. On the CPU nothing is asynchronous and the same code reads plain tensors.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

import torch

from simsiam_tui.train import dist


@dataclass
class StepCheck:
    """One step's flags on their way to the host, with what a report of that step needs."""

    step: int
    epoch: float  # the `epoch` of the step's `train` event, had it been logged
    lr: float
    loss: torch.Tensor  # the step's loss, on the device (its value names a divergence)
    flags: torch.Tensor  # [non-finite loss, stop requested], OR-ed over ranks; on the host once `ready` fired
    ready: torch.cuda.Event | None  # None on the CPU: the flags are there already


@dataclass
class Verdict:
    """What the pending checks read so far say: the first step with a non-finite loss, and any stop."""

    diverged: StepCheck | None = None
    stop: bool = False


class DeferredCheck:
    """Queue each step's check on the device (`push`); read the older ones once later steps are queued."""

    def __init__(self, device: torch.device) -> None:
        self.device = device
        self.cuda = device.type == "cuda"
        self.pending: deque[StepCheck] = deque()

    def push(self, step: int, epoch: float, lr: float, loss: torch.Tensor, stop: bool) -> None:
        """Compute step `step`'s flags without waiting: isfinite on the device, one all-reduce under DDP."""
        loss = loss.detach()
        # torch.full, not torch.tensor(...).to(device): a host-to-device copy from pageable memory syncs too
        flags = torch.stack([(~torch.isfinite(loss)).float(), torch.full((), float(stop), device=loss.device)])
        if dist.world_size() > 1:
            flags = dist.all_reduce_max(flags)  # every rank reads the same flags and takes the same branch
        ready = None
        if self.cuda:
            host = torch.empty(flags.shape, dtype=flags.dtype, pin_memory=True)
            host.copy_(flags, non_blocking=True)
            ready = torch.cuda.Event()
            ready.record()
            flags = host
        self.pending.append(StepCheck(step, epoch, lr, loss, flags, ready))

    def read(self, keep: int = 1) -> Verdict:
        """Read the pending checks oldest first, all but the newest `keep` (0 before a save or a read-back)."""
        verdict = Verdict()
        while len(self.pending) > keep:
            check = self.pending.popleft()
            if check.ready is not None:
                check.ready.synchronize()  # waits for that step only; the steps queued after it keep running
            nonfinite, stop = (bool(v) for v in check.flags.tolist())
            verdict.stop = verdict.stop or stop
            if nonfinite:
                self.pending.clear()  # later steps trained on top of it; the run ends at the first bad one
                verdict.diverged = check
                break
        return verdict
