"""The `fengqiao` commands an integrator runs without a broker."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
import typer
from sqlalchemy import select
from typer.testing import CliRunner

from api.identity import Identity, LoginFailed, LoginPolicy
from router.domain.lifecycle import Role
from router.store.database import make_engine
from router.store.migrate import upgrade
from router.store.tables import api_tokens
from workers.cli import app
from workers.orders_cli import _check, _client, _local
from workers.settings import Settings

BUNDLE = Settings().jurisdiction
runner = CliRunner()


def test_schema_export_writes_a_json_schema_per_contract(tmp_path: Path):
    result = runner.invoke(app, ["schema", "export", str(tmp_path)])
    assert result.exit_code == 0, result.output
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == sorted(f"{n}.schema.json" for n in
                           ("incident.v1", "incident.v2", "routing-decision.v1", "workorder-dispatched.v1", "review-queued.v1",
                            "review-decided.v1", "dead-letter.v1", "workorder-command.v1", "workorder-event.v1",
                            "labelled-case.v1", "notification.v1"))
    incident = json.loads((tmp_path / "incident.v1.schema.json").read_text())
    assert {"source_id", "received_at", "channel", "summary"} <= set(incident["required"])
    assert incident["$defs"]["CallerV1"]["properties"]["phone"]["x-personal-data"] is True


def _config_check(bundle: Path, today: str = "2026-06-01T09:00:00+08:00"):
    """`fengqiao config check` with its clock pinned: the calendars are checked against its year."""
    return runner.invoke(app, ["config", "check", str(bundle)], env={"FENGQIAO_CLOCK_ORIGIN": today})


def test_config_check_accepts_the_shipped_bundle():
    result = _config_check(BUNDLE)
    assert result.exit_code == 0, result.output
    assert "27 towns (5 onboarded)" in result.output
    assert "warning" not in result.output


def test_config_check_prints_a_warning_and_still_exits_0():
    result = _config_check(BUNDLE, today="2027-03-01T09:00:00+08:00")
    assert result.exit_code == 0, result.output
    assert "calendar/: warning: no calendar for 2028:" in result.output
    assert "27 towns (5 onboarded)" in result.output and "; 1 warnings" in result.output


def test_config_check_reports_a_bad_time_zone_in_one_line(tmp_path: Path):
    bundle = tmp_path / "pst"
    shutil.copytree(BUNDLE, bundle)
    manifest = bundle / "bundle.toml"
    manifest.write_text(manifest.read_text(encoding="utf-8").replace('"Asia/Shanghai"', '"PST"'), encoding="utf-8")

    result = _config_check(bundle)

    assert result.exit_code == 1
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert "Traceback" not in result.output
    line = next(n for n, text in enumerate(manifest.read_text().splitlines(), 1) if text.startswith("timezone"))
    assert f"bundle.toml:{line}: bundle.timezone: Value error, 'PST' is no IANA time zone name" in result.output
    assert "America/Los_Angeles" in result.output
    assert "1 errors, 0 warnings" in result.output


def test_config_check_names_file_line_and_field(tmp_path: Path):
    bundle = tmp_path / "broken"
    shutil.copytree(BUNDLE, bundle)
    towns = bundle / "towns.csv"
    lines = towns.read_text(encoding="utf-8").splitlines()
    lines[3] = lines[3].replace(",yes,", ",maybe,").replace(",no,", ",maybe,")
    towns.write_text("\n".join(lines) + "\n", encoding="utf-8")

    result = _config_check(bundle)

    assert result.exit_code == 1
    assert "towns.csv:4: onboarded:" in result.output


def test_the_worker_refuses_a_bad_bundle_at_start_naming_the_problem(tmp_path: Path):
    bundle = tmp_path / "broken"
    shutil.copytree(BUNDLE, bundle)
    manifest = bundle / "bundle.toml"
    manifest.write_text(manifest.read_text(encoding="utf-8").replace("negation_window = 4", "negation_window = 99"))
    env = {"FENGQIAO_JURISDICTION": str(bundle), "FENGQIAO_DATA_DIR": str(tmp_path / "data"), "PATH": "/usr/bin"}

    done = subprocess.run([sys.executable, "-m", "workers", "worker"], env=env, capture_output=True, text=True,
                          timeout=60)

    assert done.returncode == 2
    line = next(n for n, text in enumerate(manifest.read_text().splitlines(), 1) if text.startswith("negation_window"))
    assert f"bundle.toml:{line}: classification.negation_window:" in done.stderr


def test_route_offline_writes_one_decision_per_line(tmp_path: Path):
    feed = tmp_path / "calls.jsonl"
    feed.write_text(
        "\n".join([
            json.dumps({"source_id": "A1", "received_at": "2026-11-28T10:00:00+08:00", "channel": "phone",
                        "summary": "小区路灯坏了", "address": "萧山区北干街道"}, ensure_ascii=False),
            json.dumps({"source_id": "A2", "received_at": "2026-11-28T10:00:00+08:00", "channel": "app",
                        "summary": "有人持刀抢劫", "address": "北干街道"}, ensure_ascii=False),
            "{broken",
            json.dumps({"source_id": "A1", "received_at": "2026-11-28T10:05:00+08:00", "channel": "phone",
                        "summary": "有人持刀抢劫", "address": "北干街道"}, ensure_ascii=False),
        ]) + "\n",
        encoding="utf-8",
    )
    result = runner.invoke(app, ["route", "--jurisdiction", str(BUNDLE), str(feed)])
    assert result.exit_code == 0, result.output
    out = [json.loads(line) for line in result.output.splitlines()]
    assert [(o.get("incident_id"), o["outcome"]) for o in out] == [("A1", "work_order"), ("A2", "police"),
                                                                   (None, "dead_letter"), ("A1", "duplicate")]
    assert out[3]["line"] == 4 and out[3]["note"].startswith("repeats line 1")  # one decision per id, as the worker
    assert out[0]["town_code"] == "330109002" and out[0]["rule_ids"] == ["non_police.municipal"]
    assert out[2] == {"line": 3, "outcome": "dead_letter", "reason": "not_json",
                      "detail": out[2]["detail"]} and out[2]["detail"].startswith("not JSON")


def _feed(path: Path, *records: dict) -> Path:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8")
    return path


STREETLIGHT = {"source_id": "L1", "received_at": "2026-09-30T10:00:00+08:00", "channel": "phone",
               "summary": "小区路灯坏了", "address": "萧山区北干街道"}
ROBBERY = {"source_id": "R1", "received_at": "2026-11-28T10:00:00+08:00", "channel": "app",
           "summary": "有人持刀抢劫", "address": "北干街道"}


def test_route_with_deadlines_counts_working_days_on_the_bundles_calendar(tmp_path: Path):
    holiday = {**STREETLIGHT, "source_id": "L2", "received_at": "2026-10-03T15:00:00+08:00"}  # 国庆, a Saturday
    feed = _feed(tmp_path / "calls.jsonl", STREETLIGHT, ROBBERY, holiday)
    result = runner.invoke(app, ["route", "--jurisdiction", str(BUNDLE), "--with-deadlines", str(feed)])
    assert result.exit_code == 0, result.output
    out = [json.loads(line) for line in result.output.splitlines()]
    # The default policy (*,*): 签收 30 min and 反馈 24 h by the wall clock, 办结 5 working days. After Wednesday
    # 30 September the holiday runs to 7 October and Saturday 10 October is a make-up workday (调休).
    assert out[0]["deadlines"] == {"clock_start": "dispatch", "acknowledge": "2026-09-30T10:30:00+08:00", "report": "2026-10-01T10:00:00+08:00",
                                   "resolve": "2026-10-13T10:00:00+08:00"}
    assert out[1]["outcome"] == "police" and "deadlines" not in out[1]  # no order, no deadlines
    # Received on a holiday: the fifth working day (8, 9, 10, 12, 13 October) counts to its end, 24:00.
    assert out[2]["deadlines"] == {"clock_start": "dispatch", "acknowledge": "2026-10-03T15:30:00+08:00",
                                   "report": "2026-10-04T15:00:00+08:00", "resolve": "2026-10-14T00:00:00+08:00"}


def test_route_without_the_flag_prints_no_deadlines(tmp_path: Path):
    result = runner.invoke(app, ["route", "--jurisdiction", str(BUNDLE), str(_feed(tmp_path / "c.jsonl", STREETLIGHT))])
    assert result.exit_code == 0, result.output
    assert "deadlines" not in json.loads(result.output)


def test_route_diff_names_the_records_a_changed_keyword_rule_routes_differently(tmp_path: Path):
    changed = tmp_path / "xiaoshan"
    shutil.copytree(BUNDLE, changed)
    keywords = changed / "keywords.csv"
    text = keywords.read_text(encoding="utf-8")
    assert "non_police.municipal,non_police,市政设施,normal," in text
    keywords.write_text(text.replace("non_police.municipal,non_police,市政设施,normal,",
                                     "non_police.municipal,non_police,市政设施,high,"), encoding="utf-8")
    feed = _feed(tmp_path / "calls.jsonl", STREETLIGHT, ROBBERY, {**STREETLIGHT, "received_at": ROBBERY["received_at"]})
    (tmp_path / "calls.jsonl").write_text(feed.read_text(encoding="utf-8") + "{broken\n", encoding="utf-8")

    result = runner.invoke(app, ["route-diff", str(BUNDLE), str(changed), str(feed)])
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == ["line 1 L1: priority normal → high",
                                          "1 of 3 records route differently (priority 1)"]

    same = runner.invoke(app, ["route-diff", str(BUNDLE), str(BUNDLE), str(feed)])
    assert same.output.splitlines() == ["0 of 3 records route differently"]


def test_order_times_print_in_the_jurisdictions_zone_whatever_the_servers():
    assert _local("2026-11-28T02:30:00+00:00") == "11-28 10:30"
    assert _local("2026-11-28T23:59:00+08:00") == "11-28 23:59"
    assert _local(None) == "—"


def _fake_api(calls: list[tuple[str, str]]) -> httpx.MockTransport:
    def answer(request: httpx.Request) -> httpx.Response:
        calls.append((request.method, request.url.path))
        if request.url.path == "/api/v1/session":
            return httpx.Response(200 if request.method == "POST" else 204, json={} if request.method == "POST"
                                  else None, headers={"set-cookie": "fengqiao_session=s1; Path=/"})
        if request.url.path == "/api/v1/orders/WO1":
            return httpx.Response(404, json={"code": "not_found", "message": "不存在", "detail": None})
        return httpx.Response(200, json={"items": []})

    return httpx.MockTransport(answer)


def test_a_password_session_is_signed_out_after_the_command_even_a_failed_one(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("FENGQIAO_PASSWORD", "pw")
    calls: list[tuple[str, str]] = []
    with _client("http://api", None, "xintang-op", _fake_api(calls)) as client:
        client.get("/api/v1/orders")
    assert calls == [("POST", "/api/v1/session"), ("GET", "/api/v1/orders"), ("DELETE", "/api/v1/session")]

    calls.clear()
    with pytest.raises(typer.Exit), _client("http://api", None, "xintang-op", _fake_api(calls)) as client:
        _check(client.get("/api/v1/orders/WO1"))
    assert calls[-1] == ("DELETE", "/api/v1/session")


def test_a_token_client_has_no_session_to_close():
    calls: list[tuple[str, str]] = []
    with _client("http://api", "fq_x", None, _fake_api(calls)) as client:
        client.get("/api/v1/orders")
    assert calls == [("GET", "/api/v1/orders")]


NOW = datetime(2026, 11, 28, 10, 0, tzinfo=UTC)


OLD_PASSWORD = "old-password-1234"
NEW_PASSWORD = "new-password-5678"
HOST = "10.0.0.5"


@pytest.fixture
def accounts_db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Identity:
    """A SQLite database the CLI reaches through FENGQIAO_DATABASE_URL, with one operator."""
    url = f"sqlite:///{tmp_path / 'fengqiao.db'}"
    monkeypatch.setenv("FENGQIAO_DATABASE_URL", url)
    monkeypatch.setenv("FENGQIAO_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("FENGQIAO_CLOCK_ORIGIN", NOW.isoformat())
    engine = make_engine(url)
    upgrade(engine)
    identity = Identity(engine.begin, LoginPolicy())
    identity.add_user("xintang-op", "新塘值班员", Role.TOWN_OPERATOR, "330109004", OLD_PASSWORD, NOW)
    return identity


def test_users_disable_refuses_logins_and_ends_open_sessions_and_enable_restores(accounts_db: Identity):
    _, session = accounts_db.login("xintang-op", OLD_PASSWORD, HOST, NOW)
    assert accounts_db.from_session(session, NOW) is not None

    result = runner.invoke(app, ["users", "disable", "XINTANG-OP"])

    assert result.exit_code == 0, result.output
    assert "disabled xintang-op; closed 1 session" in result.output
    assert accounts_db.from_session(session, NOW) is None
    with pytest.raises(LoginFailed):
        accounts_db.login("xintang-op", OLD_PASSWORD, HOST, NOW)
    assert "yes" in runner.invoke(app, ["users", "list"]).output.splitlines()[1].split()

    assert runner.invoke(app, ["users", "enable", "xintang-op"]).exit_code == 0
    assert accounts_db.from_session(session, NOW) is None, "enabling does not bring a closed session back"
    assert accounts_db.login("xintang-op", OLD_PASSWORD, HOST, NOW)[0].user_id == "xintang-op"


def test_users_reset_password_ends_the_sessions_and_forces_a_change(accounts_db: Identity):
    _, session = accounts_db.login("xintang-op", OLD_PASSWORD, HOST, NOW)

    # Typed twice; entries that differ are asked for again.
    result = runner.invoke(app, ["users", "reset-password", "xintang-op"],
                           input=f"{NEW_PASSWORD}\nother\n{NEW_PASSWORD}\n{NEW_PASSWORD}\n")
    assert result.exit_code == 0, result.output
    assert "do not match" in result.output and "closed 1 session(s)" in result.output

    assert accounts_db.from_session(session, NOW) is None
    with pytest.raises(LoginFailed):
        accounts_db.login("xintang-op", OLD_PASSWORD, HOST, NOW)
    assert accounts_db.login("xintang-op", NEW_PASSWORD, HOST, NOW)[0].must_change_password
    assert "yes" in runner.invoke(app, ["users", "list"]).output.splitlines()[1].split()


@pytest.mark.parametrize(("password", "reason"), [("1", "至少12位"), ("admin", "至少12位"),
                                                   ("xintang-op-2026", "用户名"), ("qwertyuiop123", "常见")])
def test_users_reset_password_and_add_refuse_a_weak_password(accounts_db: Identity, password: str, reason: str):
    reset = runner.invoke(app, ["users", "reset-password", "xintang-op"], input=f"{password}\n{password}\n")
    assert reset.exit_code == 1 and reason in reset.output
    assert accounts_db.login("xintang-op", OLD_PASSWORD, HOST, NOW)[0].must_change_password is False
    added = runner.invoke(app, ["users", "add", "xintang-op2", "--role", "town_operator", "--unit", "330109004",
                                "--name", "新塘"], input=f"{password.replace('-op', '-op2')}\n" * 2)
    assert added.exit_code == 1 and reason in added.output


@pytest.mark.parametrize("name", ["XINTANG-OP", "ｘｉｎｔａｎｇ-ｏｐ", "xintang-op "])
def test_users_add_refuses_a_name_that_normalises_to_an_existing_one(accounts_db: Identity, name: str):
    result = runner.invoke(app, ["users", "add", name, "--role", "admin", "--unit", "330109", "--name", "冒名"],
                           input=f"{NEW_PASSWORD}\n{NEW_PASSWORD}\n")
    assert result.exit_code == 1 and "exists already" in result.output
    assert "password" not in result.output  # not asked for a password first


def test_users_add_stores_the_normalised_name(accounts_db: Identity):
    result = runner.invoke(app, ["users", "add", "Ｚhang-Op", "--role", "town_operator", "--unit", "330109004",
                                 "--name", "张"], input=f"{NEW_PASSWORD}\n{NEW_PASSWORD}\n")
    assert result.exit_code == 0, result.output
    assert "created zhang-op" in result.output
    assert accounts_db.login("ZHANG-OP", NEW_PASSWORD, HOST, NOW)[0].user_id == "zhang-op"


@pytest.mark.parametrize(("role", "unit", "created"), [
    ("integration", "330109", True),  # the district's own feed (incidents.submit)
    ("integration", "330109004", True),  # a town system
    ("integration", "330100", False),
    ("town_operator", "330109", False),  # a person of a town needs a town
])
def test_users_add_takes_an_integration_account_of_a_town_or_of_the_district(accounts_db: Identity, role: str,
                                                                               unit: str, created: bool):
    result = runner.invoke(app, ["users", "add", "feed-system", "--role", role, "--unit", unit, "--name", "对接"],
                           input=f"{NEW_PASSWORD}\n{NEW_PASSWORD}\n")
    assert (result.exit_code == 0) is created, result.output
    assert ("created feed-system" in result.output) is created


def test_users_revoke_tokens_revokes_every_live_token_of_that_user_only(accounts_db: Identity):
    accounts_db.add_user("xintang-system", "新塘对接", Role.INTEGRATION, "330109004", None, NOW)
    mine = [accounts_db.issue_token("xintang-op", name, NOW) for name in ("a", "b")]
    other = accounts_db.issue_token("xintang-system", "c", NOW)

    result = runner.invoke(app, ["users", "revoke-tokens", "xintang-op"])

    assert result.exit_code == 0, result.output
    assert "revoked 2 token(s)" in result.output
    assert [accounts_db.from_token(t, NOW) for t in mine] == [None, None]
    assert accounts_db.from_token(other, NOW).user_id == "xintang-system"
    assert "revoked 0 token(s)" in runner.invoke(app, ["users", "revoke-tokens", "xintang-op"]).output


def test_users_issue_token_expires_after_its_days_and_rotate_token_replaces_it(accounts_db: Identity):
    accounts_db.add_user("xintang-system", "新塘对接", Role.INTEGRATION, "330109004", None, NOW)
    issued = runner.invoke(app, ["users", "issue-token", "xintang-system", "--name", "四平台", "--days", "7"])
    assert issued.exit_code == 0, issued.output
    first = issued.output.strip()
    later = NOW + timedelta(days=6)
    assert accounts_db.from_token(first, later).user_id == "xintang-system"
    assert accounts_db.from_token(first, NOW + timedelta(days=7, minutes=5)) is None

    rotated = runner.invoke(app, ["users", "rotate-token", "xintang-system", "--name", "四平台"])
    assert rotated.exit_code == 0, rotated.output
    second = rotated.output.strip()
    assert accounts_db.from_token(first, later) is None
    assert accounts_db.from_token(second, NOW + timedelta(days=89)).user_id == "xintang-system"  # the default 90
    assert accounts_db.from_token(second, NOW + timedelta(days=91)) is None


@pytest.mark.parametrize("command", ["disable", "enable", "reset-password", "revoke-tokens", "issue-token",
                                     "rotate-token"])
def test_account_commands_refuse_an_unknown_user(accounts_db: Identity, command: str):
    result = runner.invoke(app, ["users", command, "nobody"], input="x\nx\n")
    assert result.exit_code == 1
    assert "no user nobody" in result.output
    assert "password" not in result.output  # not asked for a password first


def test_account_commands_read_the_configured_clock(accounts_db: Identity, tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch):
    # A clock moved to a day the suite never runs on: the token's creation time is that clock's.
    shown = datetime(2031, 6, 4, 2, 0, tzinfo=UTC)
    monkeypatch.setenv("FENGQIAO_CLOCK_ORIGIN", shown.isoformat())
    result = runner.invoke(app, ["users", "issue-token", "xintang-op", "--name", "fast"])
    assert result.exit_code == 0, result.output
    engine = make_engine(f"sqlite:///{tmp_path / 'fengqiao.db'}")
    with engine.connect() as conn:
        created = conn.scalar(select(api_tokens.c.created_at).where(api_tokens.c.name == "fast"))
    engine.dispose()
    assert shown <= created.replace(tzinfo=created.tzinfo or UTC) < shown + timedelta(minutes=5)
