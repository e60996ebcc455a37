"""run_worker(run_dir): status transitions, signals, start/end events and error reporting around the loop."""

from __future__ import annotations

import errno
import os
import platform
import signal
import socket
import sys
import threading
import time
import traceback
from pathlib import Path
from typing import Any

from simsiam_tui.train.errors import UserFacingError

EXIT_CODES = {"finished": 0, "stopped": 0, "failed": 1, "diverged": 3}
STOP_SIGNALS = ("SIGTERM", "SIGUSR1", "SIGINT")


def _versions() -> dict[str, str | None]:
    from importlib.metadata import PackageNotFoundError, version

    import torch

    out: dict[str, str | None] = {"python": platform.python_version(), "torch": torch.__version__}
    # from the package metadata: importing torchvision only for its version costs ~1.5 s of CPU per start
    for key, dist in (("torchvision", "torchvision"), ("simsiam_tui", "simsiam-tui")):
        try:
            out[key] = version(dist)
        except PackageNotFoundError:
            out[key] = None  # not installed (a source tree on PYTHONPATH): said, not skipped
    return out


def _load_config(paths: Any) -> Any:
    from simsiam_tui.config import ConfigError, parse_config_file
    from simsiam_tui.store.files import read_bytes

    if not paths.dir.is_dir():
        raise UserFacingError(f"run folder '{paths.dir}' does not exist; create a run with `simsiam-tui train --preset NAME`")
    if not paths.config.is_file():
        raise UserFacingError(f"'{paths.dir}' holds no run (no config.json); create one with `simsiam-tui train --preset NAME`")
    try:
        return parse_config_file(read_bytes(paths.config), paths.config)
    except OSError as err:  # UnsafeFile says which file and why (a FIFO, a link, too big)
        raise UserFacingError(f"cannot read the run's config: {err}") from None
    except ConfigError as err:
        raise UserFacingError(str(err)) from None


def _install_signals(stop: Any) -> dict[int, Any]:
    """Route stop signals to `stop.request`; a second SIGINT interrupts at once."""
    previous: dict[int, Any] = {}

    def handler(signum: int, _frame: Any) -> None:
        name = signal.Signals(signum).name
        if name == "SIGINT" and stop.requested:
            raise KeyboardInterrupt
        stop.request(name)

    for name in STOP_SIGNALS:
        sig = getattr(signal, name, None)
        if sig is not None:
            if threading.current_thread() is threading.main_thread():  # Python installs handlers there only
                previous[sig] = signal.signal(sig, handler)
    return previous


def _last_line(err: BaseException) -> str:
    lines = traceback.format_exception_only(type(err), err)
    return lines[-1].strip() if lines else type(err).__name__


