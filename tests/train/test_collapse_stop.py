"""`--on-collapse stop`: the worker's guard stops a run after `patience` collapsed verdicts in a row, never on one."""

from __future__ import annotations

from simsiam_tui.train.collapse_stop import CollapseGuard
from simsiam_tui.train.loop import StopFlag

REF = 1 / 64**0.5


def _feed(guard: CollapseGuard, ratios: list[float], knn: float = 0.5) -> list[bool]:
    """One epoch per ratio: train events at that z_std/ref, then an eval; whether a stop was asked after each."""
    guard.observe("start", 0, 0.0, {"num_classes": 10, "resumed_from_step": None})
    asked = []
    for epoch, ratio in enumerate(ratios, start=1):
        for k in range(3):
            guard.observe("train", epoch * 10 + k, epoch - 1 + k / 3, {"z_std": ratio * REF, "z_std_ref": REF})
        guard.observe("eval", epoch * 10 + 2, float(epoch), {"knn_top1": knn})
        asked.append(guard.stop.requested)
    return asked


def test_a_collapsed_run_stops_after_patience_evaluations() -> None:
    guard = CollapseGuard(StopFlag(), patience=2)
    # the verdict reads the median of the last 5 points: it says collapsed once most of them are collapsed
    asked = _feed(guard, [1.0, 1.0, 0.01, 0.01, 0.01, 0.01, 0.01])
    first = asked.index(True)
    assert asked[:first] == [False] * first and all(asked[first:])
    assert guard.stop.signal_name is not None and "--on-collapse stop" in guard.stop.signal_name
    assert "z_std/ref" in guard.stop.signal_name and guard.streak == 2 + (len(asked) - 1 - first)


def test_a_healthy_run_and_one_collapsed_evaluation_never_stop() -> None:
    healthy = CollapseGuard(StopFlag(), patience=1)
    assert not any(_feed(healthy, [1.0] * 8))
    noisy = CollapseGuard(StopFlag(), patience=2)  # one collapsed evaluation, then healthy: the streak starts over
    assert not any(_feed(noisy, [1.0, 1.0, 1.0, 0.01, 1.0, 1.0, 1.0, 0.01, 1.0, 1.0]))
    assert noisy.first_collapsed_epoch == 8.0  # it did see them
