"""`simsiam-tui gpus`: what the probe sees (GPUs, their processes, and the host)."""

from __future__ import annotations

import os

from rich.table import Table

from simsiam_tui.cli.common import JsonOption, console, print_json, user_errors
from simsiam_tui.launch import default_cpu_slots
from simsiam_tui.probe import gpu_snapshot, host_snapshot, nvml_error, probe_errors


def _fmt(value: object, spec: str = ".0f") -> str:
    return "-" if value is None else format(value, spec)


@user_errors
def gpus(as_json: bool = JsonOption) -> None:
    """Show each GPU's utilization, memory and processes, and the host's CPU and memory."""
    snapshot = gpu_snapshot()
    host = host_snapshot()
    if as_json:
        print_json(
            {
                "gpus": snapshot, "host": host, "nvml_error": nvml_error(), "probe_errors": probe_errors(),
                "cpu_slots": default_cpu_slots(),
            }
        )  # fmt: skip
        return
    if snapshot:
        table = Table(title="GPUs")
        for col in ("index", "name", "util %", "memory used / total (MiB)", "processes (pid: MiB)"):
            table.add_column(col)
        for gpu in snapshot:
            procs = ", ".join(f"{p['pid']}: {_fmt(p['mem_used_mb'])}" for p in gpu["processes"]) or "-"
            memory = f"{_fmt(gpu['mem_used_mb'])} / {_fmt(gpu['mem_total_mb'])}"
            table.add_row(str(gpu["index"]), str(gpu["name"]), _fmt(gpu["util_pct"]), memory, procs)
        console.print(table)
        for what, message in probe_errors().items():  # e.g. a GPU that fell off the bus: said, not hidden
            console.print(f"{what}: not readable ({message})", highlight=False)
    else:
        console.print(f"no NVIDIA GPU visible ({nvml_error() or 'none found'}); runs use the CPU", highlight=False)
    console.print(
        f"host: {os.cpu_count()} cores, CPU {_fmt(host['cpu_pct'])}%, memory {_fmt(host['mem_used_mb'])} / "
        f"{_fmt(host['mem_total_mb'])} MiB; CPU runs at once by default: {default_cpu_slots()}",
        highlight=False,
    )
