"""`simsiam-tui runs ...`: list, inspect, follow logs, stop, resume, remove, compare and export runs."""

from __future__ import annotations

import json
import textwrap
import time
from collections import deque
from pathlib import Path
from typing import Any

import typer
from rich.table import Table

from simsiam_tui.cli import compare_cmd, report_cmd
from simsiam_tui.cli.common import (
    JsonOption,
    RunsOption,
    console,
    err_console,
    fail,
    json_safe,
    print_json,
)
from simsiam_tui.cli.tables import (
    STATE_STYLE,
    VERDICT_STYLE,
    cell,
    created,
    epochs,
    fmt,
    styled,
    summary_table,
    table_console,
)
from simsiam_tui.launch import (
    await_resume,
    parse_gpus,
    refresh_state,
    remove_runs,
    resume_runs,
    run_summary,
    stop_runs,
    wait_for_end,
)
from simsiam_tui.launch.compare import attach_linear_evals
from simsiam_tui.store import (
    LIVE_STATES,
    RunPaths,
    linked_runs,
    list_runs,
    read_config_dict,
    read_status,
    resolve_run,
    runs_root,
)
from simsiam_tui.store.export import export_rows, write_csv
from simsiam_tui.store.files import read_range
from simsiam_tui.store.text import printable
from simsiam_tui.store.verdict_rule import rule_text

app = typer.Typer(help="List, inspect, stop, resume, compare and export runs.", no_args_is_help=True)

RunArgs = typer.Argument(..., help="Run ids (a unique prefix or a unique name is enough).")

RUN_FACTS = (("host", "host"), ("pid", "pid"), ("gpus", "gpus"), ("exit code", "exit_code"))  # `runs show`'s line
LOG_CHUNK = 1 << 20  # worker.log is read this much at a time: a huge log never sits in memory whole


def say(text: Any) -> None:
    """One line of text that quotes a run folder, on stdout: control characters escaped, no markup."""
    console.print(printable(text), highlight=False, markup=False)


def _root(runs: str | None) -> Path:
    """The runs root, which must exist for commands that act on runs."""
    return runs_root(runs, must_exist=True)


def run_rows(root: str | None) -> list[dict[str, Any]]:
    """One summary dict per run: id, variant, scale, state (dead workers show `lost`), epoch/epochs, last loss, verdict."""
    rows = []
    for paths in list_runs(_root(root)):
        shown = run_summary(paths)
        summary = shown.to_dict()
        rows.append(
            {
                "id": paths.run_id,
                "variant": summary["variant"],
                "scale": summary["scale"],
                "state": summary["state"],
                "epoch": summary["epoch"],
                "epochs": summary["epochs"],
                "step": summary["step"],
                "loss_last": summary["loss_last"],
                "verdict": summary["verdict"],
                "verdict_reason": summary["verdict_reason"],
                "source_run": summary["source_run"],  # a linear-eval run's source
                "created": shown.created,
                "message": summary["message"],
                "dir": str(paths.dir),
            }
        )
    for name, target in linked_runs(_root(root)):  # listed as links, never followed or written through
        rows.append(
            {
                "id": name, "variant": None, "scale": None, "state": "symlink", "epoch": 0.0, "epochs": None,
                "step": None, "loss_last": None, "verdict": "unknown", "verdict_reason": "not read", "created": None,
                "source_run": None, "message": f"symbolic link to {target}; not managed here",
                "dir": str(_root(root) / name),
            }
        )  # fmt: skip
    return rows


@app.command("ls")
def runs_ls(runs: str | None = RunsOption, as_json: bool = JsonOption) -> None:
    """List every run under the runs root: state, epoch progress, last loss and the collapse verdict."""
    root = _root(runs)  # a missing root is one line and exit 2; an empty one an empty table
    rows = run_rows(runs)
    if as_json:
        print_json(rows)
        return
    table = Table(title=f"runs in {root}")
    for col, justify in (
        ("id", "left"), ("variant", "left"), ("scale", "left"), ("state", "left"), ("epoch", "right"),
        ("loss", "right"), ("verdict", "left"), ("created", "left"), ("source", "left"),
        ("message", "left"),
    ):  # fmt: skip
        table.add_column(col, justify=justify)  # type: ignore[arg-type]
    for row in rows:  # every cell a Text: ids, names and messages come from run folders, never markup
        table.add_row(
            cell(row["id"]), cell(row["variant"]), cell(row["scale"]), styled(row["state"], STATE_STYLE),
            epochs(row), fmt(row["loss_last"], ".4f"), styled(row["verdict"], VERDICT_STYLE),
            created(row["created"]), cell(f"linear eval of {row['source_run']}" if row["source_run"] else ""),
            cell(row["message"] or ""),
        )  # fmt: skip
    table_console().print(table)


