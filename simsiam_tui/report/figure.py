"""`runs plot`: a publication-quality figure (PNG, SVG or PDF) of the figure data, drawn with matplotlib's Agg backend."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

from simsiam_tui.report.errors import ReportError
from simsiam_tui.report.figdata import X_LABELS, Panel, RunData, figure_data, load_runs
from simsiam_tui.report.style import STYLES, Style, replica_style, variant_color
from simsiam_tui.store import RunPaths
from simsiam_tui.store.files import atomic_write

FORMATS = ("png", "svg", "pdf")
# Okabe-Ito: distinguishable for colour-blind readers and in greyscale print (lines that are no variant's own)
COLORS = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#F0E442", "#000000")
PANEL_INCHES = (4.2, 3.3)
DPI = 200
__all__ = ["COLORS", "DPI", "FORMATS", "PANEL_INCHES", "check_out", "draw_figure", "plot_runs", "variant_color"]


def check_out(out: Path) -> str:
    """The format of an output path (from its extension); a bad one raises ReportError."""
    ext = out.suffix.lower().lstrip(".")
    if ext not in FORMATS:
        raise ReportError(f"--out must end in .png, .svg or .pdf, got '{out.name}'")
    if out.is_dir():
        raise ReportError(f"'{out}' is a folder; give a file name")
    if not out.parent.is_dir():
        raise ReportError(f"folder '{out.parent}' does not exist")
    return ext


def draw_figure(panels: list[Panel], x_axis: str, style: str = "paper") -> Any:
    """The matplotlib Figure of these panels: one colour per variant, a line style per separate run of it, groups
    as mean ± std bands, one legend outside the data with short labels (variant, seed)."""
    look = _style(style)
    try:  # lazily: matplotlib costs ~0.3 s to import, and only figures need it
        from matplotlib.figure import Figure  # noqa: TID251 (the report layer is where matplotlib lives)
        from matplotlib.lines import Line2D  # noqa: TID251
    except ImportError:
        raise ReportError("runs plot needs matplotlib: pip install 'simsiam-tui[report]'") from None

    n = len(panels)
    if look.stacked:  # a paper column: panels one above the other, the legend under them
        size = (look.width, look.panel_height * n + 0.5)
    else:  # a slide: side by side, the legend on the right
        size = (look.width, look.panel_height)
    fig = Figure(figsize=size, dpi=look.dpi, layout="constrained")
    axes = fig.subplots(n if look.stacked else 1, 1 if look.stacked else n, squeeze=False).ravel()
    handles: dict[str, Any] = {}
    probes = False
    for ax, panel in zip(axes, panels, strict=True):
        for s in panel.series:
            ls = replica_style(s.replica)
            if s.probe:  # the linear probe: the run's own colour and style, thinner, its points marked
                probes = True
                ax.plot(s.x, s.y, color=s.color, lw=look.line * 0.7, ls=ls, marker="^", ms=look.font * 0.45)
                continue
            (line,) = ax.plot(s.x, s.y, color=s.color, lw=look.line, ls=ls, label=s.label)
            handles.setdefault(s.label, line)
            if s.std is not None:
                lo = [m - d for m, d in zip(s.y, s.std, strict=True)]
                hi = [m + d for m, d in zip(s.y, s.std, strict=True)]
                ax.fill_between(s.x, lo, hi, color=s.color, alpha=0.2, lw=0)
        if panel.key.endswith("z_std"):
            top = max(ax.get_ylim()[1], 1.15 * (panel.reference or 0.0))  # room for the reference's label
            ax.set_ylim(0, top)  # from 0: the fall to 0 is what this panel is for
        if panel.reference is not None:
            ax.axhline(panel.reference, color="0.35", ls=":", lw=look.line * 0.8)
            ax.text(  # labelled on the line itself, at its right end
                0.99,
                panel.reference,
                f"{panel.reference_label or 'reference'} = {panel.reference:.3g}",
                transform=ax.get_yaxis_transform(),
                ha="right",
                va="bottom",
                fontsize=look.font * 0.85,
                color="0.3",
            )
        if not panel.series:
            ax.text(0.5, 0.5, "no data", ha="center", va="center", transform=ax.transAxes, color="0.5")
        ax.set_title(panel.title, fontsize=look.font + 1)
        if not look.stacked or ax is axes[-1]:
            ax.set_xlabel(X_LABELS[x_axis], fontsize=look.font)
        ax.set_ylabel(panel.ylabel, fontsize=look.font)
        ax.tick_params(labelsize=look.font * 0.9)
        ax.grid(True, lw=0.4, alpha=0.4)
        ax.spines[["top", "right"]].set_visible(False)
    entries = list(handles.items())
    if probes:  # what the two kinds of accuracy lines mean
        entries.append(("kNN top-1", Line2D([], [], color="0.35", lw=look.line)))
        entries.append(("linear probe", Line2D([], [], color="0.35", lw=look.line * 0.7, marker="^")))
    if entries:
        labels, lines = zip(*entries, strict=True)
        if look.stacked:
            fig.legend(lines, labels, loc="outside lower center", ncols=2, fontsize=look.font, frameon=False)
        else:
            fig.legend(lines, labels, loc="outside right upper", fontsize=look.font * 0.85, frameon=False)
    return fig


def _style(name: str) -> Style:
    if name not in STYLES:
        raise ReportError(f"--style must be one of {', '.join(STYLES)}, got '{name}'")
    return STYLES[name]


def render(panels: list[Panel], x_axis: str, out: Path, style: str = "paper") -> None:
    """Draw the panels and write them to `out` (written whole: a temp file, then renamed)."""
    fmt = check_out(out)
    fig = draw_figure(panels, x_axis, style)
    buffer = io.BytesIO()
    fig.savefig(buffer, format=fmt, metadata={"Software": "simsiam-tui"} if fmt == "png" else None)
    try:
        atomic_write(out, buffer.getvalue(), fsync=False)  # the store's one writer: whole, never through a link
    except OSError as exc:
        raise ReportError(f"cannot write {out}: {exc.strerror}") from None


def plot_runs(
    targets: list[RunPaths],
    out: Path,
    x_axis: str = "step",
    metrics: list[str] | None = None,
    style: str = "paper",
) -> list[Panel]:
    """Read runs, build the figure data and write the figure (`paper` or `slide` sizes); returns the panels."""
    check_out(out)
    _style(style)
    runs: list[RunData] = load_runs(targets)
    panels = figure_data(runs, metrics, x_axis)
    render(panels, x_axis, out, style)
    return panels
