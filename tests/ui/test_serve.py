"""`simsiam-tui serve`: the app behind textual-serve answers on localhost, draws the runs table over its websocket
and takes keys; with Debian's chromium installed, a real headless browser loads it and a screenshot is saved."""

from __future__ import annotations

import asyncio
import base64
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.ui.fixtures import stop_grad_suite

ANSI = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b[@-_]")
pytest.importorskip("textual_serve")
aiohttp = pytest.importorskip("aiohttp")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def served(tmp_path: Path) -> Iterator[str]:
    """`simsiam-tui serve` on a free port over the stop-grad pair; yields its URL."""
    stop_grad_suite(tmp_path / "runs")
    port = free_port()
    log = (tmp_path / "serve.log").open("wb")
    server = subprocess.Popen(
        [sys.executable, "-m", "simsiam_tui.cli", "serve", "--port", str(port), "--runs", str(tmp_path / "runs")],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(url, timeout=2) as page:
                    assert page.status == 200 and b"textual" in page.read()
                break
            except OSError:
                assert server.poll() is None and time.monotonic() < deadline, (tmp_path / "serve.log").read_text()
                time.sleep(0.2)
        yield url
    finally:
        server.terminate()
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        log.close()


async def _screen_text(ws: object, until: str, timeout: float = 30.0) -> str:
    """Terminal output from the app's websocket, as text, until `until` shows (or the time is up)."""
    seen = ""
    deadline = time.monotonic() + timeout
    while until not in seen and time.monotonic() < deadline:
        try:
            message = await ws.receive(timeout=max(0.1, deadline - time.monotonic()))  # type: ignore[attr-defined]
        except asyncio.TimeoutError:
            break
        if message.type == aiohttp.WSMsgType.BINARY:
            seen += ANSI.sub("", message.data.decode("utf-8", "replace"))
        elif message.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED, aiohttp.WSMsgType.ERROR):
            break
    return seen


@pytest.mark.slow
def test_serve_runs_the_app_for_a_websocket_client(served: str) -> None:
    """What the browser's page does: open /ws, get the app's screen, send a key."""

    async def drive() -> None:
        async with aiohttp.ClientSession() as session:
            async with session.ws_connect(f"{served.replace('http', 'ws')}/ws?width=140&height=40") as ws:
                text = await _screen_text(ws, "no-stop-grad")
                assert "simsiam" in text and "no-stop-grad" in text and "COLLAPSED" in text  # the runs table
                await ws.send_json(["stdin", "?"])
                help_text = await _screen_text(ws, "command palette")
                assert "command palette" in help_text  # the help screen: the key reached the app
                await ws.send_json(["stdin", "q"])

    asyncio.run(drive())


class DevTools:
    """A headless chromium driven over the DevTools protocol (a websocket of JSON calls)."""

    def __init__(self, ws: object) -> None:
        self.ws, self.next_id = ws, 0

    async def call(self, method: str, **params: object) -> dict[str, object]:
        self.next_id += 1
        await self.ws.send_json({"id": self.next_id, "method": method, "params": params})  # type: ignore[attr-defined]
        while True:
            reply = json.loads((await self.ws.receive(timeout=30)).data)  # type: ignore[attr-defined]
            if reply.get("id") == self.next_id:
                assert "error" not in reply, reply
                return dict(reply.get("result", {}))

    async def text(self) -> str:
        """What the page's terminal was sent so far, as text (xterm paints a canvas: its text is not in the DOM)."""
        found = await self.call("Runtime.evaluate", expression="window.__screen || ''")
        result = found["result"]
        assert isinstance(result, dict)
        return ANSI.sub("", str(result.get("value", "")))

    async def screenshot(self, path: Path) -> bytes:
        shot = await self.call("Page.captureScreenshot", format="png")
        data = base64.b64decode(str(shot["data"]))
        path.write_bytes(data)
        return data

    async def key(self, text: str) -> None:
        """Type a key into the terminal (xterm reads keys from its hidden textarea: focus it first)."""
        await self.call("Runtime.evaluate", expression="document.querySelector('.xterm-helper-textarea').focus()")
        await self.call("Input.dispatchKeyEvent", type="keyDown", text=text, key=text)
        await self.call("Input.dispatchKeyEvent", type="keyUp", key=text)


CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
# Runs in the page before its own script: keeps a text copy of every byte the app's websocket brings to xterm.
RECORD_SCREEN = """
(() => {
  const Real = window.WebSocket, decoder = new TextDecoder();
  window.__screen = "";
  window.WebSocket = function (url, protocols) {
    const socket = new Real(url, protocols);
    socket.addEventListener("message", (e) => {
      if (typeof e.data !== "string") window.__screen += decoder.decode(e.data, {stream: true});
    });
    return socket;
  };
  window.WebSocket.prototype = Real.prototype;
})();
"""


@pytest.mark.slow
@pytest.mark.skipif(CHROMIUM is None, reason="no chromium (Debian: apt-get install chromium)")
def test_a_headless_browser_shows_the_runs_table(served: str, tmp_path: Path) -> None:
    """The page loads, the terminal shows the fixture runs, `?` opens the help; screenshots are kept
    ($SIMSIAM_TEST_ARTIFACTS, else the test's tmp folder)."""
    artifacts = Path(os.environ.get("SIMSIAM_TEST_ARTIFACTS", tmp_path))
    artifacts.mkdir(parents=True, exist_ok=True)
    profile = tmp_path / "chromium"
    browser = subprocess.Popen(
        [str(CHROMIUM), "--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run",
         f"--user-data-dir={profile}", "--remote-debugging-port=0", "--window-size=1400,900", "about:blank"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip

    async def drive() -> None:
        deadline = time.monotonic() + 30
        while not (profile / "DevToolsActivePort").exists():
            assert browser.poll() is None and time.monotonic() < deadline, "chromium did not start"
            await asyncio.sleep(0.1)
        port = (profile / "DevToolsActivePort").read_text().split()[0]
        async with aiohttp.ClientSession() as session:
            async with session.get(f"http://127.0.0.1:{port}/json/list") as listing:
                page = next(t for t in await listing.json() if t["type"] == "page")
            async with session.ws_connect(page["webSocketDebuggerUrl"], max_msg_size=0) as ws:
                tools = DevTools(ws)
                await tools.call("Page.enable")
                await tools.call("Page.addScriptToEvaluateOnNewDocument", source=RECORD_SCREEN)
                await tools.call("Page.navigate", url=served)
                shown = ""
                while "no-stop-grad" not in shown and time.monotonic() < deadline + 30:
                    await asyncio.sleep(0.5)
                    shown = await tools.text()
                first = await tools.screenshot(artifacts / "serve-runs-table.png")
                assert "simsiam" in shown and "no-stop-grad" in shown, shown[:500]
                await tools.key("?")
                while "command palette" not in shown and time.monotonic() < deadline + 45:
                    await asyncio.sleep(0.5)
                    shown = await tools.text()
                second = await tools.screenshot(artifacts / "serve-help.png")
                assert "command palette" in shown and first != second

    try:
        asyncio.run(drive())
    finally:
        browser.terminate()
        browser.wait(timeout=15)
