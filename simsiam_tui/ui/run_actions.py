"""RunActions: launch, stop, resume, delete and export, each asked for in a dialog and done on a worker thread.

A component of the app with its own state (the backend, where runs go and exports land). It acts on the runs
the table points at (through RunRows) and talks back through the app's public API: dialogs, toasts, and a
`RunsDeleted` message when runs are gone, which the app's parts handle on the UI thread.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Sequence
from functools import partial
from pathlib import Path
from typing import Any

from textual.app import App
from textual.message import Message

from simsiam_tui.errors import SimsiamError
from simsiam_tui.store import RunPaths
from simsiam_tui.ui.actions import Backend, LaunchPlan
from simsiam_tui.ui.export import export_csv
from simsiam_tui.ui.model import RunModel
from simsiam_tui.ui.poller import Poller
from simsiam_tui.ui.run_rows import RunRows
from simsiam_tui.ui.screens.confirm import ConfirmScreen
from simsiam_tui.ui.screens.export import ExportScreen
from simsiam_tui.ui.screens.launch import LaunchScreen

PaletteEntry = tuple[str, str, Callable[[], Any]]  # title, help, action


class RunsDeleted(Message):
    """These runs' folders are gone: forget them everywhere."""

    def __init__(self, keys: list[str]) -> None:
        super().__init__()
        self.keys = keys


