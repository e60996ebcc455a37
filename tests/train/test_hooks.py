"""The loop's hooks: fault injection parsed from the environment, callbacks called per step and epoch, in process."""

from __future__ import annotations

from pathlib import Path

import pytest

from simsiam_tui.train.hooks import Callbacks, FaultHooks, Hooks, hooks_from_env, parse_faults
from simsiam_tui.train.loop import StopFlag, Trainer
from simsiam_tui.train.runtime import SafeEvents

from .conftest import tiny_config


def test_faults_parse_and_apply_to_one_rank_only(monkeypatch: pytest.MonkeyPatch) -> None:
    assert parse_faults("nan_at_step=5, hold_after_epoch=1") == {"nan_at_step": 5, "hold_after_epoch": 1}
    assert FaultHooks({"raise_at_step": 3, "fault_rank": 1}, rank=0).faults == {}
    assert FaultHooks({"raise_at_step": 3, "fault_rank": 1}, rank=1).faults["raise_at_step"] == 3
    monkeypatch.delenv("SIMSIAM_TUI_FAULT", raising=False)
    assert type(hooks_from_env(0)) is Hooks
    monkeypatch.setenv("SIMSIAM_TUI_FAULT", "nan_at_step=2")
    assert isinstance(hooks_from_env(0), FaultHooks)


def test_callbacks_see_every_step_and_epoch_and_a_fault_diverges_the_run(tmp_path: Path) -> None:
    cfg = tiny_config(train={"epochs": 2}, data={"batch_size": 256})  # 5 steps an epoch
    steps, epochs = [], []
    hooks = Callbacks(on_step=lambda t: steps.append(t.step), on_epoch=lambda t, e: epochs.append(e))
    outcome = Trainer(cfg, tmp_path / "a.pt", SafeEvents(None), StopFlag(), hooks).run()
    assert outcome.state == "finished" and steps == list(range(1, 11)) and epochs == [1, 2]
    diverged = Trainer(cfg, tmp_path / "b.pt", SafeEvents(None), StopFlag(), FaultHooks({"nan_at_step": 3})).run()
    assert diverged.state == "diverged" and "step 3" in diverged.reason
