"""The collapse rule on small synthetic histories."""

from __future__ import annotations

from simsiam_tui.store import RunHistory, judge, num_classes_of


def _history(
    ratio: float, knn: float | None, ranks: list[float], linear: float | None = None, num_classes: int | None = 10
) -> RunHistory:
    history = RunHistory()
    ref = 1 / 512**0.5
    events: list[dict] = [{"kind": "start", "step": 0, "epoch": 0.0, "resumed_from_step": None}]
    if num_classes is not None:
        events[0]["num_classes"] = num_classes
    events += [{"kind": "train", "step": s, "epoch": s, "z_std": ratio * ref, "z_std_ref": ref} for s in range(10)]
    events += [{"kind": "collapse", "step": s, "epoch": s, "effective_rank": r} for s, r in enumerate(ranks)]
    if knn is not None:
        events += [{"kind": "eval", "step": s, "epoch": s, "knn_top1": knn} for s in range(6)]
    if linear is not None:  # the online probe reports in the same eval events
        for e in events:
            if e["kind"] == "eval":
                e["linear_top1"] = linear
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


def test_chance_is_judged_on_the_linear_probe_where_there_is_one():
    # kNN 0.55 looks healthy, but the linear probe sits at chance (0.1 + 0.03): collapsed, on the probe's word
    verdict = judge(_history(0.9, 0.55, [30, 28], linear=0.13))
    assert verdict.label == "collapsed" and "linear top-1 0.130" in verdict.reason
    # kNN near chance no longer decides when the probe reads well above it
    assert judge(_history(0.9, 0.12, [30, 28], linear=0.6)).label == "healthy"
    # the boundary: within 5 points of chance, not beyond
    assert judge(_history(0.9, 0.9, [30, 28], linear=0.149)).label == "collapsed"
    assert judge(_history(0.9, 0.9, [30, 28], linear=0.151)).label == "healthy"


def test_chance_comes_from_the_start_event():
    # an ImageFolder run with 100 classes: chance 0.01, so 0.08 is not at chance; with 10 classes it would be
    assert judge(_history(0.9, 0.5, [30, 28], linear=0.08, num_classes=100)).label == "healthy"
    assert judge(_history(0.9, 0.5, [30, 28], linear=0.08, num_classes=10)).label == "collapsed"
    # a 2-class folder: chance 0.5
    assert judge(_history(0.9, 0.9, [30, 28], linear=0.53, num_classes=2)).label == "collapsed"
    # no start event with num_classes (an old run): no chance test at all, never a guess from a table
    assert judge(_history(0.9, 0.12, [30, 28], linear=0.11, num_classes=None)).label == "healthy"
    # a resume that reports a class count later wins
    history = _history(0.9, 0.5, [30, 28], linear=0.08, num_classes=100)
    history.apply([{"kind": "start", "step": 9, "epoch": 9.0, "resumed_from_step": 9, "num_classes": 10}])
    assert num_classes_of(history) == 10


def test_a_train_event_with_only_one_of_z_std_and_its_reference_is_no_ratio_not_a_crash():
    """Hypothesis found it in CI: `zip(strict=True)` over a column and a missing one raised out of judge()."""
    for only in ({"z_std": 0.02}, {"z_std_ref": 0.044}):
        history = RunHistory()
        history.apply([{"kind": "train", "step": 1, "epoch": 0.1, **only}])
        assert judge(history, 10).label == "unknown"
    history = RunHistory()
    history.apply([{"kind": "train", "step": 1, "epoch": 0.1, "z_std": 0.02},
                   {"kind": "train", "step": 2, "epoch": 0.2, "z_std": 0.01, "z_std_ref": 0.044}])  # fmt: skip
    assert judge(history, 10).label != "unknown"  # the second row has both: its ratio counts


def test_a_linear_evaluation_gets_no_collapse_verdict():
    """Its classifier may sit near chance on a collapsed source: that is the source's verdict, not its own."""
    history = _history(0.05, None, [1.0] * 5, linear=0.11)
    assert judge(history).label == "collapsed"
    history.starts[0]["source_run"] = "20260101-000000-no-stop-grad-ab12"
    verdict = judge(history)
    assert verdict.label == "n/a" and "linear evaluation" in verdict.reason
    from simsiam_tui.store.summary import config_epochs, run_metrics

    assert run_metrics(history).verdict.label == "n/a"  # the thinned view the app and CLI judge keeps the starts
    assert config_epochs({"train": {"epochs": 800}, "linear_eval": {"source_run": "x", "epochs": 100}}) == 100
    assert config_epochs({"train": {"epochs": 800}, "linear_eval": {"source_run": "", "epochs": 100}}) == 800
