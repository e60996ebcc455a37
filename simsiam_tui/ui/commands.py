"""The app's actions: launch, stop, resume, delete (each confirmed), export, view toggles and the command palette."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING, Any

from textual import work
from textual.app import SystemCommand
from textual.screen import Screen

from simsiam_tui.errors import SimsiamError
from simsiam_tui.store import RunPaths
from simsiam_tui.ui.actions import LaunchPlan
from simsiam_tui.ui.explore import CANNOT_PAGE
from simsiam_tui.ui.export import export_csv
from simsiam_tui.ui.model import RunModel
from simsiam_tui.ui.screens.confirm import ConfirmScreen
from simsiam_tui.ui.screens.export import ExportScreen
from simsiam_tui.ui.screens.help import HelpScreen
from simsiam_tui.ui.screens.launch import LaunchScreen
from simsiam_tui.ui.series import X_AXES

CANNOT = {
    "p": "p swaps the charts and the GPU/log/config panels on a narrow terminal (under 110 columns); "
    "here both are on screen",
    "n": CANNOT_PAGE,
    "y": "y sets log-y on the focused chart: click a chart (or tab to it), then y; r there sets it back",
}

if TYPE_CHECKING:  # the app's declared state (ui/app_base.py); a plain class at run time
    from simsiam_tui.ui.app_base import AppBase

    _Base = AppBase
else:
    _Base = object


class ActionsMixin(_Base):
    """Key bindings and palette commands of SimsiamApp; the work runs on threads, never on the UI thread."""

    # -- actions ----------------------------------------------------------------------------------
    def targets(self) -> list[RunModel]:
        """The runs an action applies to: the selection, else the run under the cursor."""
        table = self.table
        keys = list(table.selected) or ([table.cursor_key] if table.cursor_key else [])
        return [m for m in (self.catalog.get(k) for k in keys) if m is not None]

    def action_toggle_smoothing(self) -> None:
        """Smoothing (EMA) on or off."""
        self.smooth = not self.smooth

    def action_cycle_x_axis(self) -> None:
        """x-axis: step, epoch, wall time."""
        self.x_axis = X_AXES[(X_AXES.index(self.x_axis) + 1) % len(X_AXES)]
        self.notify(f"x-axis: {self.x_axis}", timeout=1.5)

    def action_toggle_panels(self) -> None:
        """On a narrow terminal: show the GPU, log and config panels instead of the charts, or back."""
        if not self.main_screen.has_class("narrow"):
            self.action_cannot("p")  # from the palette: the key's own binding says so itself
            return
        self.main_screen.toggle_class("show-side")

    def action_cannot(self, key: str) -> None:
        """A key pressed where it cannot act: say why, and what would make it act."""
        self.notify(CANNOT.get(key, f"{key} does nothing here"), timeout=4)

    def action_help(self) -> None:
        """Show the keys and the collapse rule."""
        self.push_screen(HelpScreen())

    def action_launch(self) -> None:
        """Open the launch dialog."""
        gpus = [g.index for g in self.poller.gpus] if self.poller.gpus_probed else None
        self.push_screen(LaunchScreen(self.presets_dir, gpus=gpus), self._launch_chosen)

    def _launch_chosen(self, plan: LaunchPlan | None) -> None:
        if plan is not None:
            self._launch(plan)

    @work(thread=True, exclusive=False, group="actions")
    def _launch(self, plan: LaunchPlan) -> None:
        try:
            created = self.backend.launch(plan, self.roots[0])
        except SimsiamError as exc:  # the user's mistake: the CLI's one line
            self._report(str(exc))
            return
        except Exception as exc:  # a bug or an OS failure: say which action failed and how
            self._report(f"launch failed: {exc!r}")
            return
        self.call_from_thread(self.notify, f"launched {len(created)} run(s) in {self.roots[0]}")
        self.poller.wake(rescan=True)

    def _confirm(self, verb: str, method: Callable[[Sequence[RunPaths]], str], danger: bool = False) -> None:
        runs = self.targets()
        if not runs:
            self.notify(f"no run to {verb}: move the cursor to one or select some with space", severity="warning")
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
                self._run_action(verb, method, runs)

        self.push_screen(ConfirmScreen(question, yes=verb.capitalize(), danger=danger), answered)

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
        self.call_after_refresh(self.notify, "resuming " + "; ".join(parts), timeout=8)

    @work(thread=True, exclusive=False, group="actions")
    def _run_action(self, verb: str, method: Callable[[Sequence[RunPaths]], str], runs: list[RunModel]) -> None:
        try:
            result = method([m.paths for m in runs])
        except Exception as exc:  # a SimsiamError is the user's one line; anything else says which action failed
            if verb == "resume":
                self.call_from_thread(self._expect, runs, None)
            self._report(str(exc) if isinstance(exc, SimsiamError) else f"{verb} failed: {exc!r}")
            return
        if verb == "delete":
            self.call_from_thread(self._forget, [m.key for m in runs])
        if verb != "resume":  # a resume was announced when it was asked for; the rows show the rest
            self.call_from_thread(self.notify, f"{verb}: {result}", timeout=6)
        self.poller.wake(rescan=True)

    def _expect(self, runs: list[RunModel], state: str | None) -> None:
        labels = self.rows.labels()
        for model in runs:
            model.expect(state)
            self.rows.update(model.key, labels)

    def _forget(self, keys: Iterable[str]) -> None:
        table = self.table
        for key in keys:
            self.catalog.forget(key)
            table.drop(key)
        self.redraw_charts()
        self._refresh_details()

    def _report(self, message: str) -> None:
        self.call_from_thread(self.notify, message, severity="error", timeout=10)

    def action_stop(self) -> None:
        """Stop the selected runs (asks first)."""
        self._confirm("stop", self.backend.stop)

    def action_resume(self) -> None:
        """Resume the selected runs (asks first)."""
        self._confirm("resume", self.backend.resume)

    def action_delete(self) -> None:
        """Delete the selected runs (asks first)."""
        self._confirm("delete", self.backend.remove, danger=True)

    def action_export(self) -> None:
        """Export the selected runs: events as CSV, or a figure (PNG/PDF) like `runs plot`."""
        runs = self.targets()
        if not runs:
            self.notify("no run to export", severity="warning")
            return

        def chosen(choice: str | None) -> None:
            if choice:
                self._export([m.paths for m in runs], choice)

        self.push_screen(ExportScreen(len(runs), str(self.export_dir)), chosen)

    @work(thread=True, exclusive=False, group="actions")
    def _export(self, runs: list[RunPaths], choice: str = "csv") -> None:
        if choice != "csv":
            self._export_figure(runs, choice)
            return
        try:
            path, rows = export_csv(runs, self.export_dir)
        except OSError as exc:
            self.call_from_thread(self.notify, f"export failed: {exc}", severity="error")
            return
        self.call_from_thread(self.notify, f"exported {rows} rows of {len(runs)} run(s) to {path}", timeout=8)

    def _export_figure(self, runs: list[RunPaths], fmt: str) -> None:
        """The picture of `runs plot` (on this worker thread: matplotlib is imported only here)."""
        from simsiam_tui.report.errors import ReportError
        from simsiam_tui.report.figure import plot_runs

        path = self.export_dir / f"simsiam-figure-{time.strftime('%Y%m%d-%H%M%S')}.{fmt}"
        try:
            panels = plot_runs(runs, path, self.x_axis)
        except (ReportError, OSError) as exc:
            self.call_from_thread(self.notify, f"figure failed: {exc}", severity="error")
            return
        self.call_from_thread(self.notify, f"wrote a figure of {len(runs)} run(s) ({len(panels)} panels) to {path}")

    def get_system_commands(self, screen: Screen[Any]) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        for title, help_text, callback in self._own_commands():
            # the palette reads help as markup: `[ and ]` are keys here, so every bracket is escaped
            yield SystemCommand(title, help_text.replace("[", "\\["), callback)

    def _own_commands(self) -> Iterable[tuple[str, str, Callable[[], Any]]]:
        """The app's palette entries as plain text: title, help, action."""
        yield ("Launch runs", "Pick a suite or presets, scale, GPUs and --set overrides", self.action_launch)
        yield ("Stop runs", "Stop the selected runs (asks first)", self.action_stop)
        yield ("Resume runs", "Resume the selected runs from their checkpoints", self.action_resume)
        yield ("Delete runs", "Delete the selected runs' directories (asks first)", self.action_delete)
        yield ("Export", "The selected runs' events as CSV, or a figure (PNG/PDF)", self.action_export)
        yield ("Pick charts", "Any numeric metric on any chart, log-y per chart", self.action_pick_charts)
        yield ("Cursor", "Read every run's value at one x ([ and ] move it)", self.action_toggle_cursor)
        yield ("Reset zoom", "Every chart back to all the data", self.action_reset_view)
        yield ("Toggle smoothing", "EMA on/off; raw points stay faint behind", self.action_toggle_smoothing)
        yield ("Switch x-axis", "step -> epoch -> wall time", self.action_cycle_x_axis)
        yield ("Toggle panels", "Narrow terminals: charts or GPU/log/config", self.action_toggle_panels)
        yield ("More charts", "Short terminals: the next row of charts", self.action_next_charts)
        yield ("Help", "Keys and the collapse rule", self.action_help)
