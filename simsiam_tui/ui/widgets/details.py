"""Details of the run under the cursor: its worker.log tail, its config, and what is known about it."""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical, VerticalScroll
from textual.widgets import Static, TabbedContent, TabPane

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
        text.append(f"{key} ", style="dim")
        text.append(f"{value}\n")
    return text


def info_text(summary: RunSummary | None, status: dict[str, Any] | None) -> Text:
    """Run id, where it lives, its state with the status message, and the collapse verdict with its reason."""
    if summary is None:
        return Text("no run", style="dim")
    status = status or {}
    text = Text()
    text.append(f"{summary.run_id}\n", style="bold")
    text.append("state ", style="dim")
    text.append_text(fmt.state(summary.state, summary.problem))
    if status.get("message"):
        text.append(f"  {status['message']}")
    text.append("\ncollapse ", style="dim")
    text.append_text(fmt.verdict(summary.verdict))
    text.append(f"  {summary.verdict.reason}\n")
    if summary.problem:
        text.append("problem ", style="dim")
        text.append(f"{summary.problem}\n", style="bold red")
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
            text.append(f"{value}\n")
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
        self.lines: list[str] = []
        # held by reference: tab panes mount after the first updates may arrive
        self.log_view = Static(id="log", markup=False)
        self.log_scroll = VerticalScroll(self.log_view, id="log-scroll")
        self.config_view = Static(id="config")
        self.info_view = Static(id="info")

    def compose(self) -> ComposeResult:
        with TabbedContent(initial="tab-log"):
            with TabPane("Log", id="tab-log"):
                yield self.log_scroll
            with TabPane("Config", id="tab-config"):
                with VerticalScroll():
                    yield self.config_view
            with TabPane("Run", id="tab-run"):
                with VerticalScroll():
                    yield self.info_view

    def show_log(self, key: str | None, lines: list[str]) -> None:
        """Replace the log view when the run or its lines changed."""
        stamp = (key, hash(tuple(lines[-3:])) ^ len(lines))
        if stamp == self._log_key:
            return
        self._log_key = stamp
        self.lines = lines
        self.log_view.update(Text("\n".join(lines)))
        self.log_scroll.scroll_end(animate=False)

    def show_run(self, summary: RunSummary | None, status: dict[str, Any] | None, config: dict[str, Any]) -> None:
        """Update the config and info tabs."""
        self.config_view.update(config_text(config))
        self.info_view.update(info_text(summary, status))
