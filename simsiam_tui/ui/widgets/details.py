"""Details of the run under the cursor: its worker.log tail, its config, and what is known about it."""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical, VerticalScroll
from textual.widgets import Static, TabbedContent, TabPane

from simsiam_tui.store.text import printable
from simsiam_tui.ui import fmt
from simsiam_tui.ui.model import RunSummary


def flat_config(config: dict[str, Any], prefix: str = "") -> list[tuple[str, Any]]:
    """Dotted keys and values of a nested config, in file order."""
    out: list[tuple[str, Any]] = []
    for key, value in config.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            out += flat_config(value, name + ".")
        else:
            out.append((name, value))
    return out


def config_text(config: dict[str, Any]) -> Text:
    """The config as `key = value` lines, keys dim."""
    if not config:
        return Text("no config.json", style="dim")
    text = Text()
    for key, value in flat_config(config):
        if key == "description":
            continue
        text.append(f"{printable(key)} ", style="dim")  # keys and values come from config.json
        text.append(f"{printable(value)}\n")
    return text


def info_text(summary: RunSummary | None, status: dict[str, Any] | None) -> Text:
    """Run id, where it lives, its state with the status message, and the collapse verdict with its reason."""
    if summary is None:
        return Text("no run", style="dim")
    status = status or {}
    text = Text()
    text.append(f"{printable(summary.run_id)}\n", style="bold")  # everything here comes from the run folder
    text.append("state ", style="dim")
    text.append_text(fmt.state(summary.state, summary.problem))
    if status.get("message"):
        text.append(f"  {printable(status['message'])}")
    text.append("\ncollapse ", style="dim")
    text.append_text(fmt.verdict(summary.verdict))
    text.append(f"  {printable(summary.verdict.reason)}\n")
    if summary.problem:
        text.append("problem ", style="dim")
        text.append(f"{printable(summary.problem)}\n", style="bold red")
    for label, value in (
        ("variant", f"{summary.variant} @ {summary.scale}"),
        ("host", summary.host or "-"),
        ("pid", status.get("pid")),
        ("gpus", summary.gpus or "-"),
        ("slurm", status.get("slurm_job_id")),
        ("exit", status.get("exit_code")),
        ("root", summary.root),
    ):
        if value not in (None, ""):
            text.append(f"{label} ", style="dim")
            text.append(f"{printable(value)}\n")
    return text


class DetailsPanel(Vertical):
    """Tabs: Log (worker.log tail), Config, Run."""

    DEFAULT_CSS = """
    DetailsPanel { height: 1fr; }
    DetailsPanel TabbedContent { height: 1fr; }
    DetailsPanel TabPane { padding: 0; height: 1fr; }
    DetailsPanel VerticalScroll { height: 1fr; }
    """

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._log_key: tuple[str | None, int] = (None, 0)
        self._log_run: str | None = None
        self._follow = True  # the log view shows its newest lines
        self.lines: list[str] = []
        # held by reference: tab panes mount after the first updates may arrive
        self.log_view = Static(id="log", markup=False)
        self.log_scroll = VerticalScroll(self.log_view, id="log-scroll")
        self.config_view = Static(id="config")
        self.info_view = Static(id="info")
        self.tabs = TabbedContent(initial="tab-log")
        # what each tab should show, and what it shows: only the visible tab is updated (an update of a
        # hidden Static still costs a layout pass on the UI thread, on every cursor move); others on showing
        self._want: dict[str, Any] = {"tab-log": None, "tab-config": None, "tab-run": None}
        self._shown: dict[str, Any] = {}

    def compose(self) -> ComposeResult:
        with self.tabs:
            with TabPane("Log", id="tab-log"):
                yield self.log_scroll
            with TabPane("Config", id="tab-config"):
                with VerticalScroll():
                    yield self.config_view
            with TabPane("Run", id="tab-run"):
                with VerticalScroll():
                    yield self.info_view

    def on_resize(self) -> None:
        # shown again (p on a narrow terminal) or resized: a log that followed its tail still shows it
        if self._follow:
            self.log_scroll.call_after_refresh(self.log_scroll.scroll_end, animate=False)

    def show_log(self, key: str | None, lines: list[str]) -> None:
        """Replace the log view when the run or its lines changed."""
        stamp = (key, hash(tuple(lines[-3:])) ^ len(lines))
        if stamp == self._log_key:
            return
        self._log_key = stamp
        self.lines = lines
        self._want["tab-log"] = stamp
        self._sync()

    def show_run(self, summary: RunSummary | None, status: dict[str, Any] | None, config: dict[str, Any]) -> None:
        """Update the config and info tabs (the one on screen now, the other when it is shown)."""
        self._config, self._summary, self._status = config, summary, status
        self._want["tab-config"] = config
        self._want["tab-run"] = summary, dict(status) if status else None
        self._sync()

    def on_tabbed_content_tab_activated(self, event: TabbedContent.TabActivated) -> None:
        self._sync()

    def _sync(self) -> None:
        """Bring the visible tab up to date, if what it should show changed since it was drawn."""
        active = self.tabs.active or "tab-log"
        want = self._want.get(active)
        if active in self._shown and self._shown[active] == want:
            return
        self._shown[active] = want
        if active == "tab-log":
            scroll = self.log_scroll
            run = None if want is None else want[0]
            # follow the tail unless the reader scrolled up (a hidden panel has nothing to scroll: it follows)
            self._follow = run != self._log_run or scroll.scroll_y >= scroll.max_scroll_y - 1
            self._log_run = run
            self.log_view.update(Text("\n".join(printable(line) for line in self.lines)))  # each line escaped alone
            if self._follow:
                scroll.call_after_refresh(scroll.scroll_end, animate=False)  # once the new lines are laid out
        elif active == "tab-config":
            self.config_view.update(config_text(getattr(self, "_config", {})))
        elif active == "tab-run":
            self.info_view.update(info_text(getattr(self, "_summary", None), getattr(self, "_status", None)))
