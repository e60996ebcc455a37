"""`runs export --tensorboard DIR`: TensorBoard's own reader finds every run's scalars; the CLI never imports torch."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from simsiam_tui.store import list_runs, read_events
from tests.report.test_figure import REPO, cli


def _scalars(folder: Path) -> dict[str, list[tuple[int, float, float]]]:
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    acc = EventAccumulator(str(folder), size_guidance={"scalars": 0})
    acc.Reload()
    return {tag: [(e.step, e.wall_time, e.value) for e in acc.Scalars(tag)] for tag in acc.Tags()["scalars"]}


def test_tensorboard_reader_finds_each_runs_loss_series(suite_root: Path) -> None:
    result = cli("runs", "export", "--tensorboard", "tb", cwd=suite_root.parent)
    assert result.returncode == 0, result.stderr
    runs = list_runs(suite_root)
    assert sorted(p.name for p in (suite_root.parent / "tb").iterdir()) == sorted(p.run_id for p in runs)
    for paths in runs:
        events = read_events(paths.events)
        scalars = _scalars(suite_root.parent / "tb" / paths.run_id)
        for tag in ("train/loss", "train/z_std_ratio", "train/lr", "collapse/effective_rank", "eval/knn_top1"):
            assert tag in scalars, tag
        assert "system/gpu_util_pct" in scalars
        train = [e for e in events if e["kind"] == "train"]
        loss = scalars["train/loss"]
        assert [s for s, _, _ in loss] == [e["step"] for e in train]
        assert [w for _, w, _ in loss] == pytest.approx([e["time"] for e in train])  # wall time kept
        assert [v for _, _, v in loss] == pytest.approx([e["loss"] for e in train], rel=1e-6)  # float32
        ratio = [v for _, _, v in scalars["train/z_std_ratio"]]
        assert ratio == pytest.approx([e["z_std"] * math.sqrt(512) for e in train], rel=1e-5)


def test_export_again_replaces_the_earlier_files(pair_root: Path) -> None:
    for _ in range(2):
        assert cli("runs", "export", "--tensorboard", "tb", cwd=pair_root.parent).returncode == 0
    folder = pair_root.parent / "tb" / list_runs(pair_root)[0].run_id
    assert len(list(folder.glob("events.out.tfevents.*"))) == 1
    steps = [s for s, _, _ in _scalars(folder)["train/loss"]]
    assert len(steps) == len(set(steps))  # no step twice


@pytest.mark.slow
def test_export_and_plot_never_import_torch(pair_root: Path, tmp_path: Path) -> None:
    """Both commands in one process: afterwards, neither torch nor tensorboardX is in sys.modules."""
    import subprocess
    import sys

    code = (
        "import sys, json\n"
        "from simsiam_tui.cli.main import app\n"
        "for args in (['runs', 'export', '--tensorboard', 'tb'], ['runs', 'plot', '--out', 'f.png']):\n"
        "    try:\n"
        "        app(args)\n"
        "    except SystemExit as exc:\n"
        "        assert not exc.code, exc.code\n"
        "print(json.dumps(sorted(m for m in ('torch', 'tensorboardX', 'tensorflow') if m in sys.modules)))\n"
    )
    env = {"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin"}
    result = subprocess.run([sys.executable, "-c", code], cwd=pair_root.parent, env=env, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout.strip().splitlines()[-1]) == []
    assert (pair_root.parent / "f.png").exists() and (pair_root.parent / "tb").is_dir()


def test_tensorboard_target_that_is_a_file_is_one_line(pair_root: Path) -> None:
    (pair_root.parent / "tb").write_text("")
    result = cli("runs", "export", "--tensorboard", "tb", cwd=pair_root.parent)
    assert result.returncode == 2 and "is a file" in result.stderr and "Traceback" not in result.stderr
