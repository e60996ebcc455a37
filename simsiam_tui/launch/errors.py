"""LaunchError: a launcher mistake the user can fix (bad --gpus, a live run to remove, ...); one line, exit 2."""

from __future__ import annotations

from simsiam_tui.errors import SimsiamError


class LaunchError(SimsiamError, ValueError):
    """A user-facing launcher error, reported as one line."""
