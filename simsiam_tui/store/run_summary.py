"""One run's summary, built once from its folder's files: the CLI prints it (`runs ls/show/compare`, `--json`) and
the app's runs table, details panel and charts show it. Only the caller's idea of the state differs (the CLI
asks the launcher whether a worker is alive; the app overlays what it expects after an action)."""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass
from typing import Any

from simsiam_tui.store.reader import RunHistory
from simsiam_tui.store.schema import LIVE_STATES
from simsiam_tui.store.summary import best_metrics, config_epochs, run_metrics
from simsiam_tui.store.text import printable
from simsiam_tui.store.verdict import Verdict

_TEXT_FIELDS = ("run_id", "root", "name", "variant", "scale", "state", "problem", "message", "gpus", "host")


@dataclass(frozen=True)
class RunSummary:
    """What a run is and how far it got: progress, the latest metrics, the verdict, where it runs."""

    key: str  # the caller's identity of the run (the app: root and id; the CLI: its folder)
    run_id: str
    root: str
    dir: str
    name: str  # the run's name, else its variant, else its id
    variant: str
    scale: str
    kind: str  # `pretrain`, or `linear-eval` for a linear evaluation of `source_run`
    source_run: str | None
    group: str | None  # replicas of one --seeds launch share it
    seed: int | None
    state: str
    problem: str | None  # why a file of the run does not read (the run shows `corrupt`)
    message: str | None  # the worker's or launcher's last word in status.json
    epoch: float | None
    epochs: int | None  # what `epoch` reads against: train.epochs, or a linear evaluation's own
    step: int | None
    total_steps: float | None
    loss: float | None
    loss_best: float | None  # best values read every row: only when asked (the CLI), never in the live app
    z_std: float | None
    z_std_ref: float | None
    z_ratio: float | None
    effective_rank: float | None
    knn: float | None
    knn_best: float | None
    linear_top1: float | None  # the online probe, or a linear evaluation's classifier
    img_per_s: float | None
    gpus: str
    host: str
    pid: int | None
    created: float | None  # when the run folder was made (status.json)
    started: float | None
    last_time: float | None
    ended: bool
    eta_s: float | None
    verdict: Verdict
    loading: bool = False  # the app has not read the whole history yet

    @property
    def live(self) -> bool:
        return self.state in LIVE_STATES

    def elapsed(self, now: float | None = None) -> float | None:
        """Seconds from the first start to the last event (finished runs) or to now (live runs)."""
        if self.started is None:
            return None
        if self.live and not self.ended and self.state == "running":
            return max(0.0, (now if now is not None else time.time()) - self.started)
        end = self.last_time if self.last_time is not None else self.started
        return max(0.0, end - self.started)

    def escaped(self) -> RunSummary:
        """The same summary with every text from the run folder's files shown safely on a terminal."""
        changes: dict[str, Any] = {
            name: printable(value) for name in _TEXT_FIELDS if (value := getattr(self, name)) is not None
        }
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        """The CLI's JSON record of a run (`runs show --json`, `runs compare --json`)."""
        return {
            "id": self.run_id,
            "name": self.name,
            "variant": self.variant or None,
            "scale": self.scale or None,
            "state": self.state,
            "message": self.message or self.problem or None,
            "epoch": self.epoch or 0.0,
            "epochs": self.epochs,
            "step": self.step or 0,
            "loss_last": self.loss,
            "loss_best": self.loss_best,
            "z_std": self.z_std,
            "z_std_ref": self.z_std_ref,
            "z_std_ratio": self.z_ratio,
            "effective_rank": self.effective_rank,
            "knn_top1_last": self.knn,
            "knn_top1_best": self.knn_best,
            "linear_top1_last": self.linear_top1,
            "kind": self.kind,
            "source_run": self.source_run,
            "group": self.group,
            "seed": self.seed,
            "img_per_s": self.img_per_s,
            "verdict": self.verdict.label,
            "verdict_reason": self.verdict.reason,
            "host": self.host or None,
            "pid": self.pid,
            "gpus": self.gpus or None,
            "dir": self.dir,
        }


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def _integer(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def summarize(
    *,
    key: str,
    run_id: str,
    root: str,
    dir: str,
    config: dict[str, Any],
    status: dict[str, Any],
    history: RunHistory,
    state: str,
    problem: str | None = None,
    message: str | None = None,
    best: bool = False,
    loading: bool = False,
) -> RunSummary:
    """A run's summary from its validated config and status dicts, its event history and the caller's state."""
    metrics = run_metrics(history)  # one rule for the numbers and the verdict, everywhere
    loss_best, knn_best = best_metrics(history) if best else (None, None)
    starts = history.starts
    last_start = starts[-1] if starts else {}
    stamps = [s.last("time") for s in history.series.values()]
    stamps += [e.get("time") for e in (history.end, *history.checkpoints[-1:]) if e]
    last_time = max((t for t in stamps if isinstance(t, (int, float))), default=None)
    epochs = config_epochs(config)
    gpus: Any = status.get("gpus")
    if isinstance(gpus, (list, tuple)):
        gpus = ",".join(str(g) for g in gpus)
    devices = last_start.get("devices") if isinstance(last_start.get("devices"), list) else None
    if not gpus:
        gpus = "cpu" if devices == ["cpu"] or last_start.get("device") == "cpu" else ""
    source = (config.get("linear_eval") or {}).get("source_run") or None
    variant = str(config.get("variant") or status.get("variant") or "")
    return RunSummary(
        key=key,
        run_id=run_id,
        root=root,
        dir=dir,
        name=str(status.get("name") or variant or run_id),
        variant=variant,
        scale=str(config.get("scale") or ""),
        kind="linear-eval" if source else "pretrain",
        source_run=str(source) if source else None,
        group=str(config.get("group")) if config.get("group") else None,
        seed=_integer((config.get("train") or {}).get("seed")),
        state=state,
        problem=problem,
        message=message,
        epoch=metrics.epoch,
        epochs=epochs,
        step=metrics.step,
        total_steps=_number(last_start.get("total_steps")),
        loss=metrics.loss,
        loss_best=loss_best,
        z_std=metrics.z_std,
        z_std_ref=metrics.z_std_ref,
        z_ratio=metrics.z_std_ratio,
        effective_rank=metrics.effective_rank,
        knn=metrics.knn_top1,
        knn_best=knn_best,
        linear_top1=metrics.linear_top1,
        img_per_s=metrics.img_per_s,
        gpus=str(gpus or ""),
        host=str(status.get("host") or last_start.get("host") or ""),
        pid=_integer(status.get("pid")),
        created=status.get("created") if _number(status.get("created")) is not None else None,
        started=_number(starts[0].get("time")) if starts else None,
        last_time=last_time,
        ended=history.end is not None,
        eta_s=_eta(history, metrics.epoch, epochs, state),
        verdict=metrics.verdict,
        loading=loading,
    )


def _eta(history: RunHistory, epoch: float | None, epochs: int | None, state: str) -> float | None:
    """Seconds left at the pace since the latest start; None for a run that is not live."""
    if state not in LIVE_STATES or epoch is None or epochs is None or not history.starts:
        return None
    start = history.starts[-1]
    t0, e0 = start.get("time"), start.get("epoch", 0.0)
    t1 = history.series["train"].last("time")
    if not isinstance(t0, (int, float)) or not isinstance(e0, (int, float)) or t1 is None or epoch <= e0:
        return None
    rate = (epoch - e0) / max(t1 - t0, 1e-9)
    return max(0.0, (epochs - epoch) / rate)
