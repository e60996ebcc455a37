"""Create, list and resolve runs under a runs root."""

from __future__ import annotations

import dataclasses
import json
import socket
import time
from pathlib import Path
from typing import Any

from simsiam_tui.store.paths import RunPaths, StoreError, check_name, inside_root, new_run_id
from simsiam_tui.store.status import atomic_write_text, write_status


def create_run(root: str | Path, cfg: Any, name: str | None = None) -> RunPaths:
    """Make a new run directory holding config.json and a `queued` status.json.

    `cfg` is a RunConfig dataclass or its dict form; the run is named after `name`, else its variant.
    """
    root = Path(root)
    data = dataclasses.asdict(cfg) if dataclasses.is_dataclass(cfg) else dict(cfg)
    label = name or str(data.get("variant") or "run")
    root.mkdir(parents=True, exist_ok=True)
    paths = RunPaths(root / new_run_id(root, label))
    paths.dir.mkdir()
    paths.checkpoints.mkdir()
    atomic_write_text(paths.config, json.dumps(data, indent=1) + "\n")
    write_status(
        paths.status,
        {"state": "queued", "name": label, "variant": data.get("variant"), "created": time.time(), "host": socket.gethostname()},
    )
    return paths


def list_runs(root: str | Path) -> list[RunPaths]:
    """Every run directory under `root`, oldest first (ids sort by creation time)."""
    root = Path(root)
    if not root.is_dir():
        return []
    found = []
    for child in sorted(root.iterdir()):
        if child.is_dir() and not child.name.startswith(".") and (child / "config.json").exists():
            found.append(RunPaths(child))
    return found


def resolve_run(root: str | Path, ref: str) -> RunPaths:
    """A run by exact id, unique id prefix, or unique name; a clear error lists candidates otherwise."""
    root = Path(root)
    if "/" in ref or "\x00" in ref or ref in (".", ".."):
        raise StoreError(f"run id '{ref}' is not a run id (it would leave the runs folder '{root}')")
    runs = list_runs(root)
    ids = [r.run_id for r in runs]
    if ref in ids:
        paths = runs[ids.index(ref)]
        if not inside_root(root, paths.dir):
            raise StoreError(f"run '{ref}' points outside the runs folder '{root}'")
        return paths
    matches = [r for r in runs if r.run_id.startswith(ref)]
    if not matches:
        matches = [r for r in runs if f"-{ref}-" in r.run_id]
    if len(matches) == 1:
        return matches[0]
    if not matches:
        listed = ", ".join(ids[-8:]) or "none"
        raise StoreError(f"no run '{ref}' in '{root}'; runs there: {listed} (see `simsiam-tui runs ls`)")
    raise StoreError(f"run id '{ref}' is ambiguous in '{root}'; it matches: {', '.join(r.run_id for r in matches)}")


def resolve_runs(root: str | Path, refs: list[str]) -> list[RunPaths]:
    """Resolve several run references; an empty list means every run."""
    if not refs:
        return list_runs(root)
    return [resolve_run(root, ref) for ref in refs]


def read_config_dict(paths: RunPaths) -> dict[str, Any]:
    """The run's config.json as a dict, or {} when unreadable."""
    try:
        data = json.loads(paths.config.read_text())
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


__all__ = ["check_name", "create_run", "list_runs", "read_config_dict", "resolve_run", "resolve_runs"]
