"""`eval linear RUN`: a linear-evaluation run of its own on RUN's frozen checkpoint, queued like any run."""

from __future__ import annotations

import copy
import json
import os
import shutil
import time
from pathlib import Path
from typing import Any

from simsiam_tui.config import config_from_dict, config_to_dict, parse_override
from simsiam_tui.config.linear_protocol import linear_protocol
from simsiam_tui.launch.actor import acting_on
from simsiam_tui.launch.errors import LaunchError
from simsiam_tui.launch.scheduler import root_lock, submit
from simsiam_tui.launch.slots import make_request
from simsiam_tui.launch.state import refresh_state
from simsiam_tui.store import RunPaths, create_run, read_config_dict, read_status, update_status
from simsiam_tui.store.files import NEW_FILE_MODE, atomic_write_text, open_fd

FROZEN = "frozen/source.pt"
FIXED_KEYS = ("source_run", "source_dir", "checkpoint")  # written by `eval linear`, never by --set  # inside the eval run's folder: the source checkpoint as it was at `eval linear`


def check_source(source: RunPaths) -> dict[str, Any]:
    """The source run's config, or a LaunchError saying in one line why it cannot be evaluated."""
    cfg = read_config_dict(source)
    if not cfg:
        raise LaunchError(f"run {source.run_id} has no readable config.json")
    of = (cfg.get("linear_eval") or {}).get("source_run")
    if of:
        raise LaunchError(f"run {source.run_id} is itself a linear evaluation (of {of}); evaluate {of} instead")
    state = refresh_state(source)
    if state == "queued":
        raise LaunchError(f"run {source.run_id} is queued and has trained nothing yet; evaluate it once it has a checkpoint")
    if not source.checkpoint.is_file():
        raise LaunchError(
            f"run {source.run_id} ({state}) has no checkpoint ({source.checkpoint}) to freeze; "
            "it writes one at the end of each epoch"
        )
    return cfg


def _freeze(checkpoint: Path, target: Path) -> None:
    """Keep the checkpoint as it is now: a hard link (last.pt is replaced, never rewritten, so it stays), or a copy.

    Only a regular file is frozen (the store's opener): a planted link or FIFO as last.pt is refused.
    """
    try:
        fd = open_fd(checkpoint)
    except OSError as exc:
        raise LaunchError(f"cannot freeze checkpoint '{checkpoint}': {getattr(exc, 'why', None) or exc.strerror}") from None
    with os.fdopen(fd, "rb") as src:
        target.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.link(checkpoint, target, follow_symlinks=False)
        except OSError:
            out = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, NEW_FILE_MODE)
            with os.fdopen(out, "wb") as dst:
                shutil.copyfileobj(src, dst, 1 << 20)


def create_linear_eval(
    source: RunPaths,
    root: Path,
    epochs: int | None = None,
    overrides: list[str] | None = None,
    gpus: list[int] | None = None,
    per_gpu: int | None = None,
) -> RunPaths:
    """Create and queue `<source name>-linear`: the source's config, a `linear_eval` section, its frozen checkpoint.

    overrides: `linear_eval.KEY=VALUE` strings (e.g. the official ImageNet code's lr, linear_eval.lr=1.6).
    gpus, per_gpu: where it may run and how many evaluations share a GPU (or run at once on the CPU), as `launch`.
    """
    if epochs is not None and epochs < 1:
        raise LaunchError(f"--epochs {epochs} must be at least 1")
    parsed = [parse_override(text) for text in overrides or []]
    for key, _ in parsed:
        if not key.startswith("linear_eval.") or key.split(".", 1)[1] in FIXED_KEYS:
            raise LaunchError(f"--set {key}: eval linear takes linear_eval.* protocol keys only")
    with acting_on(source):  # the source is not removed or resumed while its checkpoint is read and frozen
        return _create(source, root, epochs, parsed, gpus, per_gpu)


def _create(
    source: RunPaths, root: Path, epochs: int | None, parsed: list[tuple[str, Any]], gpus: list[int] | None, per_gpu: int | None
) -> RunPaths:
    """create_linear_eval under the source's actor lock."""
    src_cfg = check_source(source)
    data = copy.deepcopy(src_cfg)
    protocol = linear_protocol(str((data.get("data") or {}).get("name")), epochs)
    data["linear_eval"] = {**protocol, "source_run": source.run_id, "source_dir": str(source.dir.resolve())}
    for key, value in parsed:
        data["linear_eval"][key.split(".", 1)[1]] = value
    data["group"] = ""
    data.setdefault("train", {})["epochs"] = data["linear_eval"]["epochs"]  # the classifier's, --set included
    data["description"] = f"linear evaluation of {source.run_id} ({protocol['protocol']} protocol)"
    cfg = config_from_dict(data, " (linear evaluation config)")  # validated before anything is written
    request = make_request(gpus, per_gpu, cfg.train.device)
    label = f"{(read_status(source.status) or {}).get('name') or cfg.variant}-linear"
    with root_lock(root):  # created, frozen and queued before any scheduling pass sees it
        paths = create_run(root, cfg, label)
        frozen = paths.dir / FROZEN
        _freeze(source.checkpoint, frozen)
        cfg.linear_eval.checkpoint = str(frozen.resolve())
        atomic_write_text(paths.config, json.dumps(config_to_dict(cfg), indent=1) + "\n")
        update_status(paths.status, request=request.to_dict(), queued_at=time.time(), source_run=source.run_id)
    submit(root)
    return paths
