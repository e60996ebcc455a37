"""Per-run summaries (last and best metrics, verdict) and flat export rows, from the run directory alone."""

from __future__ import annotations

import math
from typing import Any

from simsiam_tui.launch.state import current_state
from simsiam_tui.store import (
    RunHistory,
    RunPaths,
    judge,
    read_config_dict,
    read_history,
    read_status,
)


def _finite(values: Any) -> list[float]:
    return [v for v in values if not math.isnan(v)]


def _last(history: RunHistory, kind: str, name: str) -> float | None:
    return history.series[kind].last(name)


def run_summary(paths: RunPaths, history: RunHistory | None = None, refresh: bool = True) -> dict[str, Any]:
    """One dict per run: id, variant, scale, state, epochs done/total, step, last/best loss, z_std/ref, kNN, img/s, verdict."""
    cfg = read_config_dict(paths)
    status = read_status(paths.status) or {}
    # never writes: show, compare and exports are reading commands
    state, message = current_state(paths) if refresh else (status.get("state", "unknown"), status.get("message"))
    history = read_history(paths.events) if history is None else history
    train = history.series["train"]
    losses = _finite(train.column("loss"))
    z_std, z_ref = _last(history, "train", "z_std"), _last(history, "train", "z_std_ref")
    knn = _finite(history.series["eval"].column("knn_top1"))
    linear = _finite(history.series["eval"].column("linear_top1"))
    source = (cfg.get("linear_eval") or {}).get("source_run") or None
    verdict = judge(history)
    epochs_done = max((history.last[k].get("epoch", 0.0) for k in history.last), default=0.0)
    return {
        "id": paths.run_id,
        "name": status.get("name"),
        "variant": cfg.get("variant"),
        "scale": cfg.get("scale"),
        "state": state,
        "message": message or None,
        "epoch": float(epochs_done),
        "epochs": (cfg.get("train") or {}).get("epochs"),
        "step": max((e.get("step", 0) for e in history.last.values()), default=0),
        "loss_last": losses[-1] if losses else None,
        "loss_best": min(losses) if losses else None,
        "z_std": z_std,
        "z_std_ref": z_ref,
        "z_std_ratio": z_std / z_ref if z_std is not None and z_ref else None,
        "effective_rank": _last(history, "collapse", "effective_rank"),
        "knn_top1_last": knn[-1] if knn else None,
        "knn_top1_best": max(knn) if knn else None,
        "linear_top1_last": linear[-1] if linear else None,  # the online probe, or a linear-eval run's classifier
        "kind": "linear-eval" if source else "pretrain",
        "source_run": source,
        "group": cfg.get("group") or None,
        "seed": (cfg.get("train") or {}).get("seed"),
        "img_per_s": _last(history, "train", "img_per_s"),
        "verdict": verdict.label,
        "verdict_reason": verdict.reason,
        "host": status.get("host"),
        "pid": status.get("pid"),
        "gpus": status.get("gpus"),
        "dir": str(paths.dir),
    }
