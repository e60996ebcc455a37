"""Slots: which GPUs (or the CPU) a run may use and how many runs share each; parsing --gpus and --per-gpu."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

from simsiam_tui.launch.errors import LaunchError
from simsiam_tui.probe import gpu_snapshot, nvml_error

CPU_SLOTS_ENV = "SIMSIAM_TUI_CPU_SLOTS"
# The launch limits, the same ranges as store.schema.RequestRecord: no real machine reaches them, and a
# queued run's request (status.json, shared folder) is re-checked against them before it starts.
MAX_PER_GPU = 64
MAX_GPUS_PER_RUN = 64
MAX_THREADS = 1024
MAX_GPU_INDEX = 1023


def check_range(flag: str, value: int, low: int, high: int) -> int:
    """`value` when low <= value <= high, else a one-line LaunchError naming the flag and the range."""
    if value < low:
        raise LaunchError(f"{flag} {value} must be at least {low}")
    if value > high:
        raise LaunchError(f"{flag} {value} must be at most {high}")
    return value


def _bounded(value: Any, low: int, high: int) -> int | None:
    """An int from status.json within [low, high], else None (the caller's default)."""
    ok = isinstance(value, int) and not isinstance(value, bool) and low <= value <= high
    return value if ok else None


def default_cpu_slots() -> int:
    """How many CPU runs may run at once by default: max(2, cores // 4), or $SIMSIAM_TUI_CPU_SLOTS."""
    env = os.environ.get(CPU_SLOTS_ENV, "")
    if env.isascii() and env.isdigit() and 0 < int(env) <= MAX_PER_GPU:
        return int(env)
    return min(MAX_PER_GPU, max(2, (os.cpu_count() or 2) // 4))


SCALE_ENV = "SIMSIAM_TUI_SCALE"


def machine_default_scale() -> str:
    """The scale a launch without --scale uses, the same in the CLI and the app: $SIMSIAM_TUI_SCALE, else
    `cifar10` where the probe sees a GPU and `digits` elsewhere."""
    return os.environ.get(SCALE_ENV) or ("cifar10" if visible_gpus() else "digits")


def cpu_threads(slots: int) -> int:
    """Threads per CPU run so that `slots` concurrent runs share the cores without oversubscribing them."""
    return min(MAX_THREADS, max(1, (os.cpu_count() or 1) // max(1, slots)))


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
        if not (part.isascii() and part.isdigit()):
            raise LaunchError(f"--gpus {text!r} is not a list of GPU indices like 0,2 (or 'cpu', 'all')")
        digits = part.lstrip("0") or "0"
        if len(digits) > len(str(MAX_GPU_INDEX)) or int(digits) > MAX_GPU_INDEX:  # int() of 5000 digits raises
            raise LaunchError(f"--gpus index {digits[:12]} must be at most {MAX_GPU_INDEX}")
        if int(digits) not in out:
            out.append(int(digits))
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
        listed = data.get("gpus")
        listed = listed if isinstance(listed, list) else []
        gpus = [g for g in listed if _bounded(g, 0, MAX_GPU_INDEX) is not None]
        per_gpu = _bounded(data.get("per_gpu"), 1, MAX_PER_GPU)
        threads = _bounded(data.get("threads"), 1, MAX_THREADS)
        if per_gpu is None:
            per_gpu = 1 if gpus else default_cpu_slots()
        n = _bounded(data.get("gpus_per_run"), 1, MAX_GPUS_PER_RUN) or 1
        return cls(gpus=gpus, per_gpu=per_gpu, threads=threads if not gpus else None, gpus_per_run=n)


def check_launch_numbers(per_gpu: int | None, gpus_per_run: int = 1) -> None:
    """--per-gpu and --gpus-per-run within the launch limits (a one-line LaunchError otherwise)."""
    if per_gpu is not None:
        check_range("--per-gpu", per_gpu, 1, MAX_PER_GPU)
    check_range("--gpus-per-run", gpus_per_run, 1, MAX_GPUS_PER_RUN)


def make_request(
    gpus: list[int] | None, per_gpu: int | None, device: str = "auto", gpus_per_run: int = 1
) -> Request:
    """Check --gpus/--per-gpu/--gpus-per-run against what the probe sees and return the run's Request."""
    check_launch_numbers(per_gpu, gpus_per_run)
    if device == "cpu":
        gpus = []
    available = visible_gpus()
    if device == "cuda" and not available:  # said now, before a run folder exists, not by a failed worker later
        reason = nvml_error() or "no GPU found"
        raise LaunchError(f"train.device=cuda but no GPU is visible ({reason}); use train.device=auto or cpu")
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
