"""Short, fixed-width text for table cells: numbers, durations, progress, states and verdicts."""

from __future__ import annotations

from rich.text import Text

from simsiam_tui.store import Verdict

STATE_STYLES = {
    "running": "bold green",
    "starting": "green",
    "queued": "cyan",
    "finished": "blue",
    "stopped": "yellow",
    "failed": "bold red",
    "diverged": "bold red",
    "lost": "magenta",
    "corrupt": "bold red reverse",
}
VERDICT_STYLES = {
    "healthy": "green",
    "collapsing": "bold #ffb000",  # amber
    "collapsed": "bold white on #c0392b",  # red
    "unknown": "dim",
}
BADGES = {"healthy": "healthy", "collapsing": "collapsing", "collapsed": "COLLAPSED", "unknown": "-"}  # the verdict's words


def num(value: float | None, digits: int = 3) -> str:
    """A number with `digits` decimals, or a dash."""
    return "-" if value is None else f"{value:.{digits}f}"


def rate(value: float | None) -> str:
    """Images per second, compact."""
    if value is None:
        return "-"
    return f"{value / 1000:.1f}k" if value >= 10000 else f"{value:.0f}"


def duration(seconds: float | None) -> str:
    """1h02m, 4m05s, 12s, or a dash."""
    if seconds is None:
        return "-"
    s = int(round(seconds))
    if s >= 86400:
        return f"{s // 86400}d{s % 86400 // 3600:02d}h"
    if s >= 3600:
        return f"{s // 3600}h{s % 3600 // 60:02d}m"
    if s >= 60:
        return f"{s // 60}m{s % 60:02d}s"
    return f"{s}s"


def progress(epoch: float | None, epochs: int | None, width: int = 6) -> Text:
    """`[###...] 3.2/10`: a small bar and the epoch count."""
    if epoch is None:
        return Text(f"-/{epochs}" if epochs else "-", style="dim")
    if not epochs:
        return Text(f"{epoch:.1f}")
    frac = max(0.0, min(1.0, epoch / epochs))
    filled = int(round(frac * width))
    bar = Text("█" * filled, style="green") + Text("░" * (width - filled), style="dim")
    return bar + Text(f" {epoch:.1f}/{epochs}")


def state(name: str, problem: str | None = None) -> Text:
    """The run state, coloured; a trailing `!` when something about the run could not be read."""
    text = Text(name, style=STATE_STYLES.get(name, ""))
    if problem and name != "corrupt":
        text.append("!", style="bold red")
    return text


def verdict(v: Verdict) -> Text:
    """The collapse badge: amber `collapsing`, red `COLLAPSED`."""
    return Text(BADGES.get(v.label, v.label), style=VERDICT_STYLES.get(v.label, ""))
