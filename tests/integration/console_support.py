"""Driving the web console in headless Chromium (the `browser` and `page` fixtures are in conftest.py):
signing in and out, and screenshots kept under var/test-artifacts/ (ignored by git, kept by CI's workspace)."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

from playwright.sync_api import Browser, Page, expect

from api.demo import DEMO_PASSWORD
from tests.integration.support import REPO

ARTIFACTS = REPO / "var" / "test-artifacts"

# How long a browser expectation waits for the console to get there: a bound, not a measurement. The
# default 5 s was too short on a loaded 2-core CI machine (a live update is a poll, a refetch and a redraw).
expect.set_options(timeout=15_000)


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


def console_page(browser: Browser, init_script: str = "", **options: object) -> Iterator[Page]:
    """A page in a new zh-CN context (Asia/Shanghai) that fails the test on any uncaught script error;
    `init_script` runs before the console's own, `options` go to the context (permissions, viewport...)."""
    context = browser.new_context(**{"viewport": {"width": 1440, "height": 900}, "locale": "zh-CN",
                                     "timezone_id": "Asia/Shanghai", **options})
    if init_script:
        context.add_init_script(init_script)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    yield page
    context.close()
    assert not errors, f"uncaught errors in the console's scripts: {errors}"


# An init script that records the console's desktop notifications and tones instead of showing them.
OBSERVE = """
window.__notes = [];
window.__asked = 0;
window.__tones = 0;
const Real = window.Notification;
class Observed {
  constructor(title, options) {
    window.__notes.push({ title, ...options });
    document.documentElement.dataset.notes = String(window.__notes.length);
  }
  static get permission() { return window.__permission || Real.permission; }
  static requestPermission() { window.__asked += 1; return Promise.resolve(Observed.permission); }
  close() {}
}
window.Notification = Observed;
const create = AudioContext.prototype.createOscillator;
AudioContext.prototype.createOscillator = function () {
  window.__tones += 1;
  document.documentElement.dataset.tones = String(window.__tones);
  return create.call(this);
};
"""


def expect_count(page: Page, what: str, n: int) -> None:
    """Wait until the init script has seen `n` notifications or tones (an attribute: the console's CSP
    refuses the eval that wait_for_function needs)."""
    expect(page.locator("html")).to_have_attribute(f"data-{what}", str(n))
