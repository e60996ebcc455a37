"""The one exception type for configuration mistakes a user can make."""

from __future__ import annotations

from simsiam_tui.errors import SimsiamError


class ConfigError(SimsiamError, ValueError):
    """A user-facing configuration error; its message is one line that says what and how to fix."""
