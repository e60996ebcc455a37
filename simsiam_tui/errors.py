"""SimsiamError: the one base type for every mistake a user can cause (stdlib only; every layer imports it)."""

from __future__ import annotations


class SimsiamError(Exception):
    """A problem the user can fix; its message is one line that says what went wrong and how to fix it.

    The CLI turns it into `error: <message>` on stderr and exit code 2; the app shows the same text.
    Each layer subclasses it (ConfigError, StoreError, LaunchError, TrainError, ...).
    """
