"""The compared architectures through the real worker: they learn at the digits scale, and a resume is exact."""

from __future__ import annotations

import signal
import subprocess
from pathlib import Path

import pytest
import torch

from simsiam_tui.config import resolve_config
from simsiam_tui.store import RunPaths, create_run, read_events
from tests.helpers import wait_until

from .conftest import start_worker, tiny_config

pytestmark = pytest.mark.slow  # every test here trains worker subprocesses

STEPS_PER_EPOCH = 1347 // 128  # digits train split / the tiny config's batch
STATEFUL = {"memory-bank": "instdisc", "momentum": "moco", "byol": "byol"}


PRESETS = ["end-to-end", "memory-bank", "momentum", "byol"]
# The digits scale with a narrower net, kNN only at the end, for speed.
EPOCHS = {"end-to-end": 3, "memory-bank": 3, "momentum": 3, "byol": 3}


def overrides(preset: str) -> list[str]:
    """The test's overrides for one preset: its epochs, one kNN evaluation at the end."""
    epochs = EPOCHS[preset]
    return [f"train.epochs={epochs}", "train.device=cpu", "model.width=16", "monitor.log_every=3", f"monitor.knn_every={epochs}"]


@pytest.fixture(scope="module")
def digits_runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, RunPaths]:
    """Every preset for a few epochs at the digits scale, as worker subprocesses running side by side."""
    root = tmp_path_factory.mktemp("runs")
    runs = {p: create_run(root, resolve_config(p, "digits", overrides(p)), p) for p in PRESETS}
    procs = {p: start_worker(paths.dir) for p, paths in runs.items()}
    for preset, proc in procs.items():
        _, err = proc.communicate(timeout=600)
        assert proc.returncode == 0, (preset, err)
    return runs


@pytest.mark.parametrize("preset", PRESETS)
def test_trains_at_the_digits_scale(preset: str, digits_runs: dict[str, RunPaths]) -> None:
    """Finite, falling loss; kNN above chance; z_std on the online projector; the method's extras logged."""
    paths = digits_runs[preset]
    cfg = resolve_config(preset, "digits", overrides(preset))
    events = read_events(paths.events)
    losses = [e["loss"] for e in events if e["kind"] == "train"]
    assert len(losses) >= 10 and all(torch.isfinite(torch.tensor(losses)))
    if preset == "momentum":
        # Not a falling loss in 3 epochs: InfoNCE over a queue of 1024 keys starts at log(1025) = 6.93 and
        # stays within noise of it for the first epochs (measured over 50 epochs at this scale: 6.92 in
        # epochs 0-2, 6.71 in 4-6, 4.85 at the end; 6 epochs in this test still failed). Learning shows in
        # the finite loss and kNN here, and in the README's 50-epoch run.
        pass
    elif preset == "memory-bank":
        # Not a falling loss here: the positives are bank entries that start as random vectors and are
        # refreshed once an epoch, while the fresher entries written since serve as negatives (stale
        # keys), so InstDisc's loss climbs for the first epochs at this scale (it turns down by about
        # epoch 4 of 10). Learning shows in kNN instead; the staleness is checked below.
        pass
    else:
        # The mean loss of the last epoch under that of the first (one epoch is 7 logged points).
        per_epoch = len(losses) // cfg.train.epochs
        assert sum(losses[-per_epoch:]) < sum(losses[:per_epoch]), losses
    evals = [e["knn_top1"] for e in events if e["kind"] == "eval"]
    assert len(evals) == 1 and evals[-1] > 0.3  # chance: 0.1
    train = [e for e in events if e["kind"] == "train"]
    assert all(e["z_std"] > 0 and e["z_std_ref"] == pytest.approx(cfg.model.dim**-0.5) for e in train)
    if preset == "memory-bank":
        staleness = [e["bank_staleness"] for e in train]
        assert staleness[0] >= 1 and max(staleness) > 5  # entries age until their image comes round again
    if preset == "byol":
        m = [e["ema_momentum"] for e in train]
        assert m == sorted(m) and cfg.method.sections["byol"].base_momentum <= m[0] and m[-1] <= 1.0


def _weights(paths: RunPaths) -> dict[str, torch.Tensor]:
    return torch.load(paths.checkpoint, map_location="cpu", weights_only=False)["model"]


def _wait_for_checkpoint(paths: RunPaths, proc: subprocess.Popen[str], step: int, timeout: float = 240.0) -> None:
    wait_until(
        lambda: any(e["kind"] == "checkpoint" and e["step"] == step for e in read_events(paths.events)),
        timeout, "the epoch-1 checkpoint", proc=proc,
    )


def test_one_plus_one_epoch_resume_equals_two_straight(tmp_path: Path) -> None:
    """SIGKILL after epoch 1, resume: queue, bank and target network end bit-identical to a straight 2-epoch run."""
    runs = {}
    for preset, method in STATEFUL.items():
        cfg = tiny_config(method={
            "name": method, "moco": {"queue_size": 512, "momentum": 0.9}, "instdisc": {"negatives": 256},
            "byol": {"base_momentum": 0.9},
        })
        runs[preset] = (
            create_run(tmp_path / "straight", cfg, preset),
            create_run(tmp_path / "killed", cfg, preset),
        )
    straight = {p: start_worker(s.dir) for p, (s, _) in runs.items()}
    killed = {p: start_worker(k.dir, SIMSIAM_TUI_FAULT="hold_after_epoch=1") for p, (_, k) in runs.items()}
    for preset, proc in killed.items():
        _wait_for_checkpoint(runs[preset][1], proc, STEPS_PER_EPOCH)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    resumed = {p: start_worker(k.dir) for p, (_, k) in runs.items()}
    for procs in (straight, resumed):
        for proc in procs.values():
            _, err = proc.communicate(timeout=300)
            assert proc.returncode == 0, err
    for preset, (s, k) in runs.items():
        ws, wk = _weights(s), _weights(k)
        assert ws.keys() == wk.keys()
        for key in ws:
            assert torch.equal(ws[key], wk[key]), (preset, key)
        starts = [e for e in read_events(k.events) if e["kind"] == "start"]
        assert starts[-1]["resumed_from_step"] == STEPS_PER_EPOCH
    assert "queue" in _weights(runs["momentum"][0]) and "bank" in _weights(runs["memory-bank"][0])
    assert any(key.startswith("target_backbone.") for key in _weights(runs["byol"][0]))