@app.command("show")
def runs_show(
    run: str = typer.Argument(..., help="Run id or unique prefix."),
    runs: str | None = RunsOption,
    as_json: bool = JsonOption,
) -> None:
    """One run: state, last metrics, verdict, paths and config."""
    paths = resolve_run(_root(runs), run)
    summary = run_summary(paths).to_dict()
    evals = [p for p in list_runs(paths.dir.parent) if (read_config_dict(p).get("linear_eval") or {}).get("source_run") == paths.run_id]
    summaries = [*(run_summary(p).to_dict() for p in evals), summary]
    summary = attach_linear_evals(summaries, [{} for _ in summaries])[-1]  # its linear eval, if any
    info = {
        "summary": summary,
        "status": read_status(paths.status) or {},
        "paths": {
            "dir": str(paths.dir),
            "config": str(paths.config),
            "events": str(paths.events),
            "status": str(paths.status),
            "log": str(paths.log),
            "checkpoint": str(paths.checkpoint) if paths.checkpoint.exists() else None,
        },
        "config": read_config_dict(paths),
    }
    if as_json:
        print_json(info)
        return
    table_console().print(summary_table([summary], paths.run_id))
    status = info["status"]
    say(f"verdict: {summary['verdict']} ({summary['verdict_reason']})")
    console.print(textwrap.indent(rule_text(), "  "), highlight=False, markup=False)
    if summary["message"]:
        say(f"message: {summary['message']}")
    say("  ".join(f"{label} {status.get(key)}" for label, key in RUN_FACTS))
    for key, value in info["paths"].items():
        say(f"{key:10} {value or '-'}")
    console.rule("config")
    console.print_json(json.dumps(info["config"]), ensure_ascii=True)  # every control character as \uXXXX


class LogEcho:
    """Prints worker.log bytes line by line, each line escaped alone; a partial last line waits for its end."""

    def __init__(self, last: int = 0) -> None:
        self.partial = b""
        self.held: deque[str] | None = deque(maxlen=last) if last > 0 else None  # -n N: only the last N lines

    def feed(self, data: bytes) -> None:
        *lines, self.partial = (self.partial + data).split(b"\n")
        for line in lines:
            self._emit(line)
        if len(self.partial) > LOG_CHUNK:  # a line without end: shown in pieces, never held whole
            self._emit(self.partial)
            self.partial = b""

    def _emit(self, line: bytes) -> None:
        text = printable(line.decode(errors="replace").removesuffix("\r"))  # CR LF ends a line too
        if self.held is not None:
            self.held.append(text)
        else:
            typer.echo(text)

    def release(self) -> None:
        """Print the lines -n held back; from here on every line is printed as it comes."""
        held, self.held = self.held, None
        for text in held or ():
            typer.echo(text)

    def end(self) -> None:
        """The log is done: its partial last line too, then whatever is held."""
        if self.partial:
            self._emit(self.partial)
            self.partial = b""
        self.release()


def _read_log(paths: RunPaths, root: Path, offset: int, echo: LogEcho) -> tuple[int, bool]:
    """Feed `echo` worker.log from `offset` to its end; (the new offset, whether the file exists).

    Through the safe opener: a worker.log that is a FIFO, a symlink or a device is refused (one error line).
    """
    while True:
        try:
            data, size = read_range(paths.log, offset, LOG_CHUNK, root)
        except FileNotFoundError:
            return offset, False
        if size < offset:  # truncated or replaced: read it again from the start
            offset = 0
            continue
        if not data:
            return offset, True
        echo.feed(data)
        offset += len(data)


@app.command("logs")
def runs_logs(
    run: str = typer.Argument(..., help="Run id or unique prefix."),
    follow: bool = typer.Option(False, "--follow", "-f", help="Keep printing until the run ends (Ctrl-C stops)."),
    lines: int = typer.Option(0, "--lines", "-n", help="Only the last N lines (0: all)."),
    runs: str | None = RunsOption,
) -> None:
    """Print the worker's log (stdout and stderr); -f follows it while the run is live."""
    root = _root(runs)
    paths = resolve_run(root, run)
    echo = LogEcho(lines)
    offset, found = _read_log(paths, root, 0, echo)
    if not found and not follow:
        err_console.print(
            f"no worker.log yet for {printable(paths.run_id)} (state {refresh_state(paths, write=False)})", markup=False
        )
    if not follow:
        echo.end()
        return
    echo.release()
    try:
        while True:
            live = refresh_state(paths, write=False) in LIVE_STATES
            before = offset
            offset, _ = _read_log(paths, root, offset, echo)
            if offset == before and not live:
                break
            if offset == before:
                time.sleep(0.5)
    except KeyboardInterrupt:  # Ctrl-C is how a user stops following; the run goes on
        return
    echo.end()


