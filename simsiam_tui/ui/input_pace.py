"""When the user last pressed a key: live updates wait until the keys pause, so each key's own frame comes first."""

from __future__ import annotations

import time

INPUT_QUIET_S = 0.3  # live cells and charts wait this long after a key


class InputPace:
    """Shared by the app (which records the keys) and the parts that hold live updates back while keys come."""

    def __init__(self) -> None:
        self.last_key = 0.0
        self.quiet_s = INPUT_QUIET_S

    def key_pressed(self) -> None:
        self.last_key = time.monotonic()

    def wait(self) -> float:
        """Seconds until the keys count as paused (<= 0: they are)."""
        return self.quiet_s - (time.monotonic() - self.last_key)
