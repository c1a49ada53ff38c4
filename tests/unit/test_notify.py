"""Webhook notifications: who hears of what, the retry schedule, notify.csv's checks, endpoints from the
environment, and a payload that never carries a caller's name or number."""

from __future__ import annotations

import json
import shutil
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from router.bundle import check_bundle, load_bundle
from router.domain.jurisdiction import Jurisdiction
from router.domain.notify import NotifyEvent, RetryPolicy, Webhook, Webhooks, event_of_sla
from router.ids import fact_id
from router.notifications import Notifier
from schemas.notification import NotificationV1
from workers.webhooks import WebhookSetupError, resolve_endpoints, signature

T0 = datetime(2026, 11, 25, 2, 0, tzinfo=UTC)
POLICY = RetryPolicy(first=timedelta(seconds=10), cap=timedelta(minutes=10), max_age=timedelta(hours=1))
XINTANG, BEIGAN, DISTRICT = "330109004", "330109002", "330109"
HEADER = "unit_code,name,url,events,secret_env\n"


# --- the retry schedule -----------------------------------------------------------------------


@pytest.mark.parametrize(("attempts", "seconds"), [(1, 10), (2, 20), (3, 40), (6, 320), (7, 600), (40, 600)])
def test_the_wait_doubles_up_to_the_cap(attempts, seconds):
    assert POLICY.delay(attempts) == timedelta(seconds=seconds)


def test_a_retry_past_the_max_age_is_given_up_instead():
    assert POLICY.next_attempt(1, T0, T0) == T0 + timedelta(seconds=10)
    late = T0 + timedelta(minutes=50)
    assert POLICY.next_attempt(9, T0, late) == late + timedelta(minutes=10)  # exactly at the max age: one more
    assert POLICY.next_attempt(9, T0, late + timedelta(seconds=1)) is None


@pytest.mark.parametrize(("kind", "event"), [("warning_80", "warning"), ("warning_50", "warning"),
                                             ("breach", "breach"), ("escalation.remind", "escalation"),
                                             ("escalation.notify", "escalation")])
def test_each_timer_kind_is_an_event(kind, event):
    assert event_of_sla(kind) == NotifyEvent(event)


# --- who hears of what ------------------------------------------------------------------------

def _hook(unit: str, *events: NotifyEvent, name: str = "sms") -> Webhook:
    return Webhook(unit, name, "https://gw.example/x", frozenset(events))


HOOKS = Webhooks((_hook(XINTANG, NotifyEvent.NEW_ORDER, NotifyEvent.BREACH), _hook(BEIGAN, NotifyEvent.NEW_ORDER),
                  _hook(DISTRICT, NotifyEvent.ESCALATION, NotifyEvent.BREACH)), DISTRICT)


@pytest.mark.parametrize(("event", "town", "centre", "units"), [
    (NotifyEvent.NEW_ORDER, XINTANG, XINTANG, [XINTANG]),  # not 北干's, not the district's (it wants no new orders)
    (NotifyEvent.BREACH, XINTANG, XINTANG, [XINTANG, DISTRICT]),  # the district centre's scope is every order
    (NotifyEvent.ESCALATION, BEIGAN, BEIGAN, [DISTRICT]),
    (NotifyEvent.NEW_ORDER, "330109100", DISTRICT, []),  # a town not onboarded: its centre is the district's
    (NotifyEvent.WARNING, XINTANG, XINTANG, []),
])
def test_a_unit_hears_of_the_orders_in_its_scope_and_only_the_events_it_wants(event, town, centre, units):
    assert [h.unit_code for h in HOOKS.for_order(event, town, centre)] == units


# --- notify.csv -------------------------------------------------------------------------------

@pytest.fixture
def bundle(tmp_path: Path, xiaoshan_dir: Path) -> Path:
    target = tmp_path / "bundle"
    shutil.copytree(xiaoshan_dir, target)
    return target


def test_notify_csv_loads_with_references_to_the_environment(bundle: Path):
    (bundle / "notify.csv").write_text(
        HEADER + f"{XINTANG},sms,https://sms.example/send?token=${{XT_TOKEN}},new_order|breach,XT_SECRET\n"
        f"{DISTRICT},zzd,${{ZZD_URL}},escalation,\n", encoding="utf-8")
    webhooks = load_bundle(bundle).webhooks
    assert webhooks.district_centre == DISTRICT
    assert [(h.key, sorted(h.events), h.variables()) for h in webhooks.hooks] == [
        (f"{XINTANG}/sms", ["breach", "new_order"], ("XT_TOKEN", "XT_SECRET")),
        (f"{DISTRICT}/zzd", ["escalation"], ("ZZD_URL",))]


@pytest.mark.parametrize(("row", "field", "fragment"), [
    ("999999999,sms,https://a.example/x,new_order,", "unit_code", "unknown unit '999999999'"),
    (f"{XINTANG},SMS,https://a.example/x,new_order,", "name", "should match pattern"),
    (f"{XINTANG},sms,ftp://a.example/x,new_order,", "url", "must start with https:// or http://"),
    (f"{XINTANG},sms,https://a.example/$TOKEN,new_order,", "url", "${NAME} reference"),
    (f"{XINTANG},sms,https://a.example/a b,new_order,", "url", "no spaces"),
    (f"{XINTANG},sms,https://a.example/x,new_order|arrived,", "events.1", "'new_order'"),
    (f"{XINTANG},sms,https://a.example/x,,", "events", "at least 1"),
    (f"{XINTANG},sms,https://a.example/x,breach,xt-secret", "secret_env", "should match pattern"),
])
def test_a_bad_notify_row_is_located(bundle: Path, row: str, field: str, fragment: str):
    (bundle / "notify.csv").write_text(HEADER + row + "\n", encoding="utf-8")
    problems = check_bundle(bundle)
    assert [(p.file, p.line, p.field) for p in problems] == [("notify.csv", 2, field)], problems
    assert fragment in problems[0].message


