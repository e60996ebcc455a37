"""Per-run summaries (progress, last and best metrics, verdict) as dicts for the CLI, from the run directory alone."""

from __future__ import annotations

from typing import Any

from simsiam_tui.launch.state import current_state
from simsiam_tui.store import RunHistory, RunPaths, read_config_dict, read_history, read_status
from simsiam_tui.store.summary import best_metrics, config_epochs, run_metrics


def run_summary(paths: RunPaths, history: RunHistory | None = None, refresh: bool = True) -> dict[str, Any]:
    """One dict per run: id, variant, scale, state, epochs done/total, step, last/best loss, z_std/ref, kNN, img/s, verdict."""
    cfg = read_config_dict(paths)
    status = read_status(paths.status) or {}
    # never writes: show, compare and exports are reading commands
    state, message = current_state(paths) if refresh else (status.get("state", "unknown"), status.get("message"))
    history = read_history(paths.events) if history is None else history
    metrics = run_metrics(history)  # the same numbers and verdict as the app's runs table
    loss_best, knn_best = best_metrics(history)
    source = (cfg.get("linear_eval") or {}).get("source_run") or None
    return {
        "id": paths.run_id,
        "name": status.get("name"),
        "variant": cfg.get("variant"),
        "scale": cfg.get("scale"),
        "state": state,
        "message": message or None,
        "epoch": metrics.epoch or 0.0,
        "epochs": config_epochs(cfg),
        "step": metrics.step or 0,
        "loss_last": metrics.loss,
        "loss_best": loss_best,
        "z_std": metrics.z_std,
        "z_std_ref": metrics.z_std_ref,
        "z_std_ratio": metrics.z_std_ratio,
        "effective_rank": metrics.effective_rank,
        "knn_top1_last": metrics.knn_top1,
        "knn_top1_best": knn_best,
        "linear_top1_last": metrics.linear_top1,  # the online probe, or a linear-eval run's classifier
        "kind": "linear-eval" if source else "pretrain",
        "source_run": source,
        "group": cfg.get("group") or None,
        "seed": (cfg.get("train") or {}).get("seed"),
        "img_per_s": metrics.img_per_s,
        "verdict": metrics.verdict.label,
        "verdict_reason": metrics.verdict.reason,
        "host": status.get("host"),
        "pid": status.get("pid"),
        "gpus": status.get("gpus"),
        "dir": str(paths.dir),
    }
