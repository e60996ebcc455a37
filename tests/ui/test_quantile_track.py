"""QuantileTrack reads only `start` and `collapse` lines, appended in pieces, resumes and odd lines included."""

from __future__ import annotations

from pathlib import Path

from simsiam_tui.store import encode_event
from simsiam_tui.ui.quantiles import QuantileTrack


def _collapse(step: int, q: list[float]) -> str:
    return encode_event("collapse", step, step / 10, {"std_quantiles": q, "effective_rank": 3.0}, now=1e9 + step)


def test_rows_in_file_order_across_appends_and_a_resume(tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl"
    head = encode_event("start", 0, 0.0, {}, now=1e9)
    trains = "".join(encode_event("train", s, s / 10, {"loss": -0.5}, now=1e9 + s) for s in range(1, 30))
    body = head + trains + _collapse(10, [0.1, 0.2]) + "garbage with \"collapse\"\n" + _collapse(20, [0.3, 0.4])
    last = _collapse(30, [0.5, 0.6])
    path.write_text(body + last[:25])  # a partial last line waits for its newline
    track = QuantileTrack(path)
    assert track.poll() and track.x["step"] == [10.0, 20.0] and track.rows == [[0.1, 0.2], [0.3, 0.4]]
    resume = encode_event("start", 15, 1.5, {"resumed_from_step": 15}, now=2e9)
    with path.open("a") as fh:
        fh.write(last[25:] + resume + trains + _collapse(25, [0.7, 0.8]))
    assert track.poll()
    assert track.x["step"] == [10.0, 25.0] and track.rows == [[0.1, 0.2], [0.7, 0.8]]  # 20 and 30 redone after 15
    assert track.origin == 1e9 and not track.poll()


def test_a_fifo_or_a_link_as_events_never_blocks_the_app_s_readers(tmp_path: Path) -> None:
    """The quantile track and the preview read through the store's opener: a planted FIFO is refused, not waited on."""
    import os

    from simsiam_tui.ui.fastread import preview_events

    fifo, link = tmp_path / "fifo.jsonl", tmp_path / "link.jsonl"
    os.mkfifo(fifo)
    (tmp_path / "real.jsonl").write_text(_collapse(10, [0.1, 0.2]))
    link.symlink_to(tmp_path / "real.jsonl")
    for path in (fifo, link):
        track = QuantileTrack(path)
        assert not track.poll() and track.rows == []
        assert preview_events(path, 1 << 20) == ([], 0)