def test_two_webhooks_of_a_unit_need_two_names(bundle: Path):
    (bundle / "notify.csv").write_text(HEADER + f"{XINTANG},sms,https://a.example/1,breach,\n"
                                       f"{XINTANG},sms,https://a.example/2,warning,\n", encoding="utf-8")
    assert [str(p) for p in check_bundle(bundle)] == [
        f"notify.csv:{n}: unit_code,name: duplicate unit_code,name '{XINTANG}/sms'" for n in (2, 3)]


# --- endpoints and signatures -----------------------------------------------------------------

def test_endpoints_fill_in_the_environment_and_name_what_is_missing():
    hooks = Webhooks((Webhook(XINTANG, "sms", "${BASE}/send?t=${TOKEN}", frozenset({NotifyEvent.BREACH}), "KEY"),))
    [endpoint] = resolve_endpoints(hooks, {"BASE": "https://gw.example", "TOKEN": "abc", "KEY": "k"}).values()
    assert (endpoint.url, endpoint.secret) == ("https://gw.example/send?t=abc", b"k")
    with pytest.raises(WebhookSetupError, match="environment variables KEY, TOKEN$"):
        resolve_endpoints(hooks, {"BASE": "https://gw.example", "TOKEN": ""})


def test_the_signature_is_the_hex_hmac_sha256_of_the_body():
    # RFC 4231 test case 2.
    assert signature(b"Jefe", b"what do ya want for nothing?") == \
        "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"


# --- the payload ------------------------------------------------------------------------------

ORDER = {"order_id": "WO0123456789ABCD", "town_code": XINTANG, "centre_code": XINTANG, "matter_type": "噪音扰民",
         "priority": "normal", "summary": "报警人王小明称楼上噪音扰民，回电138-1234-5678，身份证330109199001011234",
         "address": "新塘街道傅楼村12号（王小明家）"}


def _staged(xiaoshan: Jurisdiction, hooks: tuple[Webhook, ...], event: NotifyEvent, **sla: object) -> list[dict]:
    rows: dict[str, list[dict]] = {}
    Notifier(replace(xiaoshan, webhooks=Webhooks(hooks, DISTRICT))).stage(
        rows, fact_id("test", "fact"), event, ORDER, T0, ["王小明"], **sla)
    return rows.get("notifications", [])


def test_the_payload_masks_the_caller_everywhere(xiaoshan: Jurisdiction):
    [row] = _staged(xiaoshan, (_hook(XINTANG, NotifyEvent.NEW_ORDER),), NotifyEvent.NEW_ORDER)
    raw = row["body"].decode()
    for secret in ("王小明", "138-1234-5678", "1234-5678", "199001011234"):
        assert secret not in raw
    body = NotificationV1.model_validate_json(row["body"])
    assert body.summary == "报警人王**称楼上噪音扰民，回电138****5678，身份证330109********1234"
    assert body.address == "新塘街道傅楼村12号（王**家）"
    assert body.text == f"【枫桥】新塘街道新工单WO0123456789ABCD（噪音扰民）：{body.summary}。请及时签收。"
    assert "caller" not in json.loads(raw)
    assert (row["status"], row["attempts"], row["next_attempt_at"], row["event"]) == ("pending", 0, T0, "new_order")


def test_an_sla_payload_names_the_clock_and_its_deadline_in_local_time(xiaoshan: Jurisdiction):
    due = T0 - timedelta(minutes=1)
    [row] = _staged(xiaoshan, (_hook(XINTANG, NotifyEvent.BREACH),), NotifyEvent.BREACH, stage="acknowledge",
                    sla_kind="breach", due_at=due)
    body = NotificationV1.model_validate_json(row["body"])
    assert (body.title, body.stage, body.sla_kind, body.due_at) == ("签收超时", "acknowledge", "breach", due)
    assert body.text.startswith("【枫桥】新塘街道工单WO0123456789ABCD（噪音扰民）签收超时，时限11月25日09:59已过：")


def test_one_id_per_fact_and_webhook_the_same_when_the_transaction_is_retried(xiaoshan: Jurisdiction):
    hooks = (_hook(XINTANG, NotifyEvent.NEW_ORDER), _hook(XINTANG, NotifyEvent.NEW_ORDER, name="zzd"))
    first, again = (_staged(xiaoshan, hooks, NotifyEvent.NEW_ORDER) for _ in range(2))
    assert [r["notification_id"] for r in first] == [r["notification_id"] for r in again]
    assert len({r["notification_id"] for r in first}) == 2
    assert [r["body"] for r in first] == [r["body"] for r in again]


def test_no_webhook_no_rows(xiaoshan: Jurisdiction):
    assert _staged(xiaoshan, (), NotifyEvent.NEW_ORDER) == []
