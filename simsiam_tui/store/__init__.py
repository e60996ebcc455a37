"""The run store: directory layout, events, status and readers; the only channel between workers and watchers."""

from __future__ import annotations

from simsiam_tui.store.events import SCHEMA_VERSION, EventWriter, encode_event
from simsiam_tui.store.paths import RunPaths, StoreError, check_name, new_run_id, resolve_path, runs_root
from simsiam_tui.store.reader import EventTail, KindSeries, RunHistory, dedupe_events, read_events, read_history
from simsiam_tui.store.runs import create_run, linked_runs, list_runs, read_config_dict, resolve_run, resolve_runs
from simsiam_tui.store.status import (
    LIVE_STATES,
    RESUMABLE_STATES,
    STATES,
    TERMINAL_STATES,
    merge_status,
    read_status,
    status_lock,
    update_status,
    write_status,
)
from simsiam_tui.store.verdict import Verdict, judge, num_classes_of

__all__ = [
    "LIVE_STATES",
    "RESUMABLE_STATES",
    "SCHEMA_VERSION",
    "STATES",
    "TERMINAL_STATES",
    "EventTail",
    "EventWriter",
    "KindSeries",
    "RunHistory",
    "RunPaths",
    "StoreError",
    "Verdict",
    "check_name",
    "create_run",
    "dedupe_events",
    "encode_event",
    "judge",
    "linked_runs",
    "list_runs",
    "merge_status",
    "new_run_id",
    "num_classes_of",
    "read_config_dict",
    "read_events",
    "read_history",
    "read_status",
    "resolve_path",
    "resolve_run",
    "resolve_runs",
    "runs_root",
    "status_lock",
    "update_status",
    "write_status",
]
