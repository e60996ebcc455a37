"""Suite-wide settings: a garbage collector tuned for a long pytest session (no test changes what it checks)."""

from __future__ import annotations

import gc

import pytest

# The session holds torch, matplotlib and hypothesis, and Textual's render caches keep tens of thousands of
# strips alive: with the default thresholds every full collection walks all of it, about a quarter of the
# UI tests' time. Freezing what collection imported, and collecting young objects less often, cut
# that to a small fraction; cycles are still collected, only later (README: Development).
GEN0_THRESHOLD = 50_000


@pytest.hookimpl(trylast=True)
def pytest_collection_finish(session: pytest.Session) -> None:
    """Move what the imports made into the permanent generation and collect the young one less often."""
    gc.collect()
    gc.freeze()
    _, gen1, gen2 = gc.get_threshold()
    gc.set_threshold(GEN0_THRESHOLD, max(gen1, 20), max(gen2, 20))
