"""Fixtures for the tests that drive a real Chromium (imported by ``tests/conftest.py``).

- ``live_server``: the test application on a real HTTP server (werkzeug, a
  thread, 127.0.0.1 on a free port), on the ``committed_db`` database, so what
  a test commits is what the browser sees. Its URL, without a trailing slash.
- ``browser``: one headless Chromium for the whole session (starting it costs
  about a second); ``/usr/bin/chromium`` from Debian, never a downloaded build.
  Without Playwright or Chromium the tests are skipped, or fail under
  ``UNDERSIGN_REQUIRE_SERVICES=1`` (CI).
- ``phone``: a fresh page (its own cookies) on a 375 × 800 screen that collects
  console errors and uncaught script errors (CSP violations land there) in
  ``page.problems``.
"""

from __future__ import annotations

import contextlib
import threading
from typing import Any, Iterator

import pytest
from werkzeug.serving import make_server

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-background-networking", "--disable-component-update", "--disable-gpu"]
PHONE = {"width": 375, "height": 800}

# Form controls that a screen reader could not name: neither a <label> nor an aria-label.
UNLABELLED_CONTROLS = """
() => [...document.querySelectorAll('input, select, textarea')]
  .filter(el => el.type !== 'hidden' && !el.closest('[aria-hidden="true"]'))
  .filter(el => !(el.labels && el.labels.length) && !el.getAttribute('aria-label'))
  .map(el => el.name || el.id || el.outerHTML)
"""


def browser_tests_last(items: list[pytest.Item]) -> None:
    """Run the browser tests after all the others (called from ``pytest_collection_modifyitems``).

    While Playwright's sync API is started, the main thread reports a running
    asyncio loop, so ``asyncio.run()`` (and anything built on it) would fail in
    a test that happened to run after the session's browser was opened.
    """
    items.sort(key=lambda item: item.get_closest_marker("browser") is not None)


@contextlib.contextmanager
def serving(app: Any) -> Iterator[str]:
    """``app`` served by werkzeug's threaded server on 127.0.0.1:<free port>; yields its address."""
    from tests.conftest import free_port

    server = make_server("127.0.0.1", free_port(), app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


@pytest.fixture
def live_server(app, committed_db) -> Iterator[str]:  # type: ignore[no-untyped-def]
    """The app served from a thread; stopped before ``committed_db`` empties the tables."""
    with serving(app) as address:
        yield address


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """Headless Chromium, shared by the session's browser tests (each opens its own pages)."""
    from tests.conftest import need_service

    try:
        from playwright.sync_api import sync_playwright
    except ImportError as exc:  # pragma: no cover - Playwright is a test dependency
        need_service("Playwright", str(exc))
    try:
        playwright = sync_playwright().start()
    except Exception as exc:  # noqa: BLE001
        need_service("Playwright", str(exc).splitlines()[0])
    try:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
    except Exception as exc:  # noqa: BLE001 - not installed, or cannot start here
        playwright.stop()
        need_service("Chromium", str(exc).splitlines()[0])
    try:
        yield chromium
    finally:
        chromium.close()
        playwright.stop()


@pytest.fixture
def phone(browser) -> Iterator[Any]:  # type: ignore[no-untyped-def]
    """A new page on a phone-sized screen; ``page.problems`` lists its console and script errors."""
    page = browser.new_page(viewport=PHONE, device_scale_factor=1)
    problems: list[str] = []
    page.on("console", lambda message: problems.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda exc: problems.append(str(exc)))
    page.problems = problems
    try:
        yield page
    finally:
        page.context.close()
