"""Text is text: no binding's description, palette entry or help line is read as markup by accident."""

from __future__ import annotations

from rich.console import Console
from rich.text import Text
from textual.binding import Binding
from textual.command import CommandList
from textual.content import Content

from simsiam_tui.ui.app import SimsiamApp
from simsiam_tui.ui.screens.chart_picker import ChartPicker
from simsiam_tui.ui.screens.confirm import ConfirmScreen
from simsiam_tui.ui.screens.export import ExportScreen
from simsiam_tui.ui.screens.help import KEYS, HelpScreen, help_text
from simsiam_tui.ui.screens.launch import LaunchScreen
from simsiam_tui.ui.widgets.charts import ChartsPanel, MetricChart
from simsiam_tui.ui.widgets.details import DetailsPanel
from simsiam_tui.ui.widgets.quantile_chart import QuantileChart
from simsiam_tui.ui.widgets.runs_table import RunsTable
from tests.ui.conftest import FakeBackend, make_app, wait_until

CLASSES = (
    SimsiamApp,
    RunsTable,
    MetricChart,
    QuantileChart,
    ChartsPanel,
    DetailsPanel,
    LaunchScreen,
    ChartPicker,
    ConfirmScreen,
    ExportScreen,
    HelpScreen,
)


def bindings() -> list[Binding]:
    """Every binding of the app, its widgets and its screens, inherited ones included."""
    found = []
    for cls in CLASSES:
        for base in cls.__mro__:
            found += list(Binding.make_bindings(base.__dict__.get("BINDINGS", [])))
    return found


def test_every_binding_description_is_plain_text() -> None:
    """The footer and the key panel (ctrl+p, Keys) render descriptions and tooltips as markup."""
    texts = [t for b in bindings() for t in (b.description, b.tooltip) if t]
    assert "Cursor left" in texts and "Log y (on a focused chart)" in texts
    for text in texts:
        assert Content.from_markup(text).plain == text, text
        assert Text.from_markup(text).plain == text, text


def test_help_keys_keep_their_brackets() -> None:
    console = Console(width=200, record=True)
    console.print(help_text())
    shown = console.export_text()
    for key, what in KEYS:
        assert key in shown and what.split(" ")[0] in shown
    assert "c [ ]" in shown


async def test_every_palette_entry_reads_as_written(tmp_path) -> None:
    """`Read every run's value at one x ([ and ] move it)` lost its brackets to the palette's markup parser."""
    app = make_app([tmp_path], FakeBackend())
    async with app.run_test(size=(120, 40)) as pilot:
        own = list(app.palette_entries())
        commands = {c.title: c.help for c in app.get_system_commands(app.screen)}
        for title, help_text_, _ in own:
            assert "[" not in title
            assert Content.from_markup(commands[title]).plain == help_text_, title
        await pilot.press("ctrl+p")
        await pilot.press(*"cursor")
        shown = app.screen.query_one(CommandList)
        await wait_until(pilot, lambda: shown.option_count > 0)
        prompts = [str(shown.get_option_at_index(i).prompt) for i in range(shown.option_count)]
        assert any("([ and ] move it)" in p for p in prompts), prompts
