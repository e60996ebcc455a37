"""`simsiam-tui` (no command), `watch` and `demo`: open the Textual app."""

from __future__ import annotations

import typer

from simsiam_tui.cli.common import fail


def open_dashboard(roots: list[str] | None) -> None:
    """Open the app on the given run roots (default: the runs root)."""
    raise fail("the dashboard comes with the Textual app issue; use `simsiam-tui runs ls` for now", code=1)


def register(app: typer.Typer) -> None:
    """Add `watch` and `demo` to the root app."""
