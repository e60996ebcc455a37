"""The charts' layout (which metrics, log-y, x axis, smoothing), remembered per runs folder in a small JSON file."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import msgspec

from simsiam_tui.store.files import UnsafeFile, atomic_write, read_bytes
from simsiam_tui.store.text import printable
from simsiam_tui.ui.series import DEFAULT_CHARTS, X_AXES, metric_for

LAYOUT_FILE = ".simsiam-tui-layout.json"  # a dot file: `runs ls` and the app's scan skip it
MAX_CHARTS = 6
MAX_LAYOUT_BYTES = 1 << 20  # a real layout is a few hundred bytes; anything near this was not written by the app
MAX_WHY = 160  # a reason may quote the file (a metric name): the notice stays one short line


class ChartSlot(msgspec.Struct):
    """One chart: a metric key (`loss`, `z_ratio`, or any `kind/field`) and whether its y axis is logarithmic."""

    metric: str
    log_y: bool = False


def _default_charts() -> list[ChartSlot]:
    return [ChartSlot(k) for k in DEFAULT_CHARTS]


class Layout(msgspec.Struct):
    """What the app shows on its charts; also the layout file's schema (decoding it is validating it)."""

    charts: Annotated[list[ChartSlot], msgspec.Meta(min_length=1, max_length=MAX_CHARTS)] = msgspec.field(
        default_factory=_default_charts
    )
    x_axis: str = "step"
    smooth: bool = True


_DECODER = msgspec.json.Decoder(Layout)


def _checked(layout: Layout) -> Layout:
    """What the schema cannot say: each metric names a metric, the x axis is one the app knows."""
    for slot in layout.charts:
        metric_for(slot.metric)  # raises ValueError for a name that is no metric
    if layout.x_axis not in X_AXES:
        raise ValueError(f"'x_axis' must be one of {', '.join(X_AXES)}")
    return layout


def _unreadable(exc: OSError) -> str:
    return exc.why if isinstance(exc, UnsafeFile) else exc.strerror or str(exc)


def load_layout(root: Path) -> tuple[Layout, str | None]:
    """The layout saved in `root`, or the default; the second item is a one-line notice when the file was unusable."""
    path = Path(root) / LAYOUT_FILE
    try:
        # the safe opener: a FIFO never hangs the app's start, a symlink is not followed, a huge file not read
        return _checked(_DECODER.decode(read_bytes(path, cap=MAX_LAYOUT_BYTES))), None
    except FileNotFoundError:
        return Layout(), None
    except OSError as exc:
        why = _unreadable(exc)
    except (msgspec.DecodeError, ValueError) as exc:  # not JSON, the wrong shape or types, or no such metric
        why = str(exc)
    except RecursionError:  # nesting deeper than the decoder's stack
        why = "nested too deeply"
    why = why if len(why) <= MAX_WHY else why[:MAX_WHY] + "…"
    return Layout(), printable(f"ignored {path} ({why}); using the default charts")


def save_layout(root: Path, layout: Layout) -> str | None:
    """Write the layout into `root` whole (temp file + rename); returns a notice when it could not be written."""
    path = Path(root) / LAYOUT_FILE
    if not Path(root).is_dir():
        return None  # no runs folder yet: nothing to remember it in, and never create one just for this
    data = msgspec.json.format(msgspec.json.encode(layout), indent=1) + b"\n"
    try:
        atomic_write(path, data, fsync=False)  # a lost layout costs nothing; an fsync could stall the UI thread
    except OSError as exc:
        return printable(f"cannot save the chart layout to {path}: {exc.strerror or exc}")
    return None
