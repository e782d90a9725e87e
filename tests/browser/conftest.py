"""Playwright driving Debian's Chromium (/usr/bin/chromium) against a real live server.

Chromium is never downloaded. Without /usr/bin/chromium these tests are skipped, or
fail when KEHU_REQUIRE_CHROMIUM=1 (CI).
"""

import os
import re
from pathlib import Path

import pytest

from tests.conftest import PASSWORD, require_or_skip

CHROMIUM = Path("/usr/bin/chromium")
VENDOR = Path(__file__).resolve().parents[2] / "src" / "kehu" / "static" / "vendor"
ASYNC_UNSAFE = "DJANGO_ALLOW_ASYNC_UNSAFE"
TIMEOUT_MS = 15_000  # upper bound for auto-waiting, not a measured time


@pytest.fixture(scope="package")
def browser():
    require_or_skip(
        CHROMIUM.exists(), what=f"Chromium ({CHROMIUM})", variable="KEHU_REQUIRE_CHROMIUM"
    )
    missing = [n for n in ("htmx.min.js", "pico.min.css") if not (VENDOR / n).exists()]
    if missing:
        pytest.fail(f"front-end assets missing from {VENDOR}: {missing}; run `make setup`")
    from playwright.sync_api import expect, sync_playwright

    expect.set_options(timeout=TIMEOUT_MS)
    # Playwright's sync API keeps an asyncio loop in this thread, which makes Django refuse
    # the (synchronous) ORM calls tests make between browser steps. Allowed only while the
    # browser runs: set for the whole process it would leak into subprocesses such as
    # `manage.py check --deploy`, which rightly rejects it.
    previous = os.environ.get(ASYNC_UNSAFE)
    os.environ[ASYNC_UNSAFE] = "true"
    try:
        with sync_playwright() as playwright:
            chromium = playwright.chromium.launch(
                executable_path=str(CHROMIUM),
                headless=True,
                args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
            )
            yield chromium
            chromium.close()
    finally:
        if previous is None:
            os.environ.pop(ASYNC_UNSAFE, None)
        else:
            os.environ[ASYNC_UNSAFE] = previous


@pytest.fixture(autouse=True)
def _plain_static_files(settings):
    """{% static %} without a collectstatic manifest; the live server serves the files."""
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


def _context(browser, live_server, locale: str):
    context = browser.new_context(
        base_url=live_server.url, locale=locale, viewport={"width": 1280, "height": 900}
    )
    context.set_default_timeout(TIMEOUT_MS)
    return context


@pytest.fixture
def page(browser, live_server):
    """A fresh browser profile whose language is English."""
    context = _context(browser, live_server, "en-US")
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture
def page_zh(browser, live_server):
    """A fresh browser profile whose language is Chinese (as most kehu users' are)."""
    context = _context(browser, live_server, "zh-CN")
    page = context.new_page()
    yield page
    context.close()


def log_in(page, user, *, next_path: str = "/") -> None:
    """Signs in through the login form, as a person does."""
    page.goto(next_path)
    page.wait_for_url(re.compile(r"/accounts/login/"))
    page.locator("#id_username").fill(user.username)
    page.locator("#id_password").fill(PASSWORD)
    page.locator("main form button[type=submit]").click()
    page.wait_for_url(lambda url: "/accounts/login/" not in url)


def assert_htmx_loaded(page) -> None:
    assert page.evaluate("typeof window.htmx === 'object' && typeof htmx.ajax === 'function'"), (
        "htmx did not load in the browser"
    )


def mark_document(page) -> None:
    """Tags this document, so a full page load (which drops the tag) can be detected."""
    page.evaluate("window.__kehuSamePage = true")


def same_document(page) -> bool:
    return page.evaluate("window.__kehuSamePage === true")
