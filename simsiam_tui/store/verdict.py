"""The collapse verdict: one rule shared by `runs compare`, the app and exports."""

from __future__ import annotations

import statistics
from dataclasses import dataclass

from simsiam_tui.store.reader import RunHistory

# The thresholds, in one place (README: "The collapse verdict").
WINDOW = 5  # judge the median of the last WINDOW points, never one noisy point
COLLAPSED_Z_STD_RATIO = 0.1  # z_std/ref under this: every output is the same
COLLAPSED_KNN_MARGIN = 0.05  # linear probe top-1 (kNN where there is no probe) within 5 points of chance
# Effective rank under this: every output lies on (about) one line. The output BN without affine keeps
# each dimension's variance, so z_std cannot show this complete collapse; on digits, no-stop-grad and
# no-predictor end at rank 1.1-1.2 with z_std/ref 0.25, against 32 for simsiam.
COLLAPSED_RANK = 2.0
COLLAPSING_Z_STD_RATIO = 0.5  # z_std/ref under this: partial collapse
COLLAPSING_RANK_FRACTION = 0.25  # effective rank under a quarter of its first value: dimensional collapse

HEALTHY, COLLAPSING, COLLAPSED, UNKNOWN = "healthy", "collapsing", "collapsed", "unknown"
NOT_APPLICABLE = "n/a"  # a linear evaluation trains a classifier on frozen features: nothing there can collapse


@dataclass(frozen=True)
class Verdict:
    """A verdict and the evidence behind it, in words."""

    label: str
    reason: str


def _recent(values: list[float]) -> float | None:
    finite = [v for v in values if v == v]
    return statistics.median(finite[-WINDOW:]) if finite else None


def num_classes_of(history: RunHistory) -> int | None:
    """The class count the run's latest `start` event reports (the chance level's source), None if unknown."""
    for start in reversed(history.starts):
        n = start.get("num_classes")
        if isinstance(n, int) and not isinstance(n, bool) and n > 0:
            return n
    return None


def is_linear_eval(history: RunHistory) -> bool:
    """True for a linear-evaluation run: its start event names the run whose features it froze."""
    return any(start.get("source_run") for start in history.starts)


def judge(history: RunHistory, num_classes: int | None = None) -> Verdict:
    """Apply DESIGN.md's collapse rule to a run's history; chance = 1 / num_classes (default: the start event's).

    A linear evaluation gets no verdict: its result is its classifier's top-1.
    """
    if is_linear_eval(history):
        return Verdict(NOT_APPLICABLE, "a linear evaluation: its result is the classifier's top-1, not a collapse verdict")
    train = history.series["train"]
    z_std, ref = train.column("z_std"), train.column("z_std_ref")
    # a kind's columns share their rows once both exist; a file with only one of the two has no ratio at all
    pairs = zip(z_std, ref, strict=True) if len(z_std) == len(ref) else iter(())
    ratios = [s / r for s, r in pairs if r and r == r]
    ratio = _recent(ratios)
    evals = history.series["eval"]
    linear = _recent(list(evals.column("linear_top1")))
    knn = _recent(list(evals.column("knn_top1")))
    # the chance test reads the linear probe where the run has one: kNN separates weakly at small scales
    accuracy, metric = (linear, "linear top-1") if linear is not None else (knn, "kNN")
    ranks = [v for v in history.series["collapse"].column("effective_rank") if v == v]
    if ratio is None and accuracy is None and not ranks:
        return Verdict(UNKNOWN, "no metrics yet")
    num_classes = num_classes or num_classes_of(history)
    chance = 1.0 / num_classes if num_classes else None
    if ratio is not None and ratio < COLLAPSED_Z_STD_RATIO:
        return Verdict(COLLAPSED, f"z_std/ref {ratio:.2f} < {COLLAPSED_Z_STD_RATIO}")
    rank_now = _recent(ranks)
    if rank_now is not None and rank_now < COLLAPSED_RANK:
        return Verdict(COLLAPSED, f"effective rank {rank_now:.1f} < {COLLAPSED_RANK:g}: outputs on one line")
    if accuracy is not None and chance is not None and accuracy < chance + COLLAPSED_KNN_MARGIN:
        return Verdict(COLLAPSED, f"{metric} {accuracy:.3f} within {COLLAPSED_KNN_MARGIN:.2f} of chance {chance:.3f}")
    if len(ranks) > 1:
        rank = _recent(ranks[1:])
        if rank is not None and rank < ranks[0] * COLLAPSING_RANK_FRACTION:
            return Verdict(COLLAPSING, f"effective rank {rank:.1f} < 1/4 of its first value {ranks[0]:.1f}")
    if ratio is not None and ratio < COLLAPSING_Z_STD_RATIO:
        return Verdict(COLLAPSING, f"z_std/ref {ratio:.2f} < {COLLAPSING_Z_STD_RATIO}")
    return Verdict(HEALTHY, f"z_std/ref, rank and {metric} hold")
