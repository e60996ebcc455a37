"""`runs plot`: the figure's data against the recorded events, and the written file read back as an image."""

from __future__ import annotations

import json
import math
import os
import shlex
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from simsiam_tui.report.errors import ReportError
from simsiam_tui.report.figdata import figure_data, load_runs, to_json
from simsiam_tui.store import list_runs, read_events

SNAPSHOT = Path(__file__).parent / "snapshots" / "stop_grad_figure.json"
REPO = Path(__file__).resolve().parents[2]


def cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """`simsiam-tui ARGS` as a user runs it, from `cwd`."""
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    env.pop("SIMSIAM_TUI_RUNS", None)
    code = "import sys; from simsiam_tui.cli.main import main; sys.argv[0] = 'simsiam-tui'; main()"
    return subprocess.run(
        [sys.executable, "-c", code, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=120
    )


def test_default_panels_are_the_papers_figure_2(suite_root: Path) -> None:
    panels = figure_data(load_runs(list_runs(suite_root)))
    assert [p.key for p in panels] == ["loss", "z_std", "accuracy"]
    loss, z_std, acc = panels
    assert z_std.reference == pytest.approx(1 / math.sqrt(512)) and z_std.reference_label == "1/sqrt(d)"
    # one colour per variant, the palette's own; the three simsiam seeds are one mean ± std line
    assert [(s.label, s.color, len(s.runs)) for s in loss.series] == [
        ("simsiam (mean ± std, n=3)", "#0072B2", 3),
        ("no-stop-grad", "#D55E00", 1),
    ]
    assert [s.label for s in acc.series] == ["simsiam (mean ± std, n=3)", "no-stop-grad"]


def test_group_band_is_the_mean_and_std_of_the_replicas(suite_root: Path) -> None:
    runs = list_runs(suite_root)
    members = [p for p in runs if "simsiam" in p.run_id and "no-stop" not in p.run_id]
    losses = []
    for paths in members:
        train = [e for e in read_events(paths.events) if e["kind"] == "train"]
        losses.append([e["loss"] for e in train])
        steps = [e["step"] for e in train]
    series = figure_data(load_runs(runs))[0].series[0]
    assert series.x == steps
    assert series.y == pytest.approx(np.mean(losses, axis=0).tolist())
    assert series.std == pytest.approx(np.std(losses, axis=0).tolist())
    single = figure_data(load_runs(runs))[0].series[1]  # no-stop-grad: its own values, no band
    collapsed = [e for e in read_events(runs[1].events) if e["kind"] == "train"]
    assert single.std is None and single.y == [e["loss"] for e in collapsed]


def test_figure_data_snapshot(suite_root: Path) -> None:
    """The series plotted, recorded once (SIMSIAM_UPDATE_SNAPSHOTS=1 records them again)."""
    data = to_json(figure_data(load_runs(list_runs(suite_root)), x_axis="epoch"))
    if os.environ.get("SIMSIAM_UPDATE_SNAPSHOTS"):
        SNAPSHOT.parent.mkdir(exist_ok=True)
        SNAPSHOT.write_text(json.dumps(data, indent=1) + "\n")
    assert data == json.loads(SNAPSHOT.read_text())


def test_metrics_pick_any_numeric_field_and_unknown_names_fail(suite_root: Path) -> None:
    runs = load_runs(list_runs(suite_root))
    panels = figure_data(runs, ["lr", "system/gpu_util_pct", "collapse.effective_rank"], "wall")
    assert [p.key for p in panels] == ["train/lr", "system/gpu_util_pct", "collapse/effective_rank"]
    first = panels[0].series[1]  # no-stop-grad: wall minutes from its start event
    train = [e for e in read_events(list_runs(suite_root)[1].events) if e["kind"] == "train"]
    assert first.x[0] == pytest.approx((train[0]["time"] - 1_767_000_000.0) / 60)
    with pytest.raises(ReportError, match="unknown metric 'nope'"):
        figure_data(runs, ["nope"])
    with pytest.raises(ReportError, match="--x must be one of"):
        figure_data(runs, None, "time")


def test_runs_plot_writes_a_png_of_the_stop_grad_pair(pair_root: Path) -> None:
    from PIL import Image

    result = cli("runs", "plot", "--out", "fig.png", cwd=pair_root.parent)
    assert result.returncode == 0, result.stderr
    path = pair_root.parent / "fig.png"
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    with Image.open(path) as img:
        assert img.format == "PNG" and img.size[0] >= 800 and img.size[1] >= 300
    assert "3 panels" in result.stderr
    umask = os.umask(0o022)
    os.umask(umask)
    assert path.stat().st_mode & 0o777 == 0o666 & ~umask  # readable like any new file, not mkstemp's 0600


@pytest.mark.slow
@pytest.mark.parametrize(("name", "magic"), [("fig.svg", b"<?xml"), ("fig.pdf", b"%PDF-")])
def test_runs_plot_svg_and_pdf(pair_root: Path, name: str, magic: bytes) -> None:
    result = cli("runs", "plot", "--out", name, "--x", "epoch", "--metrics", "loss,knn_top1", cwd=pair_root.parent)
    assert result.returncode == 0, result.stderr
    data = (pair_root.parent / name).read_bytes()
    assert data.startswith(magic)
    if name.endswith(".svg"):
        assert b"<svg" in data[:2000] and b"kNN top-1" in data


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["--out", "fig.jpg"], "must end in .png, .svg or .pdf"),
        (["--out", "fig.png", "--metrics", "nope"], "unknown metric 'nope'"),
        (["--out", "fig.png", "--x", "time"], "--x must be one of"),
        (["--out", "missing/fig.png"], "does not exist"),
    ],
)
def test_runs_plot_bad_input_is_one_line(pair_root: Path, args: list[str], needle: str) -> None:
    result = cli("runs", "plot", *args, cwd=pair_root.parent)
    assert result.returncode == 2
    assert needle in result.stderr and len(result.stderr.strip().splitlines()) == 1
    assert not list(pair_root.parent.glob("fig.*"))


