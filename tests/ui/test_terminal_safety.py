"""Text planted in a run folder is shown in the app with its control characters escaped, never sent raw."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from rich.text import Text

from simsiam_tui.ui.layout import LAYOUT_FILE
from simsiam_tui.ui.screens.confirm import ConfirmScreen
from tests.ui.conftest import loaded, make_app, wait_until
from tests.ui.fixtures import write_run

HOSTILE = "\x1b[2J\x1b]0;pwned\x07"  # clear the screen, retitle the window, ring the bell
SHOWN = "\\x1b[2J\\x1b]0;pwned\\x07"
RAW = ("\x1b", "\x07", "\x9b", "\r", "\u202e")
ID = "20260101-000000-simsiam-a1b2"


def _clean(text: str) -> bool:
    return not any(c in text for c in RAW)


def _plain(widget: Any) -> str:
    content = widget.content
    return content.plain if isinstance(content, Text) else str(content)


def _hostile_root(tmp_path: Path) -> tuple[Path, Path]:
    root = tmp_path / "runs"
    paths = write_run(root, ID, "simsiam", 2.0, state="stopped")
    status = json.loads(paths.status.read_text())
    status.update(message=f"stopped: {HOSTILE}", name=f"evil{HOSTILE}")
    paths.status.write_text(json.dumps(status))
    config = json.loads(paths.config.read_text())
    config["group"] = f"g\u202e{HOSTILE}"  # shown on the Config tab
    paths.config.write_text(json.dumps(config))
    with paths.log.open("a") as fh:
        fh.write(f"step 80 {HOSTILE} \u202eevil\x9b2J\r\n")
    # a layout naming a metric that is none: its notice quotes the name, as a toast
    (root / LAYOUT_FILE).write_text(json.dumps({"charts": [{"metric": f"nope{HOSTILE}/x"}]}))
    return root, paths.dir


async def test_run_folder_text_is_escaped_in_table_panels_toasts_and_dialogs(tmp_path, backend):
    root, run_dir = _hostile_root(tmp_path)
    app = make_app([root], backend)
    async with app.run_test(size=(140, 44)) as pilot:
        await wait_until(pilot, loaded(app, 1))
        row = [c.plain if isinstance(c, Text) else str(c) for c in app.table.get_row(str(run_dir))]
        assert f"evil{SHOWN}" in row and all(_clean(c) for c in row)
        details = app.details
        await wait_until(pilot, lambda: "step 80" in _plain(details.log_view))
        assert f"step 80 {SHOWN} \\u202eevil\\x9b2J" in _plain(details.log_view).splitlines()
        await pilot.click("#--content-tab-tab-run")
        await wait_until(pilot, lambda: "pwned" in _plain(details.info_view))
        assert f"stopped: {SHOWN}" in _plain(details.info_view) and _clean(_plain(details.info_view))
        await pilot.click("#--content-tab-tab-config")
        await wait_until(pilot, lambda: "pwned" in _plain(details.config_view))
        assert f"group g\\u202e{SHOWN}" in _plain(details.config_view) and _clean(_plain(details.config_view))
        notices = [n.message for n in app._notifications]
        assert any(f"nope{SHOWN}/x" in n for n in notices) and all(_clean(n) for n in notices)
        app.notify(f"quoting a file: {HOSTILE}")  # any toast, whatever it quotes
        assert _clean(list(app._notifications)[-1].message)
        await pilot.press("d")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        question = _plain(app.screen.query_one("#question"))
        assert f"evil{SHOWN}" in question and _clean(question)
        assert _clean(app.export_screenshot())  # the whole screen, dialog and all
        await pilot.press("n")
