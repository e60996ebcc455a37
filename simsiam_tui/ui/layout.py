"""The charts' layout (which metrics, log-y, x axis, smoothing), remembered per runs folder in a small JSON file."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

from simsiam_tui.store.status import atomic_write_text
from simsiam_tui.ui.series import DEFAULT_CHARTS, X_AXES, metric_for

LAYOUT_FILE = ".simsiam-tui-layout.json"  # a dot file: `runs ls` and the app's scan skip it
MAX_CHARTS = 6


@dataclass
class ChartSlot:
    """One chart: a metric key (`loss`, `z_ratio`, or any `kind/field`) and whether its y axis is logarithmic."""

    metric: str
    log_y: bool = False


@dataclass
class Layout:
    """What the app shows on its charts."""

    charts: list[ChartSlot] = field(default_factory=lambda: [ChartSlot(k) for k in DEFAULT_CHARTS])
    x_axis: str = "step"
    smooth: bool = True


def _parse(data: object) -> Layout:
    if not isinstance(data, dict):
        raise ValueError("not a JSON object")
    charts = data.get("charts")
    if not isinstance(charts, list) or not 1 <= len(charts) <= MAX_CHARTS:
        raise ValueError(f"'charts' must be a list of 1 to {MAX_CHARTS} charts")
    slots = []
    for item in charts:
        if not isinstance(item, dict) or not isinstance(item.get("metric"), str):
            raise ValueError("each chart needs a 'metric' name")
        metric_for(item["metric"])  # raises ValueError for a name that is no metric
        slots.append(ChartSlot(item["metric"], item.get("log_y") is True))
    x_axis = data.get("x_axis", "step")
    if x_axis not in X_AXES:
        raise ValueError(f"'x_axis' must be one of {', '.join(X_AXES)}")
    return Layout(slots, x_axis, data.get("smooth", True) is not False)


def load_layout(root: Path) -> tuple[Layout, str | None]:
    """The layout saved in `root`, or the default; the second item is a notice when the file was unusable."""
    path = Path(root) / LAYOUT_FILE
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return Layout(), None
    except (OSError, UnicodeDecodeError) as exc:
        return Layout(), f"ignored {path}: {exc}"
    try:
        return _parse(json.loads(text)), None
    except ValueError as exc:  # json.JSONDecodeError is a ValueError
        return Layout(), f"ignored {path} ({exc}); using the default charts"


def save_layout(root: Path, layout: Layout) -> str | None:
    """Write the layout into `root` whole (temp file + rename); returns a notice when it could not be written."""
    path = Path(root) / LAYOUT_FILE
    if not Path(root).is_dir():
        return None  # no runs folder yet: nothing to remember it in, and never create one just for this
    try:
        atomic_write_text(path, json.dumps(asdict(layout), indent=1) + "\n")
    except OSError as exc:
        return f"cannot save the chart layout to {path}: {exc.strerror}"
    return None
