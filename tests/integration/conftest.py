"""Real components for integration tests: a Tansu broker per session, a fresh PostgreSQL
database per test, the worker as a separate `fengqiao worker` process, and Debian's Chromium
for the console."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, sync_playwright

from tests.conftest import leaked_phone, record_leak
from tests.integration.api_support import ApiUnderTest
from tests.integration.console_support import console_page
from tests.integration.support import REPO, fresh_database
from workers.broker import EmbeddedBroker, free_port


@pytest.fixture(scope="session")
def broker(tmp_path_factory) -> Iterator[EmbeddedBroker]:
    log = tmp_path_factory.mktemp("tansu") / "tansu.log"
    with EmbeddedBroker(log_path=log) as running:
        yield running


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A new empty PostgreSQL database, dropped afterwards."""
    with fresh_database() as url:
        yield url


@dataclass
class WorkerProcess:
    """A `fengqiao worker` child process with its own topics, group and data directory."""

    env: dict[str, str]
    log_path: Path
    prefix: str
    web_port: int
    process: subprocess.Popen | None = None

    def start(self) -> WorkerProcess:
        log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "workers", "worker"], env=self.env, stdout=log, stderr=subprocess.STDOUT,
            cwd=REPO,
        )
        return self

    def kill(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait()

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.kill()

    def metric(self, name: str, **labels: str) -> float:
        """Sum of a counter's samples matching `labels`, from the worker's /metrics."""
        with urllib.request.urlopen(f"http://127.0.0.1:{self.web_port}/metrics", timeout=5) as response:
            text = response.read().decode()
        total = 0.0
        for line in text.splitlines():
            if line.startswith(name + "{") and all(f'{k}="{v}"' in line for k, v in labels.items()):
                total += float(line.rsplit(" ", 1)[1])
        return total

    def wait_ready(self, timeout_s: float = 60) -> None:
        """Until the worker serves /metrics (it has loaded the bundle, migrated and joined)."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            try:
                self.metric("fengqiao_outbox_backlog")
                return
            except OSError:
                time.sleep(0.5)
        raise AssertionError(f"worker not serving after {timeout_s} s:\n{self.log_path.read_text(errors='replace')}")


@pytest.fixture
def make_worker(broker, tmp_path) -> Iterator:
    started: list[WorkerProcess] = []

    def make(database_url: str, prefix: str | None = None, **extra: str) -> WorkerProcess:
        """A worker with its own topics and group, or another member of `prefix`'s group."""
        prefix = prefix or f"t{uuid.uuid4().hex[:8]}."
        port = free_port()
        env = {
            **os.environ,
            "FENGQIAO_BOOTSTRAP_SERVERS": broker.bootstrap,
            "FENGQIAO_DATABASE_URL": database_url,
            "FENGQIAO_TOPIC_PREFIX": prefix,
            "FENGQIAO_GROUP_ID": f"{prefix}router",
            "FENGQIAO_DATA_DIR": str(tmp_path / f"data-{len(started)}"),
            "FENGQIAO_SESSION_TIMEOUT_S": "3",
            "FENGQIAO_HEARTBEAT_INTERVAL_S": "1",
            "FENGQIAO_WEB_PORT": str(port),
            "FENGQIAO_LOG_LEVEL": "INFO",
            **extra,
        }
        worker = WorkerProcess(env, tmp_path / f"worker-{len(started)}.log", prefix, port)
        started.append(worker)
        return worker

    yield make
    for worker in started:
        worker.stop()
        if worker.log_path.exists() and leaked_phone(worker.log_path.read_text(errors="replace")):
            record_leak(f"worker log {worker.log_path}")


@pytest.fixture
def api(pg_url) -> Iterator[ApiUnderTest]:
    """The API and console on a fresh PostgreSQL database with the demo users, served on a free port."""
    under_test = ApiUnderTest.start(pg_url)
    yield under_test
    under_test.stop()


@pytest.fixture(scope="module")
def module_api() -> Iterator[ApiUnderTest]:
    """One API server and database shared by a module whose tests each open the orders they need."""
    with fresh_database() as url:
        under_test = ApiUnderTest.start(url)
        try:
            yield under_test
        finally:
            under_test.stop()


CHROMIUM = Path("/usr/bin/chromium")


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """Debian's Chromium through Playwright, one per module; skipped where it is not installed."""
    if not CHROMIUM.exists():
        pytest.skip("Debian chromium is not installed at /usr/bin/chromium (make deb)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True,
                                             args=["--no-sandbox", "--disable-dev-shm-usage"])
        yield browser
        browser.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    """A fresh page in Chinese and Shanghai time; any uncaught script error fails the test."""
    yield from console_page(browser)
