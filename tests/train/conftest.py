"""Shared helpers for the worker tests: tiny configs and a subprocess runner."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from simsiam_tui.config.schema import RunConfig

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def _few_threads() -> None:
    torch.set_num_threads(1)


def tiny_config(**sections: dict) -> RunConfig:
    """A digits run small enough for a test: 8x8 images, width-8 ResNet, d=32, 2 epochs of 10 steps."""
    cfg = RunConfig(variant="test", scale="digits")
    cfg.model.backbone, cfg.model.width, cfg.model.dim, cfg.model.pred_dim = "resnet-small", 8, 32, 8
    cfg.data.name, cfg.data.image_size, cfg.data.batch_size, cfg.data.workers = "digits", 8, 128, 0
    cfg.optim.lr = 0.1
    cfg.train.epochs, cfg.train.device = 2, "cpu"
    cfg.monitor.log_every, cfg.monitor.collapse_every, cfg.monitor.knn_k = 2, 4, 20
    cfg.monitor.system_every_s, cfg.monitor.flush_every_s = 0.5, 0.2
    for section, values in sections.items():
        for key, value in values.items():
            if section == "method" and isinstance(value, dict):  # a method's own section: method={"moco": {...}}
                target = cfg.method.sections[key]
                for name, sub in value.items():
                    assert hasattr(target, name), f"method.{key}.{name}"
                    setattr(target, name, sub)
            else:
                assert hasattr(getattr(cfg, section), key), f"{section}.{key}"  # a typo fails, never passes silently
                setattr(getattr(cfg, section), key, value)
    return cfg


def worker_env(**extra: str) -> dict[str, str]:
    """Environment for a worker subprocess: one thread (deterministic and light), repo on the path."""
    env = dict(os.environ)
    env.update(OMP_NUM_THREADS="1", MKL_NUM_THREADS="1", PYTHONPATH=str(REPO), CUDA_VISIBLE_DEVICES="")
    env.pop("SIMSIAM_TUI_FAULT", None)
    env.update(extra)
    return env


def start_worker(run_dir: Path, **env: str) -> subprocess.Popen:
    """`python -m simsiam_tui.train RUN_DIR` in the background, stderr captured."""
    return subprocess.Popen(
        [sys.executable, "-m", "simsiam_tui.train", str(run_dir)],
        env=worker_env(**env), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