def run_worker(run_dir: Path | str) -> int:
    """Start or resume the run in `run_dir`; return its exit code (0 finished/stopped, 1 failed, 3 diverged).

    A user error (bad run dir, missing data set) is recorded as `failed` and re-raised as
    UserFacingError so that the caller prints one line and exits 2.
    """
    from simsiam_tui.store import EventWriter, RunPaths, merge_status
    from simsiam_tui.store.runs import run_name

    paths = RunPaths(Path(run_dir))
    main = int(os.environ.get("RANK", "0")) == 0
    try:
        cfg = _load_config(paths)
    except UserFacingError as err:
        if main and paths.status.exists():
            merge_status(paths.status, {"state": "failed", "message": str(err), "exit_code": 2})
        raise
    # torch only now: a bad run folder or config is told without the seconds its import takes
    from simsiam_tui.train import dist
    from simsiam_tui.train.collapse_stop import CollapseGuard
    from simsiam_tui.train.linear_eval import LinearEval
    from simsiam_tui.train.loop import Outcome, StopFlag, Trainer, build_trainer
    from simsiam_tui.train.progress import LoggedEvents, ProgressLog
    from simsiam_tui.train.runtime import Heartbeat, StatusFile

    status = StatusFile(paths.status if main and paths.dir.is_dir() else None)
    from simsiam_tui.config import config_digest
    from simsiam_tui.probe import process_create_time

    if not status.whole:  # status.json unreadable: rebuild what it must hold, never a stub
        status.whole = {"name": run_name(paths.run_id) or paths.run_id, "variant": cfg.variant, "created": time.time()}
    status.update(
        state="starting", pid=os.getpid(), pgid=os.getpgrp(), host=socket.gethostname(),
        create_time=process_create_time(os.getpid()),
        gpus=os.environ.get("CUDA_VISIBLE_DEVICES"), slurm_job_id=os.environ.get("SLURM_JOB_ID"),
        heartbeat=time.time(), exit_code=None, stop_signal=None, message="",
    )
    writer = EventWriter(paths.events, cfg.monitor.flush_every_s) if main else None
    stop = StopFlag()
    guard = (CollapseGuard(stop, cfg.monitor.collapse_patience),) if cfg.monitor.on_collapse == "stop" else ()
    events = LoggedEvents(writer, ProgressLog(cfg.train.epochs, cfg.monitor.knn_every), guard)  # + a line per epoch
    previous = _install_signals(stop)
    trainer: Trainer | LinearEval | None = None
    heartbeat: Heartbeat | None = None
    outcome: Outcome
    try:
        paths.checkpoints.mkdir(exist_ok=True)  # never parents: a removed run is not recreated
        if paths.checkpoints.is_symlink():  # checkpoints are written inside the run folder, never through a link
            raise UserFacingError(f"{paths.checkpoints} is a symbolic link; checkpoints stay inside the run folder")
        # `eval linear` runs train a classifier on another run's frozen features
        if cfg.linear_eval.source_run:
            trainer = LinearEval(cfg, paths.checkpoint, events, stop)
        else:
            trainer = build_trainer(cfg, paths.checkpoint, events, stop)
        if trainer.world > 1:  # torchrun starts each rank in its own session: record them all for `stop --force`
            status.update(rank_pids=dist.all_pids(), agent_pid=os.getppid(), world_size=trainer.world)
        trainer.maybe_resume()
        if trainer.resume_note:  # last.pt was unusable: worker.log, the start event and status.json say so
            print(f"checkpoint: {trainer.resume_note}", file=sys.stderr, flush=True)
        had_events = paths.events.exists() and paths.events.stat().st_size > 0
        resumed = trainer.resumed_from if trainer.resumed_from is not None else (0 if had_events else None)
        import torch

        events.emit(
            "start", step=trainer.step, epoch=trainer.epoch_float, host=socket.gethostname(), pid=os.getpid(),
            device=str(trainer.device),
            devices=[torch.cuda.get_device_name(trainer.device)] if trainer.cuda else ["cpu"],
            world_size=trainer.world, rank=trainer.rank, versions=_versions(), config_digest=config_digest(cfg),
            resumed_from_step=resumed, steps_per_epoch=trainer.steps_per_epoch, total_steps=trainer.total_steps,
            train_images=len(trainer.train_src), variant=cfg.variant, scale=cfg.scale,
            threads=torch.get_num_threads(), num_classes=trainer.num_classes, seed=cfg.train.seed, group=cfg.group,
            resume_note=trainer.resume_note,
            **({"source_run": cfg.linear_eval.source_run} if cfg.linear_eval.source_run else {}),
        )
        events.flush()
        status.update(state="running", heartbeat=time.time(), message=trainer.resume_note or "")
        heartbeat = Heartbeat(events, status, cfg.monitor.system_every_s, trainer.position, stop)
        heartbeat.start()
        outcome = trainer.run()
    except UserFacingError as err:
        _finish(events, status, heartbeat, trainer, "failed", str(err), 2)
        _restore(previous)
        raise
    except BaseException as err:  # a crash: traceback to stderr (worker.log), last line to status
        traceback.print_exc(file=sys.stderr)
        sys.stderr.flush()
        reason = _last_line(err)
        if isinstance(err, OSError) and err.errno in (errno.ENOSPC, errno.EDQUOT):
            reason = f"disk full: no space left on device ({reason}); free some space, then `simsiam-tui runs resume`"
        if trainer is not None and trainer.world > 1 and _is_dist_error(err):
            reason = f"a DDP collective failed (another rank died, hung or was stopped; see worker.log): {reason}"
        _finish(events, status, heartbeat, trainer, "failed", reason, EXIT_CODES["failed"])
        _restore(previous)
        return EXIT_CODES["failed"]
    code = EXIT_CODES[outcome.state]
    _finish(events, status, heartbeat, trainer, outcome.state, outcome.reason, code, outcome.stop_signal)
    _restore(previous)
    dist.shutdown()
    return code


def _is_dist_error(err: BaseException) -> bool:
    """True for errors of a collective (a peer rank gone, a process-group timeout)."""
    import torch.distributed as torch_dist

    text = str(err).lower()
    return isinstance(err, torch_dist.DistError) or any(w in text for w in ("gloo", "nccl", "timed out", "peer"))


def _finish(
    events: Any, status: Any, heartbeat: Any, trainer: Any, state: str, reason: str, code: int, stop_signal: str | None = None
) -> None:
    """Stop the heartbeat, write the `end` event and the terminal status."""
    if heartbeat is not None:
        heartbeat.stop()
    step, epoch = trainer.position() if trainer is not None else (0, 0.0)
    try:
        events.emit("end", step=step, epoch=epoch, state=state, reason=reason, exit_code=code)
        events.close()
    except OSError as exc:  # a full disk: the end still goes to status.json and worker.log
        print(f"cannot write the end event: {exc}", file=sys.stderr, flush=True)
    try:
        status.update(
            state=state, message=reason, exit_code=code, stop_signal=stop_signal, heartbeat=time.time(),
            ended=time.time(),
        )
    except OSError as exc:
        print(f"cannot write status.json ({state}: {reason}): {exc}", file=sys.stderr, flush=True)
    if status.gone:
        print(f"run folder removed while the worker ran; ended {state}: {reason}", file=sys.stderr, flush=True)


def _restore(previous: dict[int, Any]) -> None:
    for sig, handler in previous.items():
        if handler is not None:  # None: a handler not installed from Python, which cannot be put back
            signal.signal(sig, handler)
