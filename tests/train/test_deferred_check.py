"""The per-step divergence check is read a step late (the device never idles for it), and still ends a run
at the step whose loss was not finite, with no checkpoint of it."""

from __future__ import annotations

import json
from pathlib import Path

import torch

from simsiam_tui.store import EventWriter
from simsiam_tui.train.checkpoint import load_checkpoint
from simsiam_tui.train.divergence import DeferredCheck
from simsiam_tui.train.hooks import FaultHooks, Hooks
from simsiam_tui.train.loop import StopFlag, Trainer
from simsiam_tui.train.runtime import SafeEvents

from .conftest import tiny_config


class Trace(Hooks):
    """Records when each step's forward ran, beside the loop's reads of each step's check."""

    def __init__(self, log: list[tuple[str, int]]) -> None:
        self.log = log

    def on_loss(self, trainer: Trainer, step: int, loss: torch.Tensor) -> torch.Tensor:
        self.log.append(("forward", step))
        return loss


def test_a_steps_check_is_read_only_after_the_next_steps_forward_is_queued(tmp_path: Path) -> None:
    cfg = tiny_config(train={"epochs": 1}, monitor={"log_every": 4, "collapse_every": 4})
    log: list[tuple[str, int]] = []
    tr = Trainer(cfg, tmp_path / "last.pt", SafeEvents(None), StopFlag(), Trace(log))
    read = tr.check.read

    def traced_read(keep: int = 1):  # noqa: ANN202
        before = [c.step for c in tr.check.pending]
        verdict = read(keep)
        log.extend(("read", s) for s in before if s not in [c.step for c in tr.check.pending])
        return verdict

    tr.check.read = traced_read  # type: ignore[method-assign]
    assert tr.run().state == "finished"
    steps = tr.steps_per_epoch
    assert [s for kind, s in log if kind == "read"] == list(range(1, steps + 1))  # every step checked, in order
    for k in range(1, steps):
        if k % 4:  # no monitor read-back at step k: its check waits for step k + 1's forward
            assert log.index(("read", k)) > log.index(("forward", k + 1)), log
        else:  # the monitors read values back at step k anyway: the check is read with them, before they log
            assert log.index(("read", k)) < log.index(("forward", k + 1)), log


def test_a_non_finite_loss_on_an_epochs_last_step_ends_the_run_there_without_its_checkpoint(tmp_path: Path) -> None:
    cfg = tiny_config(train={"epochs": 2}, monitor={"log_every": 1000, "collapse_every": 1000})
    probe = Trainer(cfg, tmp_path / "probe.pt", SafeEvents(None), StopFlag())
    last = probe.steps_per_epoch  # read one step late, this step's check is pending when the epoch ends
    events = tmp_path / "events.jsonl"
    hooks = FaultHooks({"nan_at_step": last})
    tr = Trainer(cfg, tmp_path / "last.pt", SafeEvents(EventWriter(events, 0.0)), StopFlag(), hooks)
    outcome = tr.run()
    tr.events.close()
    assert outcome.state == "diverged" and outcome.reason == f"loss is nan at step {last}"
    assert not (tmp_path / "last.pt").exists()  # the epoch's checkpoint would have held the NaN step
    train = [json.loads(x) for x in events.read_text().splitlines() if '"train"' in x]
    assert train[-1]["step"] == last and train[-1]["loss"] is None


def test_a_stop_on_a_non_finite_step_ends_diverged_and_keeps_the_last_good_checkpoint(tmp_path: Path) -> None:
    cfg = tiny_config(train={"epochs": 2}, monitor={"log_every": 1000, "collapse_every": 1000})

    class StopAtNaN(FaultHooks):
        def after_step(self, trainer: Trainer) -> bool:
            return trainer.step == bad

    probe = Trainer(cfg, tmp_path / "probe.pt", SafeEvents(None), StopFlag())
    bad = probe.steps_per_epoch + 2
    tr = Trainer(cfg, tmp_path / "last.pt", SafeEvents(None), StopFlag(), StopAtNaN({"nan_at_step": bad}))
    outcome = tr.run()
    assert outcome.state == "diverged" and f"step {bad}" in outcome.reason
    kept = load_checkpoint(tmp_path / "last.pt", map_location="cpu")
    assert kept["step"] == probe.steps_per_epoch  # the epoch's checkpoint, not the stop's
    assert all(torch.isfinite(v).all() for v in kept["model"].values() if v.is_floating_point())


def test_pending_checks_are_read_oldest_first_and_the_first_bad_step_wins() -> None:
    check = DeferredCheck(torch.device("cpu"))
    for step, loss, stop in [(1, 1.0, False), (2, float("inf"), False), (3, float("nan"), True)]:
        check.push(step, (step - 1) / 10, 0.05, torch.tensor(loss), stop)
    first = check.read(keep=2)
    assert first.diverged is None and not first.stop and [c.step for c in check.pending] == [2, 3]
    verdict = check.read(keep=0)
    assert verdict.diverged is not None and verdict.diverged.step == 2 and float(verdict.diverged.loss) == float("inf")
    assert not check.pending  # the steps after the first bad one are dropped unread
    check.push(4, 0.3, 0.05, torch.tensor(2.0), True)
    assert check.read(keep=1).stop is False and check.read(keep=0).stop is True
