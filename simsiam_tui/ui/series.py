"""Chart series: pick x and y columns from a history, downsample to min/max per column, smooth with an EMA."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from simsiam_tui.store import RunHistory

X_AXES = ("step", "epoch", "wall")
X_LABELS = {"step": "step", "epoch": "epoch", "wall": "wall time (min)"}
SMOOTH_FRACTION = 0.05  # EMA time constant, as a fraction of the drawn points of a series
SMOOTH_MIN = 1.5


@dataclass(frozen=True)
class Metric:
    """One chart: the event kind it reads, the y column (or ratio of two), and how to title it."""

    key: str
    title: str
    kind: str
    column: str
    divide_by: str | None = None
    reference: float | None = None


METRICS = (
    Metric("loss", "loss", "train", "loss"),
    Metric("z_ratio", "z_std / (1/sqrt d)", "train", "z_std", divide_by="z_std_ref", reference=1.0),
    Metric("knn", "kNN top-1", "eval", "knn_top1"),
    Metric("rank", "effective rank of z", "collapse", "effective_rank"),
)


@dataclass
class Line:
    """Points to draw for one run on one chart: the raw envelope and, when smoothing, the EMA."""

    x: list[float]
    y: list[float]
    smooth_x: list[float] | None = None
    smooth_y: list[float] | None = None


def _column(values: Any) -> np.ndarray:
    """A private float copy of a column (array('d') copies through the buffer protocol, 20x faster)."""
    if len(values) == 0:
        return np.empty(0)
    return np.frombuffer(values, dtype=float).copy()


def extract(history: RunHistory, metric: Metric, x_axis: str) -> tuple[np.ndarray, np.ndarray]:
    """Copy the (x, y) columns of one metric out of a history; the caller holds the run's lock."""
    series = history.series[metric.kind]
    y = _column(series.column(metric.column))
    if metric.divide_by:
        ref = _column(series.column(metric.divide_by))
        with np.errstate(divide="ignore", invalid="ignore"):
            y = y / np.where(ref > 0, ref, np.nan)
    if x_axis == "wall":
        x = _column(series.column("time"))
        origin = _origin(history)
        x = (x - (origin if origin is not None else (x[0] if len(x) else 0.0))) / 60.0
    else:
        x = _column(series.column(x_axis))
    n = min(len(x), len(y))
    x, y = x[:n], y[:n]
    keep = np.isfinite(x) & np.isfinite(y)
    return x[keep], y[keep]


def _origin(history: RunHistory) -> float | None:
    for start in history.starts[:1]:
        t = start.get("time")
        if isinstance(t, (int, float)):
            return float(t)
    return None


def downsample(
    x: np.ndarray, y: np.ndarray, buckets: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Bucket a series into at most `buckets` groups: (first x, last x, min, max, mean) of each."""
    n = len(x)
    if n <= buckets or buckets <= 0:
        return x, x, y, y, y
    edges = np.linspace(0, n, buckets + 1).astype(int)
    starts = edges[:-1]
    counts = np.diff(edges)
    ymin = np.minimum.reduceat(y, starts)
    ymax = np.maximum.reduceat(y, starts)
    ymean = np.add.reduceat(y, starts) / counts
    return x[starts], x[edges[1:] - 1], ymin, ymax, ymean


def ema(values: np.ndarray, alpha: float) -> np.ndarray:
    """Exponential moving average, debiased at the start like TensorBoard's smoothing."""
    out = np.empty_like(values)
    acc, weight = 0.0, 0.0
    for i, v in enumerate(values.tolist()):
        acc = acc * (1 - alpha) + alpha * v
        weight = weight * (1 - alpha) + alpha
        out[i] = acc / weight
    return out


def smoothing_alpha(points: int) -> float:
    """EMA weight per drawn point: a time constant of SMOOTH_FRACTION of the series, at least SMOOTH_MIN points."""
    tau = max(SMOOTH_MIN, SMOOTH_FRACTION * points)
    return 1.0 - float(np.exp(-1.0 / tau))


def line(history: RunHistory, metric: Metric, x_axis: str, width: int, smooth: bool) -> Line | None:
    """The drawable line of one run on one chart, at most about 2 points per screen column."""
    x, y = extract(history, metric, x_axis)
    if not len(x):
        return None
    buckets = max(8, width)
    first, last, lo, hi, mean = downsample(x, y, buckets)
    if len(last) < len(x):  # envelope: the min and the max of every column; the newest point stays exact
        env_x = np.column_stack([first, last]).ravel().tolist()
        env_y = np.column_stack([lo, hi]).ravel().tolist()
        env_x.append(float(x[-1]))
        env_y.append(float(y[-1]))
    else:
        env_x, env_y = last.tolist(), mean.tolist()
    result = Line(env_x, env_y)
    if smooth:
        result.smooth_x, result.smooth_y = last.tolist(), ema(mean, smoothing_alpha(len(last))).tolist()
    return result
