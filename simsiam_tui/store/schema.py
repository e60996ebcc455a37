"""The run folder's protocol in one place: event kinds, run states and a typed msgspec Struct for every file.

Writers (the worker, the launcher) encode these Structs' fields and readers (the app, the CLI, the
launcher) decode with them: decoding is validation. A file of the wrong shape, type, range or depth
fails to decode and is reported as corrupt in one line (store.protocol), never read as a dict of guesses.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal, Union

import msgspec

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
CORRUPT = "corrupt"  # a reader's verdict on a run whose status.json does not decode; never written

State = Literal["queued", "starting", "running", "finished", "failed", "stopped", "diverged", "lost"]

# The signal that asks a Slurm job to checkpoint and requeue (time limit or preemption warning).
REQUEUE_SIGNAL = "SIGUSR1"

UNSET = msgspec.UNSET
Unset = msgspec.UnsetType
# Ranges that no honest writer leaves: a time before 1970 or after the year 5000 would overflow the
# date formatting of every reader; a pid or step past int64 would overflow a float column.
Time = Annotated[float, msgspec.Meta(ge=0, le=1e11)]
Pid = Annotated[int, msgspec.Meta(ge=0, le=2**31)]
Count = Annotated[int, msgspec.Meta(ge=0, le=2**62)]
Small = Annotated[int, msgspec.Meta(ge=0, le=1 << 20)]
Code = Annotated[int, msgspec.Meta(ge=-(2**31), le=2**31)]
Num = Union[float, None, Unset]  # noqa: UP007 (msgspec reads the annotations at runtime)


# -- events.jsonl --------------------------------------------------------------------------------
class EventBase(msgspec.Struct, tag_field="kind", forbid_unknown_fields=True, gc=False):
    """The fields every event has; a field outside a kind's list sends the line to the reader's dict path."""

    time: Union[float, Unset] = UNSET  # noqa: UP007 (a line without one is read, its value NaN)
    step: Union[Annotated[int, msgspec.Meta(ge=-(2**62), le=2**62)], Unset] = UNSET  # noqa: UP007
    epoch: Union[float, Unset] = UNSET  # noqa: UP007
    v: Union[int, Unset] = UNSET  # noqa: UP007


class StartEvent(EventBase, tag="start"):
    """`start`: who runs it and from where (the other fields, host, versions and devices, are free-form)."""

    resumed_from_step: Union[int, None, Unset] = UNSET  # noqa: UP007
    num_classes: Union[int, None, Unset] = UNSET  # noqa: UP007
    world_size: Union[int, None, Unset] = UNSET  # noqa: UP007
    pid: Union[int, None, Unset] = UNSET  # noqa: UP007


METHOD_SCALARS = ("ema_momentum", "bank_staleness")  # train fields only some methods write (BYOL/MoCo, InstDisc)


class TrainEvent(EventBase, tag="train"):
    """`train`: loss, lr, z_std and its reference, throughput, data wait, and the methods' extra scalars."""

    loss: Num = UNSET
    lr: Num = UNSET
    z_std: Num = UNSET
    z_std_ref: Num = UNSET
    img_per_s: Num = UNSET
    data_wait: Num = UNSET
    ema_momentum: Num = UNSET
    bank_staleness: Num = UNSET


class CollapseEvent(EventBase, tag="collapse"):
    """`collapse`: per-dimension std quantiles (not a column) and the effective rank."""

    std_quantiles: Union[list[Union[float, None]], None, Unset] = UNSET  # noqa: UP007
    effective_rank: Num = UNSET
    dim: Union[int, None, Unset] = UNSET  # noqa: UP007


class EvalEvent(EventBase, tag="eval"):
    """`eval`: kNN and linear-probe top-1, k, seconds."""

    knn_top1: Num = UNSET
    knn_k: Num = UNSET
    linear_top1: Num = UNSET
    seconds: Num = UNSET


class SystemEvent(EventBase, tag="system"):
    """`system`: the worker's own GPU and host figures (so a watcher without GPUs sees them)."""

    cpu_pct: Num = UNSET
    rss_mb: Num = UNSET
    mem_used_mb: Num = UNSET
    mem_total_mb: Num = UNSET
    gpu_util_pct: Num = UNSET
    gpu_mem_used_mb: Num = UNSET
    gpu_mem_total_mb: Num = UNSET


class CheckpointEvent(EventBase, tag="checkpoint"):
    """`checkpoint`: file name, why, seconds."""

    path: Union[str, Unset] = UNSET  # noqa: UP007
    reason: Union[str, Unset] = UNSET  # noqa: UP007
    seconds: Num = UNSET


class EndEvent(EventBase, tag="end"):
    """`end`: how the run ended."""

    state: Union[str, Unset] = UNSET  # noqa: UP007 (one of END_STATES)
    reason: Union[str, None, Unset] = UNSET  # noqa: UP007
    exit_code: Union[int, None, Unset] = UNSET  # noqa: UP007


EVENT_STRUCTS: dict[str, type[EventBase]] = {
    s.__struct_config__.tag: s  # type: ignore[misc]
    for s in (StartEvent, TrainEvent, CollapseEvent, EvalEvent, SystemEvent, CheckpointEvent, EndEvent)
}


