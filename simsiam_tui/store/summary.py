"""One run's progress, latest metrics and verdict from its history: what `runs ls/show/compare` and the app show."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from simsiam_tui.store.reader import RunHistory
from simsiam_tui.store.verdict import Verdict, judge, num_classes_of

# The verdict reads the first rows of each series (the rank's first value) and the last ones (the median of the
# last few points): it is judged on those rows only, so a long live run costs the same on every update.
VERDICT_HEAD, VERDICT_TAIL = 4, 64


@dataclass(frozen=True)
class RunMetrics:
    """A run's latest progress and metrics (finite values only; None where the run logged none) and its verdict."""

    epoch: float | None
    step: int | None
    loss: float | None
    z_std: float | None
    z_std_ref: float | None
    effective_rank: float | None
    knn_top1: float | None
    linear_top1: float | None
    img_per_s: float | None
    verdict: Verdict

    @property
    def z_std_ratio(self) -> float | None:
        """z_std / (1/sqrt(d)): 1 for a healthy spread, 0 for complete collapse."""
        return self.z_std / self.z_std_ref if self.z_std is not None and self.z_std_ref else None


def _finite(value: Any) -> float | None:
    return float(value) if isinstance(value, (int, float)) and math.isfinite(value) else None


def verdict_view(history: RunHistory) -> RunHistory:
    """A small copy of a history (the first and last rows of each series) that the verdict reads the same way."""
    view = RunHistory()
    view.starts = history.starts  # (the verdict reads what kind of run this is from them)
    for kind, series in history.series.items():
        cut = max(VERDICT_HEAD, len(series) - VERDICT_TAIL)
        target = view.series[kind]
        for name, column in series.columns.items():
            target.columns[name] = column[:VERDICT_HEAD] + column[cut:]  # slices: copied in C
    return view


def progress(history: RunHistory) -> tuple[float | None, int | None]:
    """(epoch, step) reached: the last train row, or a later marker (the latest start, the end, the last checkpoint).

    A resumed run starts again from its checkpoint: the earlier attempt's end is no progress of this one.
    """
    train = history.series["train"]
    epoch, step = _finite(train.last("epoch")), _finite(train.last("step"))
    for marker in (history.starts[-1] if history.starts else None, history.end, *history.checkpoints[-1:]):
        if not marker:
            continue
        marker_epoch, marker_step = _finite(marker.get("epoch")), _finite(marker.get("step"))
        if marker_epoch is not None and (epoch is None or marker_epoch > epoch):
            epoch = marker_epoch
        if marker_step is not None and (step is None or marker_step > step):
            step = marker_step
    return epoch, None if step is None else int(step)


def run_metrics(history: RunHistory) -> RunMetrics:
    """The run's progress, the last finite value of each metric and the collapse verdict (cheap on a long run)."""
    train, evals = history.series["train"], history.series["eval"]
    epoch, step = progress(history)
    return RunMetrics(
        epoch=epoch,
        step=step,
        loss=_finite(train.last("loss")),
        z_std=_finite(train.last("z_std")),
        z_std_ref=_finite(train.last("z_std_ref")),
        effective_rank=_finite(history.series["collapse"].last("effective_rank")),
        knn_top1=_finite(evals.last("knn_top1")),
        linear_top1=_finite(evals.last("linear_top1")),
        img_per_s=_finite(train.last("img_per_s")),
        verdict=judge(verdict_view(history), num_classes_of(history)),
    )


def best_metrics(history: RunHistory) -> tuple[float | None, float | None]:
    """(lowest loss, highest kNN top-1) over the whole run; reads every row (the CLI's summaries, not the live app)."""
    losses = [v for v in history.series["train"].column("loss") if math.isfinite(v)]
    knn = [v for v in history.series["eval"].column("knn_top1") if math.isfinite(v)]
    return (min(losses) if losses else None), (max(knn) if knn else None)


def config_epochs(config: dict[str, Any]) -> int | None:
    """The epochs a run's progress reads against: a linear evaluation's own (its classifier's), else train.epochs."""
    linear = config.get("linear_eval") or {}
    epochs = linear.get("epochs") if linear.get("source_run") else (config.get("train") or {}).get("epochs")
    return epochs if isinstance(epochs, int) and not isinstance(epochs, bool) else None
