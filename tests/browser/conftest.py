"""Headless Chromium (Debian's /usr/bin/chromium) driven by Playwright, against a live test server."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

CHROMIUM = os.environ.get("CHROMIUM", shutil.which("chromium") or "/usr/bin/chromium")
# Playwright's sync API runs an event loop in the test thread; the ORM calls the tests make there are safe.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


@pytest.fixture(scope="session")
def browser():
    sync_api = pytest.importorskip("playwright.sync_api")
    if not Path(CHROMIUM).exists():
        if os.environ.get("CI"):
            pytest.fail(f"CI must run the browser tests, but there is no Chromium at {CHROMIUM}")
        pytest.skip(f"no Chromium at {CHROMIUM} (apt-get install chromium)")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True,
            args=["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync"])
        yield browser
        browser.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture
def login(page, live_server):
    """``login(role, path, username=...)``: creates a user with that role, opens ``path`` and logs in through
    the login page it redirects to; returns the page."""
    from django.urls import get_resolver

    from ukbstudy.accounts.services import user_create

    # The live server's first request imports every app's views (PyTorch, Plotly, statsmodels, SimpleITK): on a
    # loaded machine that took longer than the browser's 30 s navigation timeout (page.goto failed at random).
    # The server runs in this process, so loading the URLconf here first takes that cost out of the request.
    get_resolver().url_patterns  # noqa: B018

    def log_in(role: str, path: str, *, username: str = "") -> object:
        user = user_create(username=username or f"{role}-user", password="a-long-password-1", role=role)
        page.goto(f"{live_server.url}{path}")
        page.fill("#id_username", user.username)
        page.fill("#id_password", "a-long-password-1")
        with page.expect_navigation():
            page.keyboard.press("Enter")
        return page

    return log_in
