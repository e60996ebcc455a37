"""Write docs/app.svg, the README's picture: the app on the stop-grad suite fixtures.

.venv/bin/python -m tests.ui.make_screenshot [docs/app.svg]
"""

from __future__ import annotations

import asyncio
import os
import sys
import tempfile
from pathlib import Path

from tests.ui.conftest import FakeBackend, loaded, make_app, wait_until
from tests.ui.fixtures import stop_grad_suite


async def shoot(out: Path, size: tuple[int, int] = (140, 42)) -> None:
    """Run the app headless on fresh fixtures and save its screen as SVG."""
    with tempfile.TemporaryDirectory() as tmp:
        here = Path.cwd()
        os.chdir(tmp)
        try:
            stop_grad_suite(Path("runs"))
            app = make_app(["runs"], FakeBackend())
            async with app.run_test(size=size) as pilot:
                await wait_until(pilot, loaded(app, 2))
                await wait_until(pilot, lambda: app.poller.gpus_probed and app.details.lines)
                app.refresh_gpu_panel()
                await pilot.pause(0.3)
                svg = app.export_screenshot(title="simsiam-tui: the stop-grad suite")
        finally:
            os.chdir(here)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(svg)
    print(out)


if __name__ == "__main__":
    asyncio.run(shoot(Path(sys.argv[1] if len(sys.argv) > 1 else "docs/app.svg")))