def _actions_out(actions: list[Any], as_json: bool) -> None:
    if as_json:
        print_json([a.to_dict() for a in actions])
        return
    for action in actions:  # an action's words may quote a run folder (an error reading its files)
        say(f"{action.run_id}: {action.action} [{action.state}]")


@app.command("stop")
def runs_stop(
    run: list[str] = RunArgs,
    force: bool = typer.Option(False, "--force", help="SIGKILL the process group now (no checkpoint)."),
    wait: bool = typer.Option(False, "--wait", help="Wait until the runs have stopped."),
    timeout: float = typer.Option(120.0, "--timeout", help="Seconds --wait waits at most."),
    runs: str | None = RunsOption,
    as_json: bool = JsonOption,
) -> None:
    """Stop runs: SIGTERM, so each checkpoints and ends `stopped`; queued runs leave the queue."""
    root = _root(runs)
    targets = [resolve_run(root, r) for r in run]
    actions = stop_runs(targets, force=force)
    if wait:
        states = wait_for_end(targets, timeout)
        actions = [type(a)(a.run_id, a.action, states.get(a.run_id, a.state)) for a in actions]
    _actions_out(actions, as_json)


@app.command("resume")
def runs_resume(
    run: list[str] = RunArgs,
    gpus: str | None = typer.Option(None, "--gpus", help="GPU indices for the resumed runs (default: as launched)."),
    per_gpu: int | None = typer.Option(None, "--per-gpu", help="Runs sharing a GPU (CPU: runs at once)."),
    wait: float = typer.Option(
        60.0, "--wait", help="Seconds to wait for the worker to load its checkpoint (0: do not wait)."
    ),
    runs: str | None = RunsOption,
    as_json: bool = JsonOption,
) -> None:
    """Resume stopped, failed, lost or diverged runs from their last checkpoint (detached, queued if no slot).

    Says "resumed from step S" only once the worker has loaded its checkpoint; a checkpoint that cannot
    be loaded is one error line and exit code 2.
    """
    root = _root(runs)
    targets = [resolve_run(root, r) for r in run]
    actions = resume_runs(targets, gpus=parse_gpus(gpus), per_gpu=per_gpu)
    if wait > 0:
        actions = await_resume(targets, wait)
    failed = [a for a in actions if a.action.startswith("did not resume")]
    _actions_out([a for a in actions if a not in failed], as_json)
    if failed:
        raise fail(printable("; ".join(f"run {a.run_id} {a.action}" for a in failed)))


@app.command("rm")
def runs_rm(
    run: list[str] = RunArgs,
    force: bool = typer.Option(False, "--force", help="Also remove live runs (their workers are killed)."),
    runs: str | None = RunsOption,
    as_json: bool = JsonOption,
) -> None:
    """Delete runs; a live run is refused unless --force."""
    root = _root(runs)
    targets = [resolve_run(root, r) for r in run]
    _actions_out(remove_runs(targets, force=force), as_json)


@app.command("export")
def runs_export(
    run: list[str] = typer.Argument(None, help="Run ids or prefixes (default: every run)."),
    csv_file: Path | None = typer.Option(None, "--csv", help="Write one row per metric event to this CSV file."),
    json_file: Path | None = typer.Option(None, "--json", help="Write the rows as a JSON list to this file."),
    tensorboard: Path | None = typer.Option(
        None, "--tensorboard", help="Write TensorBoard event files here, one subfolder per run."
    ),
    runs: str | None = RunsOption,
) -> None:
    """Every metric series (train, collapse, eval, system) of the runs, one row per event, as CSV, JSON or TensorBoard."""
    if sum(x is not None for x in (csv_file, json_file, tensorboard)) != 1:
        raise fail("give exactly one of --csv FILE, --json FILE or --tensorboard DIR")
    if tensorboard is not None:
        report_cmd.export_tensorboard(run, runs, tensorboard)
        return
    root = _root(runs)
    targets = [resolve_run(root, r) for r in run] if run else list_runs(root)
    rows = export_rows(targets)
    out = csv_file or json_file
    assert out is not None
    if out.is_dir():
        raise fail(f"'{out}' is a folder; give a file name")
    try:
        if csv_file is not None:
            write_csv(rows, csv_file)
        else:
            Path(out).write_text(json.dumps(json_safe(rows), separators=(",", ":"), allow_nan=False) + "\n")
    except OSError as exc:
        raise fail(f"cannot write {out}: {exc.strerror}") from None
    err_console.print(f"wrote {len(rows)} rows from {len(targets)} run(s) to {out}")


report_cmd.register(app)  # `runs plot` (issue 15)
compare_cmd.register(app)  # `runs compare` (issues 14, 21)
