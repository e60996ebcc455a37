"""The collapse rule on small synthetic histories."""

from __future__ import annotations

from simsiam_tui.store import RunHistory, judge


def _history(ratio: float, knn: float | None, ranks: list[float]) -> RunHistory:
    history = RunHistory()
    ref = 1 / 512**0.5
    events = [{"kind": "train", "step": s, "epoch": s, "z_std": ratio * ref, "z_std_ref": ref} for s in range(10)]
    events += [{"kind": "collapse", "step": s, "epoch": s, "effective_rank": r} for s, r in enumerate(ranks)]
    if knn is not None:
        events += [{"kind": "eval", "step": s, "epoch": s, "knn_top1": knn} for s in range(6)]
    history.apply(events)
    return history


def test_healthy_collapsing_collapsed():
    assert judge(_history(0.95, 0.85, [26, 27, 26, 28])).label == "healthy"
    assert judge(_history(0.37, 0.56, [30, 8, 7, 6, 7])).label == "collapsing"  # dimensional collapse
    assert judge(_history(0.9, 0.6, [30, 6, 7, 6])).label == "collapsing"  # rank alone
    assert judge(_history(0.05, 0.5, [30, 2])).label == "collapsed"
    assert judge(_history(0.9, 0.12, [30, 28])).label == "collapsed"  # kNN at chance
    assert judge(_history(0.25, 0.54, [48.7, 9.0, 1.3, 1.2, 1.2])).label == "collapsed"  # rank ~1: one line
    assert judge(RunHistory()).label == "unknown"


def test_one_noisy_point_does_not_flip_the_verdict():
    history = _history(0.95, 0.85, [26, 27])
    ref = 1 / 512**0.5
    history.apply([{"kind": "train", "step": 11, "epoch": 11, "z_std": 0.01 * ref, "z_std_ref": ref}])
    assert judge(history).label == "healthy"