# -- status.json ---------------------------------------------------------------------------------
class RequestRecord(msgspec.Struct, forbid_unknown_fields=False):
    """What a queued run asked the launcher for (launch.slots.Request), with the launch limits as ranges."""

    gpus: list[Annotated[int, msgspec.Meta(ge=0, le=1023)]] = []
    per_gpu: Union[Annotated[int, msgspec.Meta(ge=1, le=64)], None] = None  # noqa: UP007
    threads: Union[Annotated[int, msgspec.Meta(ge=1, le=1024)], None] = None  # noqa: UP007
    gpus_per_run: Annotated[int, msgspec.Meta(ge=1, le=64)] = 1


class ProcRecord(msgspec.Struct, forbid_unknown_fields=False):
    """The launcher's record of the process it started: pid and create time (pid-reuse safe liveness)."""

    pid: Union[Pid, None] = None  # noqa: UP007
    create_time: Union[Time, None] = None  # noqa: UP007


class Status(msgspec.Struct, forbid_unknown_fields=False, omit_defaults=True):
    """status.json, replaced whole and atomically; every field optional (UNSET: the file does not have it)."""

    state: Union[State, Unset] = UNSET  # noqa: UP007
    name: Union[str, None, Unset] = UNSET  # noqa: UP007
    variant: Union[str, None, Unset] = UNSET  # noqa: UP007
    message: Union[str, None, Unset] = UNSET  # noqa: UP007
    host: Union[str, None, Unset] = UNSET  # noqa: UP007
    pid: Union[Pid, None, Unset] = UNSET  # noqa: UP007
    pgid: Union[Pid, None, Unset] = UNSET  # noqa: UP007
    create_time: Union[Time, None, Unset] = UNSET  # noqa: UP007
    proc: Union[ProcRecord, None, Unset] = UNSET  # noqa: UP007
    rank_pids: Union[list[Pid], None, Unset] = UNSET  # noqa: UP007
    agent_pid: Union[Pid, None, Unset] = UNSET  # noqa: UP007
    world_size: Union[Small, None, Unset] = UNSET  # noqa: UP007
    gpus: Union[str, list[Small], None, Unset] = UNSET  # noqa: UP007 (the launcher's list, the worker's CUDA_VISIBLE_DEVICES)
    slot: Union[Small, list[Small], None, Unset] = UNSET  # noqa: UP007
    request: Union[RequestRecord, None, Unset] = UNSET  # noqa: UP007
    slurm_job_id: Union[str, Count, None, Unset] = UNSET  # noqa: UP007
    exit_code: Union[Code, None, Unset] = UNSET  # noqa: UP007
    stop_signal: Union[str, None, Unset] = UNSET  # noqa: UP007
    stop_requested: Union[Time, None, Unset] = UNSET  # noqa: UP007
    source_run: Union[str, None, Unset] = UNSET  # noqa: UP007
    created: Union[Time, None, Unset] = UNSET  # noqa: UP007
    queued_at: Union[Time, None, Unset] = UNSET  # noqa: UP007
    launched: Union[Time, None, Unset] = UNSET  # noqa: UP007
    resumed: Union[Time, None, Unset] = UNSET  # noqa: UP007
    heartbeat: Union[Time, None, Unset] = UNSET  # noqa: UP007
    ended: Union[Time, None, Unset] = UNSET  # noqa: UP007


# -- config.json (what readers use of it; the worker validates the whole file with the config layer) --
class TrainSection(msgspec.Struct, forbid_unknown_fields=False):
    """config.json's `train` section, as far as readers read it."""

    epochs: Union[Annotated[int, msgspec.Meta(ge=0, le=10**6)], Unset] = UNSET  # noqa: UP007
    seed: Union[Annotated[int, msgspec.Meta(ge=-(2**62), le=2**62)], Unset] = UNSET  # noqa: UP007


class LinearEvalSection(msgspec.Struct, forbid_unknown_fields=False):
    """config.json's `linear_eval` section: which run's features a linear evaluation froze."""

    source_run: Union[str, None, Unset] = UNSET  # noqa: UP007
    epochs: Union[Annotated[int, msgspec.Meta(ge=0, le=10**6)], None, Unset] = UNSET  # noqa: UP007


class ConfigFile(msgspec.Struct, forbid_unknown_fields=False):
    """config.json: the resolved RunConfig; every section an object, the fields readers use typed."""

    variant: Union[str, None, Unset] = UNSET  # noqa: UP007
    scale: Union[str, None, Unset] = UNSET  # noqa: UP007
    group: Union[str, None, Unset] = UNSET  # noqa: UP007
    train: Union[TrainSection, Unset] = UNSET  # noqa: UP007
    linear_eval: Union[LinearEvalSection, None, Unset] = UNSET  # noqa: UP007
    method: Union[dict[str, Any], Unset] = UNSET  # noqa: UP007
    model: Union[dict[str, Any], Unset] = UNSET  # noqa: UP007
    data: Union[dict[str, Any], Unset] = UNSET  # noqa: UP007
    optim: Union[dict[str, Any], Unset] = UNSET  # noqa: UP007
    monitor: Union[dict[str, Any], Unset] = UNSET  # noqa: UP007
