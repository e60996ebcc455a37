"""Slots: which GPUs (or the CPU) a run may use and how many runs share each; parsing --gpus and --per-gpu."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

from simsiam_tui.launch.errors import LaunchError
from simsiam_tui.probe import gpu_snapshot, nvml_error

CPU_SLOTS_ENV = "SIMSIAM_TUI_CPU_SLOTS"


def default_cpu_slots() -> int:
    """How many CPU runs may run at once by default: max(2, cores // 4), or $SIMSIAM_TUI_CPU_SLOTS."""
    env = os.environ.get(CPU_SLOTS_ENV)
    if env and env.isdigit() and int(env) > 0:
        return int(env)
    return max(2, (os.cpu_count() or 2) // 4)


def cpu_threads(slots: int) -> int:
    """Threads per CPU run so that `slots` concurrent runs share the cores without oversubscribing them."""
    return max(1, (os.cpu_count() or 1) // max(1, slots))


def parse_gpus(text: str | None) -> list[int] | None:
    """`--gpus 0,2` as [0, 2]; 'cpu' or 'none' as [] (CPU only); None when not given."""
    if text is None:
        return None
    text = text.strip().lower()
    if text in ("cpu", "none", ""):
        return []
    if text == "all":
        return None
    out: list[int] = []
    for part in text.split(","):
        part = part.strip()
        if not part.isdigit():
            raise LaunchError(f"--gpus '{text}' is not a list of GPU indices like 0,2 (or 'cpu', 'all')")
        if int(part) not in out:
            out.append(int(part))
    return out


def visible_gpus() -> list[int]:
    """GPU indices runs may use by default: $CUDA_VISIBLE_DEVICES when set to indices, else every GPU NVML sees."""
    found = [g["index"] for g in gpu_snapshot()]
    env = os.environ.get("CUDA_VISIBLE_DEVICES")
    if env is not None:
        parts = [p.strip() for p in env.split(",") if p.strip()]
        if all(p.isdigit() for p in parts):
            return [int(p) for p in parts if not found or int(p) in found]
    return found


@dataclass
class Request:
    """What one run asks for: a GPU from `gpus` shared by at most `per_gpu` runs, or a CPU slot when gpus is [].

    gpus_per_run > 1: a DDP run of that many processes (torchrun), one GPU each, every one of them
    counted against per_gpu; on the CPU, that many gloo processes in one CPU slot, sharing its threads.
    """

    gpus: list[int] = field(default_factory=list)
    per_gpu: int = 1
    threads: int | None = None  # CPU runs: OMP/MKL threads per run
    gpus_per_run: int = 1

    @property
    def on_cpu(self) -> bool:
        return not self.gpus

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"gpus": list(self.gpus), "per_gpu": self.per_gpu, "threads": self.threads}
        if self.gpus_per_run > 1:
            out["gpus_per_run"] = self.gpus_per_run
        return out

    @classmethod
    def from_dict(cls, data: Any) -> Request:
        """Rebuild from status.json; a missing or odd entry gives the machine's default."""
        if not isinstance(data, dict):
            return make_request(None, None)
        gpus = [int(g) for g in data.get("gpus") or [] if isinstance(g, int)]
        per_gpu = data.get("per_gpu") if isinstance(data.get("per_gpu"), int) and data["per_gpu"] > 0 else None
        threads = data.get("threads") if isinstance(data.get("threads"), int) else None
        if per_gpu is None:
            per_gpu = 1 if gpus else default_cpu_slots()
        n = data.get("gpus_per_run")
        n = n if isinstance(n, int) and n > 0 else 1
        return cls(gpus=gpus, per_gpu=per_gpu, threads=threads if not gpus else None, gpus_per_run=n)


def make_request(
    gpus: list[int] | None, per_gpu: int | None, device: str = "auto", gpus_per_run: int = 1
) -> Request:
    """Check --gpus/--per-gpu/--gpus-per-run against what the probe sees and return the run's Request."""
    if per_gpu is not None and per_gpu < 1:
        raise LaunchError(f"--per-gpu {per_gpu} must be at least 1")
    if gpus_per_run < 1:
        raise LaunchError(f"--gpus-per-run {gpus_per_run} must be at least 1")
    if device == "cpu":
        gpus = []
    available = visible_gpus()
    if gpus is None:
        gpus = available
    elif gpus:
        if not available:
            reason = nvml_error() or "no GPU found"
            raise LaunchError(
                f"--gpus {','.join(map(str, gpus))} asked for GPUs but none is visible ({reason}); drop --gpus to run on the CPU"
            )
        missing = [g for g in gpus if g not in available]
        if missing:
            raise LaunchError(
                f"GPU {', '.join(map(str, missing))} is not visible; GPUs here: {', '.join(map(str, available))} (see `simsiam-tui gpus`)"
            )
    if not gpus:
        slots = per_gpu or default_cpu_slots()
        return Request(gpus=[], per_gpu=slots, threads=cpu_threads(slots), gpus_per_run=gpus_per_run)
    if gpus_per_run > len(gpus):
        raise LaunchError(
            f"--gpus-per-run {gpus_per_run} needs {gpus_per_run} GPUs but only {len(gpus)} are allowed "
            f"({','.join(map(str, gpus))})"
        )
    return Request(gpus=list(gpus), per_gpu=per_gpu or 1, gpus_per_run=gpus_per_run)


def pick_slot(request: Request, occupancy: dict[int | None, int]) -> tuple[bool, int | None]:
    """(fits, gpu): where the run fits now, the least used allowed GPU first; gpu None means the CPU."""
    fits, gpus = pick_slots(request, occupancy)
    return fits, (gpus[0] if gpus else None)


def pick_slots(request: Request, occupancy: dict[int | None, int]) -> tuple[bool, list[int] | None]:
    """(fits, gpus): the request's gpus_per_run least used allowed GPUs with room, or None for the CPU."""
    if request.on_cpu:
        return occupancy.get(None, 0) < request.per_gpu, None
    free = [g for g in request.gpus if occupancy.get(g, 0) < request.per_gpu]
    if len(free) < request.gpus_per_run:
        return False, None
    chosen = sorted(free, key=lambda g: (occupancy.get(g, 0), request.gpus.index(g)))[: request.gpus_per_run]
    return True, sorted(chosen)
