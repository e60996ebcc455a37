"""The run folder's protocol in one place: event kinds and fields, run states, status fields (stdlib only).

Writers (the worker, the launcher) and readers (the app, the CLI) name these constants instead of
retyping strings; the TypedDicts say which fields each event kind and status.json carry.
"""

from __future__ import annotations

from typing import Literal, TypedDict

SCHEMA_VERSION = 1

# -- event kinds ---------------------------------------------------------------------------------
START, TRAIN, COLLAPSE, EVAL, SYSTEM, CHECKPOINT, END = "start", "train", "collapse", "eval", "system", "checkpoint", "end"
KINDS = (START, TRAIN, COLLAPSE, EVAL, SYSTEM, CHECKPOINT, END)

# -- run states (status.json "state", the end event's "state") ----------------------------------
QUEUED, STARTING, RUNNING = "queued", "starting", "running"
FINISHED, FAILED, STOPPED, DIVERGED, LOST = "finished", "failed", "stopped", "diverged", "lost"
STATES = (QUEUED, STARTING, RUNNING, FINISHED, FAILED, STOPPED, DIVERGED, LOST)
LIVE_STATES = (QUEUED, STARTING, RUNNING)  # the run may still write
WORKER_STATES = (STARTING, RUNNING)  # a worker process should exist
END_STATES = (FINISHED, FAILED, STOPPED, DIVERGED)  # what a worker's end event can say
TERMINAL_STATES = (*END_STATES, LOST)
RESUMABLE_STATES = (FAILED, STOPPED, LOST, DIVERGED)

State = Literal["queued", "starting", "running", "finished", "failed", "stopped", "diverged", "lost"]

# The signal that asks a Slurm job to checkpoint and requeue (time limit or preemption warning).
REQUEUE_SIGNAL = "SIGUSR1"


class Event(TypedDict):
    """The fields every event has."""

    v: int
    kind: str
    time: float  # unix seconds
    step: int  # global optimizer step
    epoch: float


class TrainEvent(Event, total=False):
    """`train`, every monitor.log_every steps."""

    loss: float | None  # None: not finite
    lr: float
    z_std: float  # mean per-dimension std of the l2-normalized projector output
    z_std_ref: float  # 1/sqrt(d)
    img_per_s: float
    data_wait: float  # fraction of step time spent waiting for data


class CollapseEvent(Event, total=False):
    """`collapse`: the spectrum summary of z."""

    std_quantiles: list[float]
    effective_rank: float


class EvalEvent(Event, total=False):
    """`eval`: kNN (and linear probe) top-1."""

    knn_top1: float
    linear_top1: float
    seconds: float


class EndEvent(Event, total=False):
    """`end`: how the run ended."""

    state: str  # one of END_STATES
    reason: str
    exit_code: int


class Status(TypedDict, total=False):
    """status.json, replaced whole and atomically."""

    state: str  # one of STATES
    pid: int | None
    pgid: int | None
    host: str
    gpus: str | None
    heartbeat: float
    slurm_job_id: str | None
    exit_code: int | None
    stop_signal: str | None  # the signal that stopped the worker (SIGTERM, SIGUSR1, SIGINT), else None
    message: str
    created: float
    ended: float
    name: str
    variant: str
