"""Run directory layout, safe run ids, and the runs root."""

from __future__ import annotations

import os
import re
import secrets
import time
from dataclasses import dataclass
from pathlib import Path

RUNS_ENV = "SIMSIAM_TUI_RUNS"
_SAFE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")


class StoreError(ValueError):
    """A user-facing store error (bad run name, missing run, bad runs root); one line."""


@dataclass(frozen=True)
class RunPaths:
    """Where each file of one run lives."""

    dir: Path

    @property
    def run_id(self) -> str:
        return self.dir.name

    @property
    def config(self) -> Path:
        return self.dir / "config.json"

    @property
    def events(self) -> Path:
        return self.dir / "events.jsonl"

    @property
    def status(self) -> Path:
        return self.dir / "status.json"

    @property
    def log(self) -> Path:
        return self.dir / "worker.log"

    @property
    def checkpoints(self) -> Path:
        return self.dir / "checkpoints"

    @property
    def checkpoint(self) -> Path:
        return self.checkpoints / "last.pt"


def runs_root(cli_value: str | Path | None = None, must_exist: bool = False) -> Path:
    """The runs root as an absolute path: `--runs DIR`, else $SIMSIAM_TUI_RUNS, else ./runs.

    Resolved here, once, against the current directory (and `~`): workers, the queue runner and
    Slurm jobs start in other directories, so nothing written down may hold a relative path.
    """
    root = resolve_path(cli_value or os.environ.get(RUNS_ENV) or "runs")
    if root.exists() and not root.is_dir():
        raise StoreError(f"runs folder '{root}' is a file, not a folder; pass a folder with --runs DIR")
    for parent in root.absolute().parents:  # the first existing folder above it must be a folder
        if parent.exists():
            if not parent.is_dir():
                raise StoreError(f"runs folder '{root}' is below '{parent}', which is a file; pass a folder with --runs DIR")
            break
    if must_exist and not root.is_dir():
        raise StoreError(
            f"runs folder '{root}' does not exist: no runs there; pass an existing folder with --runs DIR "
            f"or set ${RUNS_ENV}, or launch runs here first (`simsiam-tui demo`)"
        )
    return root


def resolve_path(value: str | Path) -> Path:
    """A user-given path as an absolute one: `~` expanded, relative to the current directory, symlinks resolved."""
    return Path(value).expanduser().resolve()


def check_name(name: str) -> str:
    """Accept a user run name only if it is one plain path component (no '..', '/', NUL, absolute path)."""
    if "\x00" in name:
        raise StoreError("run name contains a NUL byte; use letters, digits, '.', '_' and '-'")
    if os.sep in name or "/" in name or (os.altsep and os.altsep in name) or name in (".", ".."):
        raise StoreError(f"run name '{name}' would leave the runs folder; use letters, digits, '.', '_' and '-'")
    if not _SAFE_NAME.match(name):
        raise StoreError(
            f"run name '{name}' is not allowed; use 1-64 letters, digits, '.', '_' and '-', starting with a letter or digit"
        )
    return name


def new_run_id(root: Path, name: str) -> str:
    """A unique, sortable id: <yyyymmdd-hhmmss>-<name>-<4 hex>."""
    check_name(name)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    while True:
        run_id = f"{stamp}-{name}-{secrets.token_hex(2)}"
        if not (root / run_id).exists():
            return run_id


def inside_root(root: Path, path: Path) -> bool:
    """True when `path` resolves to a place under `root`."""
    try:
        path.resolve().relative_to(root.resolve())
    except ValueError:
        return False
    return True
