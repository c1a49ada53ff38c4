"""Driving the web console in headless Chromium (the `browser` and `page` fixtures are in conftest.py):
signing in and out, and screenshots kept under var/test-artifacts/ (ignored by git, kept by CI's workspace)."""

from __future__ import annotations

import shutil
from pathlib import Path

from playwright.sync_api import Page, expect

from api.demo import DEMO_PASSWORD
from tests.integration.support import REPO

ARTIFACTS = REPO / "var" / "test-artifacts"


def artifacts(name: str) -> Path:
    """An empty directory var/test-artifacts/<name>/ for one module's screenshots."""
    path = ARTIFACTS / name
    shutil.rmtree(path, ignore_errors=True)
    path.mkdir(parents=True)
    return path


def shot(page: Page, shots: Path, name: str) -> None:
    path = shots / f"{name}.png"
    page.screenshot(path=path, full_page=True)
    print(f"screenshot: {path}")


def sign_in(page: Page, user: str, password: str = DEMO_PASSWORD) -> None:
    page.locator("#login-username").fill(user)
    page.locator("#login-password").fill(password)
    page.locator("#login-submit").click()


def sign_out(page: Page) -> None:
    page.get_by_test_id("logout").click()
    expect(page.locator("#login-form")).to_be_visible()
