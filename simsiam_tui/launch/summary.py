"""A run's summary for the CLI: the store's one RunSummary, with the state the launcher sees (a dead worker is `lost`)."""

from __future__ import annotations

from typing import Any

from simsiam_tui.launch.state import current_state
from simsiam_tui.store import RunHistory, RunPaths, read_config_dict, read_history, read_status
from simsiam_tui.store.run_summary import RunSummary, summarize


def run_summary(
    paths: RunPaths, history: RunHistory | None = None, refresh: bool = True, config: dict[str, Any] | None = None
) -> RunSummary:
    """The run's summary with its best loss and kNN (every row read); `.to_dict()` is its JSON record.

    config: the run's config.json as the caller already read it (read here otherwise)."""
    read = read_status(paths.status)  # read once: the state below is diagnosed from it too
    status = read or {}
    # never writes: show, compare and exports are reading commands
    state, message = current_state(paths, read) if refresh else (status.get("state", "unknown"), status.get("message"))
    return summarize(
        key=str(paths.dir),
        run_id=paths.run_id,
        root=str(paths.dir.parent),
        dir=str(paths.dir),
        config=read_config_dict(paths) if config is None else config,
        status=status,
        history=read_history(paths.events) if history is None else history,
        state=str(state),
        message=message or None,
        best=True,
    )
