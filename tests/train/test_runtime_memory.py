"""`start` and `system` events carry the CUDA allocator's memory figures (faked here: no GPU needed)."""

from __future__ import annotations

from typing import Any

import pytest
import torch

from simsiam_tui.train import runtime
from simsiam_tui.train.runtime import SafeEvents


class Recorder:
    def __init__(self) -> None:
        self.events: list[tuple[str, dict[str, Any]]] = []

    def emit(self, kind: str, step: int, epoch: float, **fields: Any) -> None:
        self.events.append((kind, fields))


def test_memory_fields_on_start_and_system_only(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "is_initialized", lambda: True)
    monkeypatch.setattr(torch.cuda, "current_device", lambda: 0)
    monkeypatch.setattr(torch.cuda, "memory_allocated", lambda d: 3 * 2**20)
    monkeypatch.setattr(torch.cuda, "memory_reserved", lambda d: 4 * 2**20)
    monkeypatch.setattr(torch.cuda, "max_memory_allocated", lambda d: 5 * 2**20)
    rec = Recorder()
    events = SafeEvents(rec)
    for kind in ("start", "system", "train"):
        events.emit(kind, step=0, epoch=0.0, x=1)
    (k1, start), (k2, system), (k3, train) = rec.events
    assert start["torch_mem_peak_mb"] == system["torch_mem_peak_mb"] == 5.0
    assert start["torch_mem_allocated_mb"] == 3.0 and start["torch_mem_reserved_mb"] == 4.0 and start["x"] == 1
    assert "torch_mem_peak_mb" not in train


def test_no_memory_fields_off_cuda() -> None:
    if torch.cuda.is_available():
        pytest.skip("a GPU is visible")
    assert runtime.torch_memory() == {}
