"""Symlinks: one containment check for every way of naming a run; linked run folders are listed, never written through."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from simsiam_tui.launch.scheduler import schedule
from simsiam_tui.store import EventWriter, StoreError, list_runs, resolve_run, update_status

from .conftest import cli_env, one_line_error, run_cli, stopped_run


@pytest.fixture
def linked(root: Path, tmp_path: Path) -> tuple[Path, Path]:
    """(link, outside): a resumable run folder outside the root, symlinked into it under its own id."""
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    outside = stopped_run(elsewhere, "outsider").dir
    link = root / outside.name
    link.symlink_to(outside, target_is_directory=True)
    return link, outside


def _snapshot(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir()) if p.is_file()}


@pytest.mark.parametrize("ref", ["exact", "prefix", "name"])
def test_every_way_of_naming_a_linked_run_is_refused(root: Path, linked: tuple[Path, Path], ref: str) -> None:
    link, _ = linked
    text = {"exact": link.name, "prefix": link.name[:20], "name": "outsider"}[ref]
    with pytest.raises(StoreError, match="symbolic link"):
        resolve_run(root, text)


@pytest.mark.parametrize("command", [["resume", "REF", "--wait", "0"], ["rm", "REF"], ["stop", "REF", "--force"]])
def test_commands_never_write_through_a_linked_run(root: Path, linked: tuple[Path, Path], command: list[str]) -> None:
    link, outside = linked
    before = _snapshot(outside)
    args = [link.name[:20] if a == "REF" else a for a in command]  # by prefix: the path that escaped before
    one_line_error(run_cli("runs", *args, "--runs", str(root), env=cli_env()), "symbolic link")
    assert outside.is_dir() and _snapshot(outside) == before
    assert not (outside / "worker.log").exists()


def test_ls_lists_a_linked_run_as_such(root: Path, linked: tuple[Path, Path]) -> None:
    link, outside = linked
    stopped_run(root, "local")
    rows = json.loads(run_cli("runs", "ls", "--json", "--runs", str(root), env=cli_env()).stdout)
    by_id = {r["id"]: r for r in rows}
    assert by_id[link.name]["state"] == "symlink" and str(outside) in by_id[link.name]["message"]
    assert [p.run_id for p in list_runs(root)] == [r["id"] for r in rows if r["state"] != "symlink"]


def test_the_queue_never_starts_a_linked_run(root: Path, linked: tuple[Path, Path]) -> None:
    _, outside = linked
    update_status(outside / "status.json", state="queued", queued_at=0.0)
    assert schedule(root) == []
    assert json.loads((outside / "status.json").read_text())["state"] == "queued"


def test_event_and_log_files_planted_as_symlinks_are_not_written_through(tmp_path: Path) -> None:
    target = tmp_path / "victim.txt"
    target.write_text("precious\n")
    planted = tmp_path / "events.jsonl"
    planted.symlink_to(target)
    with pytest.raises(OSError):
        EventWriter(planted)
    from simsiam_tui.launch.procs import spawn_detached

    log = tmp_path / "worker.log"
    log.symlink_to(target)
    with pytest.raises(OSError):
        spawn_detached(["true"], log, dict(os.environ))
    assert target.read_text() == "precious\n"
