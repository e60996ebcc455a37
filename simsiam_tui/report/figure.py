"""`runs plot`: a publication-quality figure (PNG, SVG or PDF) of the figure data, drawn with matplotlib's Agg backend."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from simsiam_tui.report.errors import ReportError
from simsiam_tui.report.figdata import X_LABELS, Panel, RunData, figure_data, load_runs
from simsiam_tui.store import RunPaths
from simsiam_tui.store.status import NEW_FILE_MODE

FORMATS = ("png", "svg", "pdf")
# Okabe-Ito: distinguishable for colour-blind readers and in greyscale print
COLORS = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#F0E442", "#000000")
PANEL_INCHES = (4.2, 3.3)
DPI = 200


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


def render(panels: list[Panel], x_axis: str, out: Path) -> None:
    """Draw the panels side by side and write them to `out` (written whole: a temp file, then renamed)."""
    fmt = check_out(out)
    try:  # lazily: matplotlib costs ~0.3 s to import, and only this command needs it
        from matplotlib.figure import Figure  # noqa: TID251 (the report layer is where matplotlib lives)
    except ImportError:
        raise ReportError("runs plot needs matplotlib: pip install 'simsiam-tui[report]'") from None

    fig = Figure(figsize=(PANEL_INCHES[0] * len(panels), PANEL_INCHES[1]), dpi=DPI, layout="constrained")
    axes = fig.subplots(1, len(panels), squeeze=False)[0]
    for ax, panel in zip(axes, panels, strict=True):
        for s in panel.series:
            color = COLORS[s.color % len(COLORS)]
            ax.plot(s.x, s.y, color=color, lw=1.4, ls="--" if s.dashed else "-", label=s.label)
            if s.std is not None:
                lo = [m - d for m, d in zip(s.y, s.std, strict=True)]
                hi = [m + d for m, d in zip(s.y, s.std, strict=True)]
                ax.fill_between(s.x, lo, hi, color=color, alpha=0.2, lw=0)
        if panel.reference is not None:
            ax.axhline(panel.reference, color="0.4", ls=":", lw=1.2, label=panel.reference_label)
        if not panel.series:
            ax.text(0.5, 0.5, "no data", ha="center", va="center", transform=ax.transAxes, color="0.5")
        ax.set_title(panel.title, fontsize=10)
        ax.set_xlabel(X_LABELS[x_axis], fontsize=9)
        ax.set_ylabel(panel.ylabel, fontsize=9)
        ax.tick_params(labelsize=8)
        ax.grid(True, lw=0.4, alpha=0.4)
        ax.spines[["top", "right"]].set_visible(False)
        if panel.series or panel.reference is not None:
            ax.legend(fontsize=7, frameon=False)
    fd, tmp = tempfile.mkstemp(prefix=f".{out.name}.", suffix=f".{fmt}", dir=out.parent)
    os.fchmod(fd, NEW_FILE_MODE)  # a figure to share, readable as any new file
    os.close(fd)
    try:
        fig.savefig(tmp, format=fmt, metadata={"Software": "simsiam-tui"} if fmt == "png" else None)
        os.replace(tmp, out)
    except OSError as exc:
        Path(tmp).unlink(missing_ok=True)
        raise ReportError(f"cannot write {out}: {exc.strerror}") from None


def plot_runs(
    targets: list[RunPaths], out: Path, x_axis: str = "step", metrics: list[str] | None = None
) -> list[Panel]:
    """Read runs, build the figure data and write the figure; returns the panels drawn."""
    check_out(out)
    runs: list[RunData] = load_runs(targets)
    panels = figure_data(runs, metrics, x_axis)
    render(panels, x_axis, out)
    return panels
