"""The suite-wide guard fails a run whose log output holds a phone number, and only then."""

from __future__ import annotations

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
GUARD = "from tests.conftest import pytest_runtest_logreport, pytest_sessionfinish  # noqa: F401\n"


@pytest.mark.parametrize(
    ("line", "fails"),
    [
        pytest.param("caller 13812345678 called", True, id="a-mobile-number"),
        pytest.param("caller 138****5678 called", False, id="masked"),
        pytest.param("order WO1A2B3C4D5E6F70, offset 1234567890123", False, id="ids-and-offsets"),
    ],
)
def test_the_guard_fails_the_run_on_a_phone_number_in_the_logs(pytester: pytest.Pytester, line: str, fails: bool,
                                                               monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("PYTHONPATH", str(REPO))
    pytester.makeconftest(GUARD)
    pytester.makepyfile(f"""
        import logging, sys

        def test_logs():
            logging.getLogger("fengqiao").warning({line!r})
            print({line!r}, file=sys.stderr)
    """)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    assert (result.ret != 0) is fails
    assert ("phone numbers reached log output" in result.stdout.str()) is fails
