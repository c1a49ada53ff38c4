"""Suite-wide guard: no log line of any test, nor of any worker a test started, holds a phone number."""

from __future__ import annotations

import re

import pytest

pytest_plugins = ["pytester"]

PHONE = re.compile(r"(?<!\d)(?:\+?86)?1[3-9]\d{9}(?!\d)")
_leaks: list[str] = []


def leaked_phone(text: str) -> bool:
    return PHONE.search(text) is not None


def record_leak(where: str) -> None:
    _leaks.append(where)


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    for section, content in report.sections:
        if ("log" in section or "stderr" in section) and leaked_phone(content):
            record_leak(f"{report.nodeid} ({section})")


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if _leaks:
        reporter = session.config.pluginmanager.get_plugin("terminalreporter")
        if reporter is not None:
            reporter.write_line("phone numbers reached log output in: " + "; ".join(_leaks), red=True)
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
