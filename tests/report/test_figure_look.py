"""The figure read back from matplotlib's artists: colours fixed per variant, a line style per replica, short
labels in one legend outside the data, the std panel from 0 with its 1/sqrt(d) line labelled, paper and slide."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.colors import to_hex

from simsiam_tui.report.errors import ReportError
from simsiam_tui.report.figdata import figure_data, load_runs
from simsiam_tui.report.figure import draw_figure
from simsiam_tui.report.style import VARIANT_COLORS, variant_color
from simsiam_tui.store import list_runs
from tests.ui.fixtures import write_run


def _seeded(root: Path, run_id: str, variant: str, seed: int) -> None:
    paths = write_run(root, run_id, variant, 3.0, seed=seed)
    cfg = json.loads(paths.config.read_text())
    cfg["train"]["seed"] = seed
    paths.config.write_text(json.dumps(cfg))


@pytest.fixture
def two_seeds(tmp_path: Path) -> Path:
    """Two separate simsiam runs (seeds 1 and 2, not a group) and a no-stop-grad run."""
    root = tmp_path / "runs"
    _seeded(root, "20260101-000000-simsiam-a1b2", "simsiam", 1)
    _seeded(root, "20260101-000001-simsiam-b2c3", "simsiam", 2)
    _seeded(root, "20260101-000002-no-stop-grad-c3d4", "no-stop-grad", 3)
    return root


def _figure(root: Path, style: str = "paper", runs: list[int] | None = None):  # type: ignore[no-untyped-def]
    targets = list_runs(root)
    targets = [targets[i] for i in runs] if runs is not None else targets
    fig = draw_figure(figure_data(load_runs(targets)), "step", style)
    FigureCanvasAgg(fig).draw()  # lay it out: legend and axes get their places
    return fig


def _lines(ax):  # type: ignore[no-untyped-def]
    return [ln for ln in ax.get_lines() if not ln.get_label().startswith("_")]


@pytest.mark.parametrize("style", ["paper", "slide"])
def test_colours_styles_and_labels(two_seeds: Path, style: str) -> None:
    fig = _figure(two_seeds, style)
    loss = fig.axes[0]
    drawn = {ln.get_label(): (to_hex(ln.get_color()).upper(), ln.get_linestyle()) for ln in _lines(loss)}
    assert set(drawn) == {"simsiam s1", "simsiam s2", "no-stop-grad"}  # variant and seed, no run ids
    assert drawn["simsiam s1"][0] == drawn["simsiam s2"][0] == VARIANT_COLORS["simsiam"]
    assert drawn["no-stop-grad"][0] == VARIANT_COLORS["no-stop-grad"]
    assert drawn["simsiam s1"][1] != drawn["simsiam s2"][1]  # two runs of one variant never look the same
    (legend,) = fig.legends
    assert [t.get_text() for t in legend.get_texts()] == ["simsiam s1", "simsiam s2", "no-stop-grad"]
    box = legend.get_window_extent()
    for ax in fig.axes:  # one legend, outside every panel's data
        assert not box.overlaps(ax.get_window_extent()), ax.get_title()
        assert ax.get_legend() is None


def test_std_panel_starts_at_zero_with_the_reference_labelled(two_seeds: Path) -> None:
    std = _figure(two_seeds).axes[1]
    assert std.get_ylim()[0] == 0
    labels = [t.get_text() for t in std.texts]
    assert any(t.startswith("1/sqrt(d) = 0.0442") for t in labels), labels
    ref = [ln for ln in std.get_lines() if ln.get_linestyle() == ":"]
    assert ref and ref[0].get_ydata()[0] == pytest.approx(1 / 512**0.5)


def test_a_variant_keeps_its_colour_across_figures(two_seeds: Path) -> None:
    """simsiam was orange in one figure and blue in the next when colours went by order of appearance."""
    alone = {ln.get_label(): to_hex(ln.get_color()).upper() for ln in _lines(_figure(two_seeds, runs=[2]).axes[0])}
    both = {ln.get_label(): to_hex(ln.get_color()).upper() for ln in _lines(_figure(two_seeds).axes[0])}
    assert alone["no-stop-grad"] == both["no-stop-grad"] == VARIANT_COLORS["no-stop-grad"]
    assert variant_color("my-own-preset") == variant_color("my-own-preset")  # a user's preset: hashed, stable
    assert len(set(VARIANT_COLORS.values())) == len(VARIANT_COLORS)


def test_paper_is_one_column_and_slide_is_wide(two_seeds: Path) -> None:
    paper, slide = _figure(two_seeds, "paper"), _figure(two_seeds, "slide")
    assert paper.get_size_inches()[0] == pytest.approx(3.4) and slide.get_size_inches()[0] == pytest.approx(13.33)
    assert len({round(ax.get_position().x0, 2) for ax in paper.axes}) == 1  # stacked
    assert len({round(ax.get_position().y0, 2) for ax in slide.axes}) == 1  # side by side
    with pytest.raises(ReportError, match="--style must be one of paper, slide"):
        draw_figure([], "step", "poster")