class RunActions:
    """What the app's l, s, r, d and e keys (and their palette entries) do."""

    def __init__(
        self,
        app: App[Any],
        backend: Backend,
        rows: RunRows,
        poller: Poller,
        roots: list[Path],
        export_dir: Path,
        presets_dir: str | None,
        x_axis: Callable[[], str],
    ) -> None:
        self.app, self.backend, self.rows, self.poller = app, backend, rows, poller
        self.roots, self.export_dir, self.presets_dir = roots, export_dir, presets_dir
        self.x_axis = x_axis  # a figure's x axis is the charts'

    def targets(self) -> list[RunModel]:
        """The runs an action applies to: the selection, else the run under the cursor."""
        table, catalog = self.rows.table, self.rows.catalog
        keys = list(table.selected) or ([table.cursor_key] if table.cursor_key else [])
        return [m for m in (catalog.get(k) for k in keys) if m is not None]

    def _in_thread(self, work: Callable[[], None]) -> None:
        self.app.run_worker(work, thread=True, exclusive=False, group="actions")

    def _say(self, message: str, **kwargs: Any) -> None:
        """A toast, from a worker thread."""
        self.app.call_from_thread(self.app.notify, message, **kwargs)

    def _report(self, message: str) -> None:
        self._say(message, severity="error", timeout=10)

    # -- launch -----------------------------------------------------------------------------------
    def launch(self) -> None:
        """Open the launch dialog; launch what it plans."""
        gpus = [g.index for g in self.poller.gpus] if self.poller.gpus_probed else None
        self.app.push_screen(LaunchScreen(self.presets_dir, gpus=gpus), self._launch_chosen)

    def _launch_chosen(self, plan: LaunchPlan | None) -> None:
        if plan is not None:
            self._in_thread(partial(self._launch, plan))

    def _launch(self, plan: LaunchPlan) -> None:
        try:
            created = self.backend.launch(plan, self.roots[0])
        except SimsiamError as exc:  # the user's mistake: the CLI's one line
            self._report(str(exc))
            return
        except Exception as exc:  # a bug or an OS failure: say which action failed and how
            self._report(f"launch failed: {exc!r}")
            return
        self._say(f"launched {len(created)} run(s) in {self.roots[0]}")
        self.poller.wake(rescan=True)

    # -- stop, resume, delete ---------------------------------------------------------------------
    def stop(self) -> None:
        self._confirm("stop", self.backend.stop)

    def resume(self) -> None:
        self._confirm("resume", self.backend.resume)

    def delete(self) -> None:
        self._confirm("delete", self.backend.remove, danger=True)

    def _confirm(self, verb: str, method: Callable[[Sequence[RunPaths]], str], danger: bool = False) -> None:
        runs = self.targets()
        if not runs:
            self.app.notify(f"no run to {verb}: move the cursor to one or select some with space", severity="warning")
            return
        labels = self.rows.labels()
        names = "\n".join(f"  {labels.get(m.key, m.key)}  ({m.paths.run_id})" for m in runs[:10])
        more = f"\n  … and {len(runs) - 10} more" if len(runs) > 10 else ""
        question = f"{verb.capitalize()} {len(runs)} run(s)?\n{names}{more}"
        if verb == "delete":
            question += "\nTheir directories (events, checkpoints, logs) are removed for good."

        def answered(yes: bool | None) -> None:
            if yes:
                if verb == "resume":
                    self._show_resuming(runs)
                self._in_thread(partial(self._act, verb, method, runs))

        self.app.push_screen(ConfirmScreen(question, yes=verb.capitalize(), danger=danger), answered)

    def _show_resuming(self, runs: list[RunModel]) -> None:
        """At once, before the launcher answers: rows read `starting`, a toast names the step each resumes from."""
        labels = self.rows.labels()
        parts = []
        for model in runs:
            model.expect("starting")
            self.rows.update(model.key, labels)
            point = model.resume_point()
            where = f"from step {point[0]} (epoch {point[1]:.1f})" if point else "from the start (no checkpoint)"
            parts.append(f"{labels.get(model.key, model.paths.run_id)} {where}")
        # after the confirm dialog has gone: a toast raised while it closes would be drawn on it, and lost
        self.app.call_after_refresh(self.app.notify, "resuming " + "; ".join(parts), timeout=8)

    def _act(self, verb: str, method: Callable[[Sequence[RunPaths]], str], runs: list[RunModel]) -> None:
        try:
            result = method([m.paths for m in runs])
        except Exception as exc:  # a SimsiamError is the user's one line; anything else says which action failed
            if verb == "resume":
                self.app.call_from_thread(self._expect, runs, None)
            self._report(str(exc) if isinstance(exc, SimsiamError) else f"{verb} failed: {exc!r}")
            return
        if verb == "delete":
            self.app.post_message(RunsDeleted([m.key for m in runs]))
        if verb != "resume":  # a resume was announced when it was asked for; the rows show the rest
            self._say(f"{verb}: {result}", timeout=6)
        self.poller.wake(rescan=True)

    def _expect(self, runs: list[RunModel], state: str | None) -> None:
        labels = self.rows.labels()
        for model in runs:
            model.expect(state)
            self.rows.update(model.key, labels)

    # -- export -----------------------------------------------------------------------------------
    def export(self) -> None:
        """Export the selected runs: events as CSV, or a figure (PNG/PDF) like `runs plot`."""
        runs = self.targets()
        if not runs:
            self.app.notify("no run to export", severity="warning")
            return

        def chosen(choice: str | None) -> None:
            if choice:
                self._in_thread(partial(self._export, [m.paths for m in runs], choice, self.x_axis()))

        self.app.push_screen(ExportScreen(len(runs), str(self.export_dir)), chosen)

    def _export(self, runs: list[RunPaths], choice: str, x_axis: str) -> None:
        if choice != "csv":
            self._export_figure(runs, choice, x_axis)
            return
        try:
            path, rows = export_csv(runs, self.export_dir)
        except OSError as exc:
            self._say(f"export failed: {exc}", severity="error")
            return
        self._say(f"exported {rows} rows of {len(runs)} run(s) to {path}", timeout=8)

    def _export_figure(self, runs: list[RunPaths], fmt: str, x_axis: str) -> None:
        """The picture of `runs plot` (on this worker thread: matplotlib is imported only here)."""
        from simsiam_tui.report.errors import ReportError
        from simsiam_tui.report.figure import plot_runs

        path = self.export_dir / f"simsiam-figure-{time.strftime('%Y%m%d-%H%M%S')}.{fmt}"
        try:
            panels = plot_runs(runs, path, x_axis)
        except (ReportError, OSError) as exc:
            self._say(f"figure failed: {exc}", severity="error")
            return
        self._say(f"wrote a figure of {len(runs)} run(s) ({len(panels)} panels) to {path}")

    def palette(self) -> Iterable[PaletteEntry]:
        """Its entries in the command palette, as plain text."""
        yield ("Launch runs", "Pick a suite or presets, scale, GPUs and --set overrides", self.launch)
        yield ("Stop runs", "Stop the selected runs (asks first)", self.stop)
        yield ("Resume runs", "Resume the selected runs from their checkpoints", self.resume)
        yield ("Delete runs", "Delete the selected runs' directories (asks first)", self.delete)
        yield ("Export", "The selected runs' events as CSV, or a figure (PNG/PDF)", self.export)
