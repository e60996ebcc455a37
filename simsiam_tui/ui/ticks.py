"""Axis scales and ticks for the terminal charts: nice values, short labels, never closer than their text allows.

Pure numbers, no textual: the chart widgets (ui/widgets/axes.py) wrap these. An axis is drawn in its
transformed space (log10 of y on a log axis, a symmetric log where y has values <= 0), and its labels
name the values themselves.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

SCALES = ("linear", "log", "symlog")
MAX_LABEL = 7  # the y labels' margin is 8 cells: 7 characters and a space
GAP_CELLS = 2  # blank cells between two x labels
GAP_ROWS = 2  # rows from one y label to the next: a blank row between them
SI = ((1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "k"))


# -- scales ---------------------------------------------------------------------------------------
def symlog_threshold(values: np.ndarray) -> float:
    """The symmetric log's linear half-width: a power of ten two decades under the largest magnitude."""
    finite = np.abs(values[np.isfinite(values)])
    top = float(finite.max()) if len(finite) else 0.0
    return 10.0 ** (math.floor(math.log10(top)) - 2) if top > 0 else 1.0


def forward(values: np.ndarray | Sequence[float], scale: str, threshold: float = 1.0) -> np.ndarray:
    """Values in the axis' drawing space: y, log10(y) (NaN where y <= 0) or sign(y) log10(1 + |y|/c)."""
    y = np.asarray(values, dtype=float)
    out: np.ndarray = y
    if scale == "log":
        with np.errstate(divide="ignore", invalid="ignore"):
            out = np.where(y > 0, np.log10(np.where(y > 0, y, 1.0)), np.nan)
    elif scale == "symlog":
        out = np.sign(y) * np.log10(1.0 + np.abs(y) / threshold)
    return out


def inverse(values: np.ndarray | Sequence[float], scale: str, threshold: float = 1.0) -> np.ndarray:
    """The values whose drawing positions these are (forward's inverse)."""
    t = np.asarray(values, dtype=float)
    out: np.ndarray = t
    with np.errstate(over="ignore"):
        if scale == "log":
            out = np.power(10.0, t)
        elif scale == "symlog":
            out = np.sign(t) * threshold * (np.power(10.0, np.abs(t)) - 1.0)
    return out


def padded(lo: float, hi: float, margin: float = 0.0) -> tuple[float, float]:
    """A range to draw [lo, hi] in, `margin` of its size wider on each side; a point or a flat line gets room
    around it, so its ticks stay readable."""
    size = max(abs(lo), abs(hi))
    if hi - lo > size * 1e-6 and hi > lo:
        room = (hi - lo) * margin
        return lo - room, hi + room
    pad = size * 0.05 if size > 0 else 1.0
    mid = (lo + hi) / 2
    return mid - pad, mid + pad


# -- tick values ----------------------------------------------------------------------------------
def nice_step(span: float, count: int) -> float:
    """The smallest 1, 2 or 5 times a power of ten that cuts `span` into at most `count` intervals."""
    raw = span / max(1, count)
    power = 10.0 ** math.floor(math.log10(raw))
    for factor in (1.0, 2.0, 5.0):
        if factor * power >= raw * (1 - 1e-9):
            return factor * power
    return 10.0 * power


def nice_ticks(lo: float, hi: float, count: int) -> list[float]:
    """Multiples of a nice step inside [lo, hi]: at most count + 1 of them."""
    if not (math.isfinite(lo) and math.isfinite(hi)) or hi <= lo:
        return []
    step = nice_step(hi - lo, count)
    first, last = math.ceil(lo / step - 1e-9), math.floor(hi / step + 1e-9)
    digits = max(0, -math.floor(math.log10(step))) + 1
    return [round(k * step, digits) + 0.0 for k in range(first, last + 1)]  # + 0.0: no -0.0


def _thin(values: list[float], count: int) -> list[float]:
    stride = max(1, math.ceil(len(values) / (max(1, count) + 1)))  # count intervals: count + 1 values
    return values[::stride]


def tick_values(lo: float, hi: float, count: int, scale: str, threshold: float = 1.0) -> tuple[list[float], bool]:
    """Values to mark on an axis spanning [lo, hi] in drawing space: decades on a log axis when it spans
    some, 0 and +-c*10^k on a symmetric log, else nice linear values mapped through the scale.
    The flag says the values are powers of ten (each labelled at its own precision)."""
    if scale == "log" and hi - lo >= 1:
        decades = [10.0**k for k in range(math.ceil(lo - 1e-9), math.floor(hi + 1e-9) + 1)]
        return _thin(decades, count), True
    if scale == "symlog":
        top = max(abs(lo), abs(hi))
        marks = [0.0]
        k = 0
        while forward([threshold * 10.0**k], "symlog", threshold)[0] <= top + 1e-9 and k < 30:
            marks += [threshold * 10.0**k, -threshold * 10.0**k]
            k += 1
        inside = sorted(v for v in marks if lo - 1e-9 <= forward([v], "symlog", threshold)[0] <= hi + 1e-9)
        if len(inside) >= 2:
            return _thin(inside, count), True
    if scale == "linear":
        return nice_ticks(lo, hi, count), False
    vlo, vhi = (float(v) for v in inverse([lo, hi], scale, threshold))
    return [v for v in nice_ticks(vlo, vhi, count) if scale != "log" or v > 0], False


