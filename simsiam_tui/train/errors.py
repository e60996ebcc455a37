"""Errors a user can cause, reported as one line and a non-zero exit (stdlib only)."""

from __future__ import annotations


class UserFacingError(Exception):
    """A problem the user can fix (missing data set, bad run dir); its message is one line."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class CheckpointError(UserFacingError):
    """A checkpoint that cannot be loaded safely (refused by weights_only, corrupt, or not ours); names the file."""


class DiskFullError(UserFacingError):
    """No space left on the device while writing a run's files."""
