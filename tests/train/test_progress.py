"""worker.log gets one line per epoch: epoch, step, loss, z_std/ref, effective rank, kNN, img/s and ETA."""

from __future__ import annotations

import io
import math

from simsiam_tui.train.progress import LoggedEvents, ProgressLog


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def _feed(log: ProgressLog, clock: Clock, epochs: int, steps_per_epoch: int = 10) -> None:
    log.observe("start", 0, 0.0, {"total_steps": epochs * steps_per_epoch})
    for e in range(1, epochs + 1):
        step = e * steps_per_epoch
        clock.now += 5.0  # 2 steps a second
        log.observe("train", step, float(e), {"loss": -0.1 * e, "z_std": 0.9 / math.sqrt(64), "z_std_ref": 1 / math.sqrt(64), "img_per_s": 128.0})  # fmt: skip
        log.observe("collapse", step, float(e), {"effective_rank": 30.0 - e})
        log.observe("system", step, float(e), {"cpu_pct": 100.0})
        log.observe("checkpoint", step, float(e), {"reason": "epoch"})
        if e % 2 == 0 or e == epochs:
            log.observe("eval", step, float(e), {"knn_top1": 0.5 + 0.01 * e})


def test_one_line_per_epoch_with_every_figure():
    out, clock = io.StringIO(), Clock()
    log = ProgressLog(epochs=3, knn_every=2, out=out, clock=clock)
    _feed(log, clock, 3)
    lines = out.getvalue().splitlines()
    assert len(lines) == 3
    first, second, third = (line.split(" ", 1)[1] for line in lines)  # drop the wall-clock stamp
    # epoch 1: no eval yet; 10 of 30 steps in 5 s -> 20 steps left at 2 steps/s = 10 s
    assert first == "epoch 1/3  step 10/30  loss -0.1000  z_std/ref 0.90  rank 29.0  kNN -  img/s 128  ETA 10s"
    # epoch 2 waits for its eval, so its kNN is on the line
    assert second == "epoch 2/3  step 20/30  loss -0.2000  z_std/ref 0.90  rank 28.0  kNN 0.520  img/s 128  ETA 5s"
    assert third.startswith("epoch 3/3  step 30/30") and "kNN 0.530" in third and third.endswith("ETA 0s")


def test_pending_epoch_printed_at_end_without_eval():
    out, clock = io.StringIO(), Clock()
    log = ProgressLog(epochs=4, knn_every=2, out=out, clock=clock)
    log.observe("start", 0, 0.0, {"total_steps": 40})
    clock.now += 1
    log.observe("train", 20, 2.0, {"loss": -0.5, "z_std": 0.1, "z_std_ref": 0.2, "img_per_s": 10.0})
    log.observe("checkpoint", 20, 2.0, {"reason": "epoch"})
    assert out.getvalue() == ""  # its eval is due
    log.observe("end", 20, 2.0, {"state": "stopped"})
    assert "epoch 2/4  step 20/40  loss -0.5000  z_std/ref 0.50" in out.getvalue()


def test_logged_events_print_only_where_events_are_written():
    class Writer:
        def __init__(self) -> None:
            self.events: list[str] = []

        def emit(self, kind: str, **fields: object) -> None:
            self.events.append(kind)

    out = io.StringIO()
    main = LoggedEvents(Writer(), ProgressLog(1, 1, out=out))
    main.emit("start", 0, 0.0, total_steps=5)
    main.emit("checkpoint", 5, 1.0, reason="epoch")
    main.emit("eval", 5, 1.0, knn_top1=0.4)
    assert main.writer.events == ["start", "checkpoint", "eval"]
    assert "epoch 1/1  step 5/5" in out.getvalue() and "kNN 0.400" in out.getvalue()
    other = io.StringIO()
    rank1 = LoggedEvents(None, ProgressLog(1, 1, out=other))  # a non-main DDP rank: no events, no lines
    rank1.emit("checkpoint", 5, 1.0, reason="epoch")
    assert other.getvalue() == ""