# -- labels ---------------------------------------------------------------------------------------
def _trim(text: str) -> str:
    return text.rstrip("0").rstrip(".") if "." in text else text


def label(value: float, step: float, max_len: int = MAX_LABEL) -> str:
    """`value` in at most `max_len` characters, precise enough to tell it from a neighbour `step` away."""
    if value == 0:
        return "0"
    decimals = max(0, -math.floor(math.log10(step))) if step > 0 else 3
    plain = f"{value:.{decimals}f}"
    if len(plain) <= max_len:
        return plain
    for size, suffix in SI:  # 120000 -> 120k
        if abs(value) >= size:
            digits = max(0, -math.floor(math.log10(step / size))) if step > 0 else 1
            for d in range(min(digits, 3), -1, -1):
                text = _trim(f"{value / size:.{d}f}") + suffix
                if len(text) <= max_len:
                    return text
            break
    for digits in range(3, -1, -1):  # 0.000125 -> 1.25e-4
        mantissa, _, exponent = f"{value:.{digits}e}".partition("e")
        text = f"{_trim(mantissa)}e{int(exponent)}"
        if len(text) <= max_len:
            return text
    return plain[:max_len]


def labels(values: Sequence[float], powers: bool = False, max_len: int = MAX_LABEL) -> list[str]:
    """Labels for tick values, each told apart from its neighbours where `max_len` allows (powers of ten:
    each at its own precision, 0.01 0.1 1 10)."""
    if powers:
        return [label(v, abs(v), max_len) for v in values]
    gaps = [abs(b - a) for a, b in zip(values, values[1:], strict=False) if b != a]
    step = min(gaps) if gaps else (abs(values[0]) / 10 if values and values[0] else 1.0)
    return [label(v, step, max_len) for v in values]


# -- fitting --------------------------------------------------------------------------------------
def _positions(ticks: Sequence[float], lo: float, hi: float, cells: int) -> list[float]:
    return [(t - lo) / (hi - lo) * max(1, cells - 1) for t in ticks]


def fits(positions: Sequence[float], texts: Sequence[str], horizontal: bool) -> bool:
    """True when no two labels touch: x labels keep GAP_CELLS between them, y labels GAP_ROWS rows apart."""
    for i in range(1, len(positions)):
        need = (len(texts[i - 1]) + len(texts[i])) / 2 + GAP_CELLS if horizontal else GAP_ROWS
        if abs(positions[i] - positions[i - 1]) < need - 1e-6:
            return False
    return True


def fit_ticks(
    lo: float, hi: float, cells: int, horizontal: bool, scale: str = "linear", threshold: float = 1.0
) -> tuple[list[float], list[str]]:
    """Tick positions (drawing space) and labels for an axis of `cells` columns or rows showing [lo, hi]:
    as many as fit without touching, each label distinct and at most MAX_LABEL characters."""
    if not (math.isfinite(lo) and math.isfinite(hi)) or hi <= lo or cells < 1:
        return [], []
    most = max(1, cells // 4) if horizontal else max(4, cells // 4)  # a tall chart gets a label every few rows
    for count in range(most, 0, -1):
        values, powers = tick_values(lo, hi, count, scale, threshold)
        if not values:
            continue
        texts = labels(values, powers)
        if len(set(texts)) != len(texts):
            continue  # too close for MAX_LABEL characters: fewer ticks
        ticks = [float(t) for t in forward(values, scale, threshold)]
        positions = _positions(ticks, lo, hi, cells)
        if fits(positions, texts, horizontal):
            return ticks, texts
        if scale != "linear":  # uneven on screen: keep every tick that has room after the last one kept
            kept = [0]
            for i in range(1, len(ticks)):
                if fits([positions[kept[-1]], positions[i]], [texts[kept[-1]], texts[i]], horizontal):
                    kept.append(i)
            if len(kept) >= 2:
                return [ticks[i] for i in kept], [texts[i] for i in kept]
    mid = (lo + hi) / 2  # nothing fits twice: one label in the middle
    return [mid], [label(float(inverse([mid], scale, threshold)[0]), (hi - lo) / 10 or 1.0)]