def test_runs_plot_without_runs_is_one_line(tmp_path: Path) -> None:
    (tmp_path / "runs").mkdir()
    result = cli("runs", "plot", "--out", "fig.png", cwd=tmp_path)
    assert result.returncode == 2 and result.stderr.strip().count("\n") == 0
    assert "no runs to plot" in result.stderr


def test_linear_probe_joins_the_accuracy_panel_marked(pair_root: Path) -> None:
    from simsiam_tui.store import encode_event

    runs = list_runs(pair_root)
    with runs[0].events.open("a") as fh:  # an online linear probe's evals (issue 14 writes linear_top1)
        for step, acc in ((120, 0.61), (240, 0.74)):
            fh.write(encode_event("eval", step, step / 40, {"linear_top1": acc}, now=1_767_000_500.0 + step))
    acc_panel = figure_data(load_runs(runs))[2]
    linear = [s for s in acc_panel.series if s.probe]
    assert [(s.label, s.x, s.y) for s in linear] == [("simsiam", [120.0, 240.0], [61.0, 74.0])]


@pytest.mark.slow
def test_readme_figure_commands(pair_root: Path) -> None:
    """The README's figure and TensorBoard commands, as typed, in a folder whose ./runs holds the stop-grad pair."""
    from tests.test_readme import sh_commands

    readme = (REPO / "README.md").read_text()
    commands = [c for c in sh_commands(readme) if c.startswith(("simsiam-tui runs plot", "simsiam-tui runs export"))]
    assert len(commands) == 3
    for command in commands:
        result = cli(*shlex.split(command)[1:], cwd=pair_root.parent)
        assert result.returncode == 0, (command, result.stderr)
    assert (pair_root.parent / "fig.png").read_bytes()[:4] == b"\x89PNG"
    assert (pair_root.parent / "fig.pdf").read_bytes()[:5] == b"%PDF-"
    assert len(list((pair_root.parent / "tb").iterdir())) == 2
