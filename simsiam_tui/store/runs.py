"""Create, list and resolve runs under a runs root."""

from __future__ import annotations

import dataclasses
import json
import os
import socket
import time
from pathlib import Path
from typing import Any

import msgspec

from simsiam_tui.store.files import atomic_write_text, read_bytes
from simsiam_tui.store.paths import RunPaths, StoreError, check_name, inside_root, new_run_id
from simsiam_tui.store.schema import ConfigFile
from simsiam_tui.store.status import decode_problem, write_status

CONFIG_CAP = 4 << 20  # a resolved config is a few KB
_CONFIG_DECODER = msgspec.json.Decoder(ConfigFile)


def create_run(root: str | Path, cfg: Any, name: str | None = None) -> RunPaths:
    """Make a new run directory holding config.json and a `queued` status.json.

    `cfg` is a RunConfig (its `to_dict()` is what config.json holds) or its dict form; the run is named after
    `name`, else its variant.
    """
    root = Path(root)
    if hasattr(cfg, "to_dict"):  # a RunConfig: its methods' sections written as method.<name>
        data = cfg.to_dict()
    else:
        data = dataclasses.asdict(cfg) if dataclasses.is_dataclass(cfg) and not isinstance(cfg, type) else dict(cfg)
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


def contained(root: Path, child: Path) -> bool:
    """The one containment check for a run folder: a real folder (no symlink) under `root`, resolving inside it."""
    return not child.is_symlink() and child.is_dir() and inside_root(root, child)


def _children(root: Path) -> list[Path]:
    if not root.is_dir():
        return []
    return [c for c in sorted(root.iterdir()) if not c.name.startswith(".")]


def list_runs(root: str | Path) -> list[RunPaths]:
    """Every run folder under `root`, oldest first (ids sort by creation time); symlinked folders are left out."""
    root = Path(root)
    return [RunPaths(c) for c in _children(root) if contained(root, c) and (c / "config.json").exists()]


def linked_runs(root: str | Path) -> list[tuple[str, str]]:
    """(name, target) of each symlink under `root`: listed as such, never resolved, refreshed or written through."""
    out = []
    for child in _children(Path(root)):
        if child.is_symlink():
            try:
                out.append((child.name, os.readlink(child)))
            except OSError as exc:
                out.append((child.name, f"unreadable link: {exc.strerror}"))
    return out


def run_name(run_id: str) -> str:
    """The name inside a run id <yyyymmdd>-<hhmmss>-<name>-<hex> ("" for an id of another form)."""
    parts = run_id.split("-", 2)
    return parts[2].rsplit("-", 1)[0] if len(parts) == 3 and "-" in parts[2] else ""


def run_handle(run_id: str) -> str:
    """The short handle the app shows for a run, `<name>-<hex>` (the id itself for an id of another form)."""
    name = run_name(run_id)
    return f"{name}-{run_id.rsplit('-', 1)[-1]}" if name else run_id


def resolve_run(root: str | Path, ref: str) -> RunPaths:
    """A run by exact id, unique id prefix, or unique name; a clear error lists candidates otherwise.

    Every way of naming a run goes through the same containment check: a symlinked run folder, or one that
    resolves outside the runs root, is refused.
    """
    root = Path(root)
    if not ref.strip():
        raise StoreError(f"an empty run reference names no run in '{root}'; give a run id or name (see `simsiam-tui runs ls`)")
    if "/" in ref or "\x00" in ref or ref in (".", ".."):
        raise StoreError(f"run id '{ref}' is not a run id (it would leave the runs folder '{root}')")
    runs = list_runs(root)
    ids = [r.run_id for r in runs]
    if ref in ids:
        matches = [runs[ids.index(ref)]]
    else:
        # an id prefix, else a name (`-simsiam-` inside the id) or the app's handle `simsiam-126a` (the id's tail)
        matches = [r for r in runs if r.run_id.startswith(ref)] or [
            r for r in runs if f"-{ref}-" in r.run_id or r.run_id.endswith(f"-{ref}")
        ]
        # A name is exact over a longer one that contains it: `simsiam-s0` is not its `simsiam-s0-linear`.
        exact = [r for r in matches if run_name(r.run_id) == ref]
        matches = exact or matches
    if not matches:
        links = [(name, target) for name, target in linked_runs(root) if name == ref or name.startswith(ref) or f"-{ref}-" in name]
        if links:
            name, target = links[0]
            raise StoreError(
                f"run '{name}' in '{root}' is a symbolic link to '{target}'; linked runs are not managed here "
                "(watch their own runs folder with `simsiam-tui watch DIR`)"
            )
        listed = ", ".join(ids[-8:]) or "none"
        raise StoreError(f"no run '{ref}' in '{root}'; runs there: {listed} (see `simsiam-tui runs ls`)")
    if len(matches) > 1:
        listed = ", ".join(f"{run_handle(r.run_id)} ({r.run_id})" for r in matches[:12])
        raise StoreError(f"run '{ref}' is ambiguous in '{root}'; name one of: {listed}")
    if not contained(root, matches[0].dir):  # checked again on the one result, whichever way it was found
        raise StoreError(f"run '{ref}' points outside the runs folder '{root}'")
    return matches[0]


def resolve_runs(root: str | Path, refs: list[str]) -> list[RunPaths]:
    """Resolve several run references; an empty list means every run."""
    if not refs:
        return list_runs(root)
    return [resolve_run(root, ref) for ref in refs]


def load_config(paths: RunPaths) -> tuple[dict[str, Any] | None, str | None]:
    """(config, problem): config.json as a dict once it decodes as the protocol's ConfigFile, else None and why.

    Missing is (None, None). The ConfigFile decode checks every section is an object and the fields
    readers use have their types; only then is the same text read as a dict for display.
    """
    try:
        data = read_bytes(paths.config, CONFIG_CAP)
    except FileNotFoundError:
        return None, None
    except OSError as exc:
        return None, f"config.json: {getattr(exc, 'why', None) or exc.strerror or exc}"
    try:
        _CONFIG_DECODER.decode(data)
        config = msgspec.json.decode(data, type=dict[str, Any])
    except (msgspec.DecodeError, msgspec.ValidationError, RecursionError) as exc:
        return None, f"config.json: {decode_problem(exc)}"
    return config, None


def read_config_dict(paths: RunPaths) -> dict[str, Any]:
    """The run's config.json as a dict (validated by load_config), or {} when missing, unreadable or corrupt."""
    return load_config(paths)[0] or {}


__all__ = ["check_name", "contained", "create_run", "linked_runs", "list_runs", "load_config", "read_config_dict", "resolve_run", "resolve_runs", "run_handle", "run_name"]
