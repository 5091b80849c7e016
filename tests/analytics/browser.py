"""Headless Chromium (Debian's `chromium` package), driven over the DevTools protocol.

`evaluate_page(url, expression)` opens a page in a fresh browser profile, waits for it to load
and returns the value of a JavaScript expression evaluated in it. The browser starts with no
network features of its own (sync, component updates, background fetches) and is killed after.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

import aiohttp

FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--remote-debugging-port=0",
)
START_TIMEOUT_SECONDS = 60
GONE_TIMEOUT_SECONDS = 5


class BrowserUnavailable(AssertionError):
    """No chromium to run; the message says how to install it."""


def chromium_executable() -> str:
    found = shutil.which("chromium")
    if not found:
        raise BrowserUnavailable(
            "chromium not found: run `make test`, which installs Debian's chromium package"
        )
    return found


def _devtools_port(profile: Path, browser: subprocess.Popen[bytes]) -> int:
    """Chromium writes the port it chose to DevToolsActivePort in its profile."""
    marker = profile / "DevToolsActivePort"
    deadline = time.monotonic() + START_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if marker.exists() and marker.read_text().strip():
            return int(marker.read_text().splitlines()[0])
        if browser.poll() is not None:
            raise BrowserUnavailable(f"chromium exited {browser.returncode} on start")
        time.sleep(0.1)
    raise BrowserUnavailable("chromium did not open its DevTools port in time")


async def _evaluate(port: int, url: str, expression: str) -> Any:
    async with aiohttp.ClientSession() as session:
        async with session.put(f"http://127.0.0.1:{port}/json/new?about:blank") as answer:
            target = await answer.json(content_type=None)
        async with session.ws_connect(target["webSocketDebuggerUrl"], max_msg_size=0) as ws:
            ids = iter(range(1, 1_000_000))

            async def call(method: str, **params: Any) -> dict[str, Any]:
                number = next(ids)
                await ws.send_str(json.dumps({"id": number, "method": method, "params": params}))
                async for message in ws:
                    data = json.loads(message.data)
                    if data.get("id") == number:
                        if "error" in data:
                            raise AssertionError(f"{method}: {data['error']}")
                        return data["result"]
                    if data.get("method") == "Page.loadEventFired":
                        loaded.set()
                raise AssertionError(f"the browser closed the connection during {method}")

            loaded = asyncio.Event()
            await call("Page.enable")
            await call("Page.navigate", url=url)
            while not loaded.is_set():
                message = await ws.receive(timeout=START_TIMEOUT_SECONDS)
                if json.loads(message.data).get("method") == "Page.loadEventFired":
                    loaded.set()
            result = await call("Runtime.evaluate", expression=expression, returnByValue=True)
            if "exceptionDetails" in result:
                raise AssertionError(f"the expression failed: {result['exceptionDetails']}")
            return result["result"].get("value")


def evaluate_page(url: str, expression: str) -> Any:
    """The value of `expression` in the page at `url`, once it has loaded."""
    with tempfile.TemporaryDirectory(prefix="chromium-profile-") as profile:
        browser = subprocess.Popen(
            [chromium_executable(), *FLAGS, f"--user-data-dir={profile}", "about:blank"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        try:
            port = _devtools_port(Path(profile), browser)
            return asyncio.run(_evaluate(port, url, expression))
        finally:
            _kill_group(browser)


def _kill_group(browser: subprocess.Popen[bytes]) -> None:
    """Kill Chromium with its helpers (renderers, crash handler): they write to the profile
    too, which could not be removed while one still ran."""
    os.killpg(browser.pid, signal.SIGKILL)
    browser.wait()
    deadline = time.monotonic() + GONE_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        try:
            os.killpg(browser.pid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.05)
