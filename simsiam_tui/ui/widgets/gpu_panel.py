"""The GPU panel: local GPUs from the probe as sparklines, and the `system` events of runs on other hosts."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from rich.text import Text
from textual.widgets import Static

from simsiam_tui.ui.poller import GpuTrace

BARS = "▁▂▃▄▅▆▇█"


def sparkline(values: Iterable[float | None], width: int, top: float = 100.0) -> str:
    """The last `width` values as bar characters (a space where a value is unknown)."""
    points = list(values)[-width:]
    out = []
    for v in points:
        if v is None or v != v:
            out.append(" ")
        else:
            out.append(BARS[max(0, min(len(BARS) - 1, int(v / top * (len(BARS) - 1) + 0.5)))])
    return "".join(out).rjust(width)


def _gb(mb: Any) -> str:
    return f"{mb / 1024:.1f}" if isinstance(mb, (int, float)) else "?"


def _pct(value: Any) -> str:
    return f"{value:3.0f}%" if isinstance(value, (int, float)) else "  ?%"


def render_gpus(
    traces: list[GpuTrace],
    note: str | None,
    probed: bool,
    remote: Sequence[tuple[str, str, dict[str, Any], Sequence[float | None]]],
    width: int,
) -> Text:
    """The panel's text: one block per local GPU, a plain line when there are none, then remote runs."""
    spark_w = min(60, max(8, width - 12))
    text = Text()
    if not probed:
        text.append("probing GPUs…\n", style="dim")
    elif not traces:
        text.append("no GPUs on this machine", style="bold")
        text.append(f"\n{note}\n" if note else " (runs use the CPU)\n", style="dim")
    for trace in traces:
        last = trace.last
        text.append(f"GPU{trace.index} ", style="bold")
        text.append(f"{trace.name[: max(0, width - 6)]}\n", style="dim")
        text.append(f" util {_pct(last.get('util_pct'))} ")
        text.append(sparkline(trace.util, spark_w) + "\n", style="green")
        mem = f" mem {_gb(last.get('mem_used_mb'))}/{_gb(last.get('mem_total_mb'))} GB"
        text.append(mem + "\n")
        text.append("          " + sparkline(trace.mem, spark_w) + "\n", style="magenta")
    for label, host, last, utils in remote:
        text.append(f"{label}", style="bold")
        text.append(f" @ {host}\n", style="dim")
        gpu = last.get("gpu_util_pct")
        if gpu is not None or last.get("gpu_mem_used_mb") is not None:
            text.append(f" gpu{last.get('gpu_index', '')} {_pct(gpu)} ")
            text.append(sparkline(utils, spark_w) + "\n", style="green")
            text.append(f" mem {_gb(last.get('gpu_mem_used_mb'))}/{_gb(last.get('gpu_mem_total_mb'))} GB\n")
        cpu, rss = last.get("proc_cpu_pct", last.get("cpu_pct")), last.get("rss_mb")
        if cpu is not None or rss is not None:
            text.append(f" cpu {_pct(cpu)}  rss {_gb(rss)} GB\n", style="dim")
    return text


class GpuPanel(Static):
    """Static text redrawn when the probe or a remote run's `system` events change."""

    DEFAULT_CSS = """
    GpuPanel { height: auto; max-height: 50%; padding: 0 1; }
    """
