"""The paper's key result at the embedded digits scale: without stop-grad SimSiam collapses, with it it learns."""

from __future__ import annotations

from pathlib import Path

import pytest

from simsiam_tui.config import resolve_config
from simsiam_tui.store import create_run, read_events
from simsiam_tui.store.verdict import COLLAPSED_RANK
from simsiam_tui.train.worker import run_worker


def _train(tmp_path: Path, preset: str) -> dict[str, float]:
    paths = create_run(tmp_path, resolve_config(preset=preset, scale="digits", overrides=["train.device=cpu"]))
    assert run_worker(paths.dir) == 0
    events = read_events(paths.events)
    train = [e for e in events if e["kind"] == "train"]
    knn = [e["knn_top1"] for e in events if e["kind"] == "eval"]
    rank = [e["effective_rank"] for e in events if e["kind"] == "collapse"]
    last = train[-3:]  # judge the end of training, never one noisy point
    return {
        "loss": sum(e["loss"] for e in last) / len(last),
        "z_ratio": sum(e["z_std"] / e["z_std_ref"] for e in last) / len(last),
        "knn": knn[-1],
        "rank": rank[-1],
    }


@pytest.mark.slow
def test_no_stop_grad_collapses_and_simsiam_does_not(tmp_path: Path) -> None:
    collapsed = _train(tmp_path, "no-stop-grad")
    healthy = _train(tmp_path, "simsiam")
    chance = 0.1
    assert collapsed["loss"] < -0.9, collapsed
    # complete collapse by the shared verdict: z_std/ref low, or outputs on one line (the output BN
    # without affine can keep z_std/ref near 0.3 while the effective rank is about 1), or kNN at chance
    complete = collapsed["z_ratio"] < 0.3 or collapsed["rank"] < COLLAPSED_RANK
    assert complete or collapsed["knn"] < chance + 0.05, collapsed
    assert healthy["z_ratio"] > 0.7, healthy
    assert healthy["knn"] >= 0.8, healthy
    assert healthy["rank"] > 3 * collapsed["rank"], (healthy, collapsed)
