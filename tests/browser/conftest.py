"""Browser tests: the app served on loopback, driven by Debian's headless Chromium via Playwright.

Playwright's own browser download is never used; `/usr/bin/chromium` comes from apt (`.ci/run`).
Where it is missing the tests skip with a message, except in CI (CI=true), where they fail.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from shared.extensions import db

CHROMIUM = "/usr/bin/chromium"
LAUNCH_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SCREENSHOTS = Path(os.environ.get("SCREENSHOT_DIR", "test-results"))


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/browser/" in str(item.fspath):
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).exists():
        if os.environ.get("CI"):
            pytest.fail(f"{CHROMIUM} is missing in CI: .ci/run installs it with apt-get")
        pytest.skip(f"{CHROMIUM} is missing: `apt-get install chromium` to run the browser tests")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(locale="en-US")
    page = context.new_page()
    page.set_default_timeout(10_000)
    yield page
    context.close()


class LiveServer:
    def __init__(self, app, port: int) -> None:
        self.app = app
        self.port = port

    def console(self, path: str = "/") -> str:
        return f"http://localhost:{self.port}{path}"

    def portal(self, slug: str, path: str = "/") -> str:
        return f"http://{slug}.localhost:{self.port}{path}"


@pytest.fixture
def live_server(make_app) -> Iterator[LiveServer]:
    """The app on 127.0.0.1 and a free port, in a thread, on its own fresh database."""
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    app = make_app(CONSOLE_HOST=f"localhost:{port}", PORTAL_DOMAIN=f"localhost:{port}")
    server = make_server("127.0.0.1", port, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield LiveServer(app, port)
    finally:
        server.shutdown()
        thread.join(timeout=5)
        with app.app_context():
            db.engine.dispose()


def screenshot(page, name: str) -> None:
    """Keep a picture of what a person would see, for reading after a run."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)
