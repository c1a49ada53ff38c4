"""Rows into the API's views: Chinese names beside codes, deadlines, and callers masked by role."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from api.identity import Principal
from api.services import Services
from router.domain.jurisdiction import PRIORITY_TERMS, Priority
from router.domain.lifecycle import ACTION_TERMS, STATE_TERMS, Action, Actor, State, available_actions
from router.domain.privacy import mask_name, mask_phone, mask_text
from router.domain.sla import STAGE_TERMS, parse_effect_kind, sla_term
from router.store.orders import to_order
from router.store.views import running_deadline
from schemas.api import (
    Caller,
    Deadlines,
    FeedIncident,
    OrderDetail,
    OrderSummary,
    RunningClock,
    TimelineEntry,
)
from schemas.incident import EMERGENCY_LINE

FACT_TERMS = {"rejected": "指令被拒绝", "report_merged": "重复报警并单", "key_dispute_flagged": "列为重点矛盾纠纷",
              "placed": "区中心定位派单", "handed_over": "镇街接入，移交本镇街办理"}


def kind_term(kind: str) -> str:
    if (effect := parse_effect_kind(kind)) is not None:
        stage, sla_kind = effect
        return f"{STAGE_TERMS[stage]}{sla_term(sla_kind)}"
    if kind in Action.__members__.values():
        return ACTION_TERMS[Action(kind)]
    return FACT_TERMS.get(kind, kind)


def state_term(state: str) -> str:
    return STATE_TERMS[State(state)]


def text_for(who: Principal, text: str, names: Iterable[str] = ()) -> str:
    """Free text as `who` may read it: for roles that see no callers, numbers and the callers' names masked."""
    return text if who.sees_callers else mask_text(text, names)


def _details_for(who: Principal, details: Mapping, names: Iterable[str]) -> dict:
    """An audit row's details: the notes people typed (text, reason) and attachment names are free text like the
    summary."""
    def shown(key: str, value: object) -> object:
        if key in ("text", "reason") and isinstance(value, str):
            return text_for(who, value, names)
        if key == "attachments" and isinstance(value, list | tuple):
            return [text_for(who, a, names) if isinstance(a, str) else a for a in value]
        return value
    return {k: shown(k, v) for k, v in details.items()}


def summary(row: Mapping, deadlines: Mapping[str, object], who: Principal, svc: Services,
            names: Iterable[str] = ()) -> OrderSummary:
    return OrderSummary(
        order_id=row["order_id"], town_code=row["town_code"], town_name=svc.unit_name(row["town_code"]),
        centre_code=row["centre_code"], district_run=row["district_run"], matter_type=row["matter_type"],
        priority=row["priority"],
        priority_name=PRIORITY_TERMS[Priority(row["priority"])],
        state=row["state"], state_name=state_term(row["state"]), summary=text_for(who, row["summary"], names),
        address=text_for(who, row["address"], names) if row["address"] else row["address"], opened_at=row["opened_at"],
        deadlines=Deadlines(acknowledge=deadlines.get("acknowledge"),
                            report=row["report_due"] or deadlines.get("report"),
                            resolve=deadlines.get("resolve")),
        clock=_clock(row), returns=row["returns"], reports=row["reports"], generation=row["generation"],
        allowed_actions=[a.value for a in available_actions(to_order(row), Actor(who.user_id, who.role,
                                                                                   who.unit_code))],
    )


def _clock(row: Mapping) -> RunningClock | None:
    running = running_deadline(row)
    if running is None:
        return None
    stage, due = running
    return RunningClock(stage=stage.value, stage_name=STAGE_TERMS[stage.value], due=due)


def detail(row: Mapping, deadlines: Mapping[str, object], timeline: list[Mapping], reports: list[Mapping],
           who: Principal, svc: Services) -> OrderDetail:
    names = [r["caller"]["name"] for r in reports if r["caller"] and r["caller"].get("name")]
    return OrderDetail(
        **summary(row, deadlines, who, svc, names).model_dump(),
        timeline=[TimelineEntry(at=e["at"], kind=e["kind"], kind_name=kind_term(e["kind"]), accepted=e["accepted"],
                                from_state=e["from_state"], to_state=e["to_state"], actor_user=e["actor_user"],
                                actor_name=e["actor_name"],
                                actor_role=e["actor_role"], actor_unit=e["actor_unit"],
                                details=_details_for(who, e["details"] or {}, names))
                  for e in timeline],
        callers=[caller(r, who) for r in reports],
        incidents=[feed_incident(r["record"], who, names) for r in reports if r["record"]],
    )


CHANNEL_TERMS = {"phone": "电话", "sms": "短信", "app": "客户端", "wechat": "微信", "video": "视频", "walk_in": "来访",
                 "12345": "12345转办", "other": "其他", EMERGENCY_LINE: "紧急呼叫线路"}


def feed_incident(record: Mapping, who: Principal, names: list[str]) -> FeedIncident:
    """What the feed said of one incident, beyond the summary and the caller (shown in 警情信息)."""
    def shown(value: object) -> object:
        return text_for(who, value, names) if isinstance(value, str) else value

    channel = record["channel"]
    return FeedIncident(
        incident_id=record["source_id"], contract=record.get("schema", "incident.v1"),
        source_system=record["source_system"], received_at=record["received_at"], channel=channel,
        channel_name=CHANNEL_TERMS.get(channel, channel), category_code=record.get("category_code"),
        category_name=record.get("category_name"), feed_priority=record.get("priority"),
        disposition=shown(record.get("disposition")), officer_initiated=bool(record.get("officer_initiated")),
        attributes={key: shown(value) for key, value in (record.get("attributes") or {}).items()},
    )


def caller(report: Mapping, who: Principal) -> Caller:
    person = report["caller"] or {}
    name, phone = person.get("name"), person.get("phone")
    if not who.sees_callers:
        name = mask_name(name) if name else None
        phone = mask_phone(phone) if phone else None
    return Caller(incident_id=report["incident_id"], received_at=report["received_at"], name=name, phone=phone)
