"""Browser tests: Playwright driving Debian's Chromium against a real server (gunicorn) and real
RQ workers. Screenshots of each page go to test-artifacts/screenshots/ (git-ignored)."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.support.processes import free_port

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--disable-quic", "--no-first-run"]


@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.fail(f"Chromium is missing at {CHROMIUM}: `make test` installs Debian's chromium package")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def web_app(make_app):
    """An app whose PLATFORM_HOST is a free loopback port, so that {slug}.localhost:PORT works."""
    port = free_port()
    app = make_app(PLATFORM_HOST=f"localhost:{port}")
    app.config["E2E_PORT"] = port
    return app


@pytest.fixture
def site(web_app, live_server):
    """A real gunicorn for web_app on its PLATFORM_HOST port; site.url(slug, path) builds URLs."""
    port = web_app.config["E2E_PORT"]
    server = live_server(web_app, workers=2, port=port)

    class Site:
        base_port = port

        @staticmethod
        def url(slug: str | None = None, path: str = "/") -> str:
            host = f"{slug}.localhost" if slug else "localhost"
            return f"http://{host}:{port}{path}"

    Site.server = server
    return Site


@pytest.fixture
def page(browser, request):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield page
    context.close()


@pytest.fixture
def screenshot(request):
    """screenshot(page, name): save a full-page PNG under test-artifacts/screenshots/."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)

    def take(page, name: str) -> Path:
        path = SCREENSHOTS / f"{request.node.name}-{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return take
