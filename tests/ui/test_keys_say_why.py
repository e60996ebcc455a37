"""Every key says something: log-y on a negative loss says what it draws instead, `r` restores, and keys that
cannot act here (`p` on a wide terminal, `y` with no chart focused, `n` with every chart on screen) say why."""

from __future__ import annotations

from typing import Any

from simsiam_tui.ui.widgets.charts import MetricChart
from tests.ui.conftest import loaded, make_app, wait_until


def _spy(app: Any) -> list[str]:
    said: list[str] = []
    real = app.notify

    def notify(message: str, **kwargs: Any) -> None:
        said.append(message)
        real(message, **kwargs)

    app.notify = notify
    return said


async def test_log_y_on_a_negative_loss_draws_a_symmetric_log_and_r_restores(suite_root, backend):
    app = make_app([suite_root], backend)
    async with app.run_test(size=(140, 44)) as pilot:
        await wait_until(pilot, loaded(app, 3))
        said = _spy(app)
        loss = app.query_one("#chart-loss", MetricChart)
        loss.focus()  # as a click or tab does (test_explore clicks)
        await wait_until(pilot, lambda: app.focused is loss)
        await pilot.press("y")
        await wait_until(pilot, lambda: loss.log_y)
        await wait_until(pilot, lambda: loss.scale == "symlog" and app.charts_current)
        assert loss.lines and "symlog" in str(loss.border_title)  # every run still drawn
        assert any("values <= 0" in s and "symmetric log" in s for s in said), said
        await pilot.press("r")
        await wait_until(pilot, lambda: loss.scale == "linear" and not loss.log_y and app.charts_current)
        assert str(loss.border_title) == "loss"


async def test_keys_that_cannot_act_say_why(suite_root, backend):
    app = make_app([suite_root], backend)
    async with app.run_test(size=(140, 44)) as pilot:
        await wait_until(pilot, loaded(app, 3))
        said = _spy(app)
        assert app.focused is app.table
        for key, words in (("p", "narrow terminal"), ("y", "focused chart"), ("n", "every chart is on screen")):
            await pilot.press(key)
            await wait_until(pilot, lambda words=words: any(words in s for s in said))
        assert len(said) == 3


async def test_selecting_in_an_empty_table_says_so(tmp_path, backend):
    app = make_app([tmp_path], backend)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        said = _spy(app)
        await pilot.press("space", "a")
        await wait_until(pilot, lambda: len([s for s in said if "no run to select" in s]) == 2)
