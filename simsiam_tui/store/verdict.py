"""The collapse verdict: one rule shared by `runs compare`, the app and exports."""

from __future__ import annotations

import statistics
from dataclasses import dataclass

from simsiam_tui.store.reader import RunHistory

# The thresholds, in one place (README: "The collapse verdict").
WINDOW = 5  # judge the median of the last WINDOW points, never one noisy point
COLLAPSED_Z_STD_RATIO = 0.1  # z_std/ref under this: every output is the same
COLLAPSED_KNN_MARGIN = 0.05  # kNN top-1 within 5 points of chance
# Effective rank under this: every output lies on (about) one line. The output BN without affine keeps
# each dimension's variance, so z_std cannot show this complete collapse; on digits, no-stop-grad and
# no-predictor end at rank 1.1-1.2 with z_std/ref 0.25, against 32 for simsiam.
COLLAPSED_RANK = 2.0
COLLAPSING_Z_STD_RATIO = 0.5  # z_std/ref under this: partial collapse
COLLAPSING_RANK_FRACTION = 0.25  # effective rank under a quarter of its first value: dimensional collapse

HEALTHY, COLLAPSING, COLLAPSED, UNKNOWN = "healthy", "collapsing", "collapsed", "unknown"


@dataclass(frozen=True)
class Verdict:
    """A verdict and the evidence behind it, in words."""

    label: str
    reason: str


def _recent(values: list[float]) -> float | None:
    finite = [v for v in values if v == v]
    return statistics.median(finite[-WINDOW:]) if finite else None


def judge(history: RunHistory, num_classes: int | None = 10) -> Verdict:
    """Apply DESIGN.md's collapse rule to a run's history."""
    train = history.series["train"]
    ratios = [s / r for s, r in zip(train.column("z_std"), train.column("z_std_ref"), strict=True) if r and r == r]
    ratio = _recent(ratios)
    knn = _recent(list(history.series["eval"].column("knn_top1")))
    ranks = [v for v in history.series["collapse"].column("effective_rank") if v == v]
    if ratio is None and knn is None and not ranks:
        return Verdict(UNKNOWN, "no metrics yet")
    chance = 1.0 / num_classes if num_classes else None
    if ratio is not None and ratio < COLLAPSED_Z_STD_RATIO:
        return Verdict(COLLAPSED, f"z_std/ref {ratio:.2f} < {COLLAPSED_Z_STD_RATIO}")
    rank_now = _recent(ranks)
    if rank_now is not None and rank_now < COLLAPSED_RANK:
        return Verdict(COLLAPSED, f"effective rank {rank_now:.1f} < {COLLAPSED_RANK:g}: outputs on one line")
    if knn is not None and chance is not None and knn < chance + COLLAPSED_KNN_MARGIN:
        return Verdict(COLLAPSED, f"kNN {knn:.3f} within {COLLAPSED_KNN_MARGIN:.2f} of chance {chance:.3f}")
    if len(ranks) > 1:
        rank = _recent(ranks[1:])
        if rank is not None and rank < ranks[0] * COLLAPSING_RANK_FRACTION:
            return Verdict(COLLAPSING, f"effective rank {rank:.1f} < 1/4 of its first value {ranks[0]:.1f}")
    if ratio is not None and ratio < COLLAPSING_Z_STD_RATIO:
        return Verdict(COLLAPSING, f"z_std/ref {ratio:.2f} < {COLLAPSING_Z_STD_RATIO}")
    return Verdict(HEALTHY, "z_std/ref, rank and kNN hold")


NUM_CLASSES = {"digits": 10, "cifar10": 10, "cifar100": 100, "stl10": 10}


def num_classes_for(data_name: str | None) -> int | None:
    """Classes of a known data set (for kNN chance), None for an ImageFolder."""
    return NUM_CLASSES.get(data_name or "")
