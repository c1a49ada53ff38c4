"""Ordinary CLI mistakes and unreachable services: one or two lines and an exit code, no traceback
(`--debug` shows it). Each case is the real condition: a missing file, a closed port, an empty
data directory, a setting not given."""

from __future__ import annotations

import sys

import pytest

from workers.broker import free_port
from workers.cli import main
from workers.cli_errors import EX_CONFIG, EX_NOINPUT, EX_UNAVAILABLE


def _run(monkeypatch, capsys, *argv: str) -> tuple[int, str]:
    monkeypatch.setattr(sys, "argv", ["fengqiao", *argv])
    with pytest.raises(SystemExit) as done:
        main()
    return done.value.code, capsys.readouterr().err


@pytest.fixture
def clean_env(monkeypatch, tmp_path):
    for name in ("FENGQIAO_BOOTSTRAP_SERVERS", "FENGQIAO_DATABASE_URL", "FENGQIAO_API_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("FENGQIAO_DATA_DIR", str(tmp_path / "fresh"))
    (tmp_path / "fresh").mkdir()
    return tmp_path


CASES = [
    pytest.param(("route", "-j", "jurisdictions/xiaoshan", "/nonexistent/incidents.jsonl"), EX_NOINPUT,
                 "cannot read /nonexistent/incidents.jsonl", id="missing-file"),
    pytest.param(("orders", "list", "--api", "http://127.0.0.1:{closed}", "--token", "t"), EX_UNAVAILABLE,
                 "cannot reach the API at http://127.0.0.1:{closed}/", id="api-down"),
    pytest.param(("status",), EX_UNAVAILABLE, "no Fengqiao schema yet", id="fresh-data-dir"),
    pytest.param(("replay", "jurisdictions/xiaoshan/cases/handwritten.jsonl"), EX_CONFIG,
                 "FENGQIAO_BOOTSTRAP_SERVERS is not set", id="no-broker-configured"),
    pytest.param(("nosuchcommand",), 2, "No such command", id="usage-error"),
]


@pytest.mark.parametrize(("argv", "code", "message"), CASES)
def test_a_mistake_is_one_or_two_lines_and_an_exit_code(monkeypatch, capsys, clean_env, argv, code, message):
    closed = str(free_port())
    exit_code, err = _run(monkeypatch, capsys, *(a.replace("{closed}", closed) for a in argv))
    assert exit_code == code, err
    assert message.replace("{closed}", closed) in err
    assert "Traceback" not in err and len([line for line in err.splitlines() if line.strip()]) <= 3, err


def test_a_broker_that_does_not_answer_is_named_in_seconds(monkeypatch, capsys, clean_env):
    monkeypatch.setenv("FENGQIAO_BOOTSTRAP_SERVERS", f"127.0.0.1:{free_port()}")
    exit_code, err = _run(monkeypatch, capsys, "replay", "jurisdictions/xiaoshan/cases/handwritten.jsonl")
    assert exit_code == EX_UNAVAILABLE and "cannot reach the Kafka broker" in err and "Traceback" not in err


def test_debug_shows_the_traceback(monkeypatch, capsys, clean_env):
    monkeypatch.setattr(sys, "argv", ["fengqiao", "--debug", "route", "-j", "jurisdictions/xiaoshan", "/nonexistent"])
    with pytest.raises(FileNotFoundError):
        main()
