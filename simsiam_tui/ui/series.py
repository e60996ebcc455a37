"""Chart series: pick x and y columns from a history, downsample to min/max per column, smooth with an EMA."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import numpy as np

from simsiam_tui.store import RunHistory
from simsiam_tui.store.text import printable

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

    @property
    def slug(self) -> str:
        """The key as a widget id part (`train/lr` -> `train-lr`); field names come from files: anything odd is `_`."""
        return re.sub(r"[^A-Za-z0-9_-]", "_", self.key.replace("/", "-"))


METRICS = (
    Metric("loss", "loss", "train", "loss"),
    Metric("z_ratio", "z_std / (1/sqrt d)", "train", "z_std", divide_by="z_std_ref", reference=1.0),
    Metric("knn", "kNN top-1", "eval", "knn_top1"),
    Metric("rank", "effective rank of z", "collapse", "effective_rank"),
)
DEFAULT_CHARTS = tuple(m.key for m in METRICS)
METRIC_KINDS = ("train", "collapse", "eval", "system")
NOT_METRICS = {"step", "epoch", "time", "gpu_index", "dim", "v"}


def metric_for(key: str) -> Metric:
    """A chart's metric by key: one of METRICS, or any numeric field as `kind/field` (`train/lr`, `system/gpu_util_pct`)."""
    for metric in METRICS:
        if metric.key == key:
            return metric
    kind, _, column = key.partition("/")
    if kind not in METRIC_KINDS or not column or column in NOT_METRICS:
        raise ValueError(
            f"'{key}' is no metric: use loss, z_ratio, knn, rank or kind/field with kind in {METRIC_KINDS}"
        )
    return Metric(key, f"{printable(column)} ({kind})", kind, column)  # the title is shown: the field's name escaped


def numeric_fields(histories: list[RunHistory]) -> list[str]:
    """Every `kind/field` with numbers in any of these histories, for the chart picker."""
    found: dict[str, None] = {}
    for kind in METRIC_KINDS:
        for history in histories:
            for name in history.series[kind].columns:
                if name not in NOT_METRICS:
                    found.setdefault(f"{kind}/{name}")
    return list(found)


@dataclass
class Line:
    """Points to draw for one run on one chart: the raw envelope and, when smoothing, the EMA."""

    x: list[float]
    y: list[float]
    smooth_x: list[float] | None = None
    smooth_y: list[float] | None = None
    at_x: list[float] | None = None  # one point per bucket (its last x, its mean y): where bands are drawn
    at_y: list[float] | None = None
    band_lo: list[float] | None = None  # replicas of a group: mean - std and mean + std per bucket
    band_hi: list[float] | None = None
    members: int = 1


def _column(values: Any) -> np.ndarray:
    """A private float copy of a column (array('d') copies through the buffer protocol, 20x faster)."""
    if len(values) == 0:
        return np.empty(0)
    column: np.ndarray = np.frombuffer(values, dtype=float).copy()
    return column


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


def clip(x: np.ndarray, y: np.ndarray, x_range: tuple[float, float] | None) -> tuple[np.ndarray, np.ndarray]:
    """The points inside a zoomed x range, plus one on each side so lines reach the edges."""
    if x_range is None or not len(x):
        return x, y
    lo = max(0, int(np.searchsorted(x, x_range[0], side="left")) - 1)
    hi = min(len(x), int(np.searchsorted(x, x_range[1], side="right")) + 1)
    return x[lo:hi], y[lo:hi]


def line(
    history: RunHistory,
    metric: Metric,
    x_axis: str,
    width: int,
    smooth: bool,
    x_range: tuple[float, float] | None = None,
) -> Line | None:
    """The drawable line of one run on one chart, at most about 2 points per screen column of the visible range."""
    x, y = clip(*extract(history, metric, x_axis), x_range)
    return _drawable(x, y, width, smooth)


def group_line(
    histories: list[RunHistory],
    metric: Metric,
    x_axis: str,
    width: int,
    smooth: bool,
    x_range: tuple[float, float] | None = None,
) -> Line | None:
    """Replicas of one group as their mean line with a mean ± std band, on the x of the shortest replica."""
    curves = [c for c in (extract(h, metric, x_axis) for h in histories) if len(c[0])]
    if not curves:
        return None
    base = min((c[0] for c in curves), key=lambda v: v[-1])
    stack = np.stack([np.interp(base, x, y) for x, y in curves])
    x, mean = clip(base, stack.mean(axis=0), x_range)
    _, std = clip(base, stack.std(axis=0), x_range)
    result = _drawable(x, mean, width, smooth)
    if result is None:
        return None
    _, _, _, _, bstd = downsample(x, std, max(8, width))
    _, _, _, _, bmean = downsample(x, mean, max(8, width))
    result.band_lo, result.band_hi = (bmean - bstd).tolist(), (bmean + bstd).tolist()
    result.members = len(curves)
    return result


def exact_at(histories: list[RunHistory], metric: Metric, x_axis: str, x: float) -> float | None:
    """The logged value at or just before `x` (for replicas, the mean of theirs); None left of the first point."""
    values = []
    for history in histories:
        xs, ys = extract(history, metric, x_axis)
        i = int(np.searchsorted(xs, x, side="right")) - 1
        if 0 <= i < len(ys):
            values.append(float(ys[i]))
    return float(np.mean(values)) if values else None


def _drawable(x: np.ndarray, y: np.ndarray, width: int, smooth: bool) -> Line | None:
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
    result = Line(env_x, env_y, at_x=last.tolist(), at_y=mean.tolist())
    if smooth:
        result.smooth_x, result.smooth_y = last.tolist(), ema(mean, smoothing_alpha(len(last))).tolist()
    return result
