"""The HTTP API's contracts (`/api/v1`): request bodies and responses, served as OpenAPI.

Times are ISO 8601 with zone. Operator-facing names (`*_name`) are Chinese; codes stay stable.
Errors are a `Problem` with a machine `code` and a Chinese `message` for the console.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, field_validator

from schemas.base import UnitCode
from schemas.command import RoleName

Text = Annotated[str | None, Field(max_length=4000, description="Notes, report text, review remarks.")]


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)

    @field_validator("*")
    @classmethod
    def _no_nul(cls, value: object) -> object:
        """PostgreSQL cannot store a NUL character: refuse it here (422), not in the database (500)."""
        if any(isinstance(v, str) and "\x00" in v for v in (value if isinstance(value, list) else [value])):
            raise ValueError("text must not contain NUL characters")
        return value


class View(BaseModel):
    model_config = ConfigDict(frozen=True)


class Problem(View):
    code: str = Field(description="Stable machine code: not_found, forbidden, illegal_transition ...")
    message: str = Field(description="What went wrong, in Chinese, for the operator.")
    detail: str | None = Field(None, description="The engine's own reason, in English.")


class LoginRequest(Body):
    # A password is taken exactly as typed: stripping would lock out one set with a trailing space.
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=False)

    username: Annotated[str, Field(min_length=1, max_length=64)]
    password: Annotated[str, Field(min_length=1, max_length=256)]


class PasswordChange(Body):
    """修改密码: the new password must be at least 12 characters, not contain the user name, not be a common one."""

    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=False)

    old: Annotated[str, Field(min_length=1, max_length=256)]
    new: Annotated[str, Field(min_length=1, max_length=256)]


class Me(View):
    user_id: str
    display_name: str
    role: RoleName
    role_name: str
    unit_code: str
    unit_name: str
    district: bool = Field(description="True for district roles, who see every town.")
    sees_callers: bool = Field(description="False: caller names and phone numbers are masked for this role.")
    must_change_password: bool = Field(False, description="True after a reset: only POST /api/v1/me/password works.")


class Deadlines(View):
    acknowledge: AwareDatetime | None = Field(None, description="签收 deadline.")
    report: AwareDatetime | None = Field(None, description="反馈 deadline.")
    resolve: AwareDatetime | None = Field(None, description="办结 deadline.")


class RunningClock(View):
    """The one clock the order races now: 签收 until acknowledged, then 反馈; absent while a request
    waits for a decision, while parked, or once finished (`router.domain.sla.RUNNING`)."""

    stage: Literal["acknowledge", "report"]
    stage_name: str = Field(description="签收 or 反馈.")
    due: AwareDatetime | None = Field(None, description="Its deadline; null when the bundle sets no clock for it.")


class OrderSummary(View):
    order_id: str
    town_code: str
    town_name: str
    centre_code: str
    district_run: bool = Field(description="区中心代管: the town is not onboarded; the district centre works it.")
    matter_type: str
    priority: str
    priority_name: str = Field(description="紧急, 高, 普通 or 低.")
    state: str
    state_name: str
    summary: str
    address: str
    opened_at: AwareDatetime
    deadlines: Deadlines
    clock: RunningClock | None = Field(None, description="The clock running now; what 仅超时 and the 'due' sort read.")
    returns: int
    reports: int = Field(description="Incidents behind it (并单), itself included.")
    generation: int
    allowed_actions: list[str] = Field(description="Actions this user's role may try in the current state.")


class OrderPage(View):
    total: int
    limit: int
    offset: int
    items: list[OrderSummary]


class TimelineEntry(View):
    at: AwareDatetime
    kind: str = Field(description="An action, `rejected`, or `sla.<stage>.<kind>`.")
    kind_name: str
    accepted: bool
    from_state: str | None
    to_state: str | None
    actor_user: str | None
    actor_name: str | None = Field(None, description="The account's display name (姓名), for people to read.")
    actor_role: str | None
    actor_unit: str | None
    details: dict


class Caller(View):
    incident_id: str
    received_at: AwareDatetime
    name: str | None = Field(None, json_schema_extra={"x-personal-data": True})
    phone: str | None = Field(None, json_schema_extra={"x-personal-data": True})


class FeedIncident(View):
    """An incident behind the order (并单 included) as the feed described it: shown, never routed on."""

    incident_id: str
    contract: str = Field(description="The record's feed contract: incident.v1 or incident.v2.")
    source_system: str
    received_at: AwareDatetime
    channel: str
    channel_name: str = Field(description="报警方式: 电话, 短信, ..., 紧急呼叫线路 (incident.v2's emergency_line).")
    category_code: str | None = None
    category_name: str | None = None
    feed_priority: str | None = Field(None, description="The feed's own priority (警情级别), as it spells it; the "
                                                         "order's deadlines follow `priority`, the bundle's.")
    disposition: str | None = Field(None, description="The feed's own disposition (处警结果).")
    officer_initiated: bool = Field(False, description="民警主动发现: raised by an officer, not a caller.")
    attributes: dict[str, str | int | float | bool] = Field(
        default_factory=dict, description="The feed's own extra fields (incident.v2 `attributes`), as sent; string "
                                          "values masked like the summary for roles that see no callers.")


class OrderDetail(OrderSummary):
    timeline: list[TimelineEntry]
    callers: list[Caller]
    incidents: list[FeedIncident] = Field(description="Every incident behind the order, oldest first.")


class CommandResult(View):
    status: Literal["accepted", "duplicate"]
    order: OrderDetail


class Note(Body):
    text: Text = None


Attachments = Annotated[list[Annotated[str, Field(min_length=1, max_length=500)]], Field(
    max_length=20, description="References, not files: `photo:<id>` for a photo uploaded to this order "
                               "(`POST /orders/{id}/photos`), or a URL or storage key of the caller's own.")]


class ReportBody(Body):
    text: Annotated[str, Field(min_length=1, max_length=4000, description="What was done (处置情况).")]
    attachments: Attachments = []


class ReviewBody(Body):
    approved: bool = Field(description="审核通过 (closes the order) or 审核不通过 (重办).")
    text: Text = None


class CallbackBody(Body):
    satisfied: bool = Field(description="回访: was the citizen satisfied? False reopens the order (重办).")
    text: Text = None
    attachments: Attachments = []


class PhotoView(View):
    """现场照片: an evidence photo stored for an order, its metadata stripped (GPS kept only if the bundle says)."""

    photo_id: str
    reference: str = Field(description="What a 反馈 or 回访 lists in `attachments`: `photo:<photo_id>`.")
    order_id: str
    content_type: Literal["image/jpeg", "image/png"]
    size: int = Field(description="Bytes, as stored.")
    width: int
    height: int
    sha256: str = Field(description="Of the stored bytes.")
    uploaded_by: str
    uploaded_at: AwareDatetime


class ReturnBody(Body):
    reason_code: Annotated[str, Field(min_length=1, max_length=16, description="From the bundle's return reasons.")]
    text: Text = None


class ReturnDecision(Body):
    approved: bool = Field(description="True: 改派 to `target_town`; False: 退单驳回, back to the same town.")
    target_town: UnitCode | None = None
    text: Text = None


class TransferBody(Body):
    target_town: UnitCode
    text: Text = None


class ExtensionBody(Body):
    hours: Annotated[float, Field(gt=0, le=24 * 90, description="延期: how much more time.")]
    text: Text = None


class ExtensionDecision(Body):
    approved: bool
    text: Text = None


class MergeBody(Body):
    into: Annotated[str, Field(min_length=1, max_length=32, description="The order that absorbs this one (并单).")]
    text: Text = None


class ReturnReason(View):
    code: str
    name: str


class Town(View):
    code: str
    name: str
    onboarded: bool


class Reference(View):
    """What the console needs to draw forms: towns, return reasons, state and action names, open and finished states."""

    towns: list[Town]
    return_reasons: list[ReturnReason]
    states: dict[str, str]
    actions: dict[str, str]
    open_states: list[str] = Field(description="在办: every state still in the loop (挂账 included)")
    finished_states: list[str] = Field(description="办结, 撤单, 并单: no clock runs and nobody works on it")


class Alert(View):
    order_id: str
    town_code: str
    town_name: str
    stage: str
    kind: str = Field(description="warning_50, breach, escalation.remind ...")
    kind_name: str
    at: AwareDatetime
    state: str
    matter_type: str
    summary: str


class TownFigures(View):
    town_code: str
    town_name: str
    orders: int
    open: int
    awaiting_ack: int = Field(description="待签收.")
    overdue: int = Field(description="Open and past the 反馈 deadline.")
    closed: int
    breaches: int = Field(description="SLA breaches (超时) this month.")
    escalations: int = Field(description="催办/督办/通报 this month.")


class ReviewView(View):
    """待定位: a non-police incident whose town could not be decided, waiting for the district dispatcher."""

    review_id: str
    incident_id: str
    state: Literal["open", "placed", "merged", "police"] = Field(
        description="open until the district decides: placed in a town, merged into an order, or marked police.")
    state_name: str
    reason: Literal["town_ambiguous", "town_unresolved", "outside_jurisdiction"]
    reason_name: str
    matter_type: str | None
    summary: str = Field(description="As received; callers masked for roles that see none.")
    address: str
    candidates: list[Town] = Field(description="The towns the evidence points to, when it points to several.")
    evidence: list[str] = Field(description="What the resolver found, kind:text (village:傅楼村, outside:广州市).")
    rule_ids: list[str] = Field(description="The classifier's rules, strongest first.")
    queued_at: AwareDatetime
    decided_at: AwareDatetime | None = None
    decided_by: str | None = Field(None, description="The district account that decided.")
    town_code: str | None = Field(None, description="The town whose order it became (placed, merged).")
    town_name: str | None = None
    order_id: str | None = Field(None, description="The order it opened or was merged into.")
    note: str | None = None


class DeadLetterView(View):
    """死信: a feed record Fengqiao could not read, kept with its reason (the bytes stay in the database)."""

    fingerprint: str = Field(description="SHA-256 of the original bytes: the record's identity.")
    reason: str = Field(description="oversize, bad_encoding, not_json or schema_violation.")
    reason_name: str
    detail: str = Field(description="What was wrong, field by field; phone numbers masked.")
    source_topic: str
    partition: int | None
    offset: int | None
    size: int = Field(description="Bytes.")
    dead_lettered_at: AwareDatetime
    redriven_at: AwareDatetime | None = Field(None, description="Sent back to its topic (重投), not read back yet.")
    redriven_by: str | None = None
    redrives: int = Field(0, description="How often it was re-driven; read back unreadable, it waits here again.")


class PlaceBody(Body):
    town_code: UnitCode = Field(description="The town to open the order in (定位派单).")
    text: Text = None


class ReviewDecision(View):
    """What became of a review item: placed in a town, merged into an order, or marked police."""

    review_id: str
    state: Literal["placed", "merged", "police"]
    state_name: str
    order_id: str | None = None
    town_code: str | None = None


class Redrive(View):
    fingerprint: str
    status: Literal["redriven"]


class InboxSummary(View):
    """The district's inbox at a glance (看板): what waits, and since when."""

    reviews_waiting: int = Field(description="待定位 items not decided yet.")
    review_oldest_at: AwareDatetime | None = Field(None, description="When the oldest waiting item was queued.")
    dead_letters_waiting: int = Field(description="死信 not re-driven.")
    dead_letter_oldest_at: AwareDatetime | None = None


class Misroute(View):
    """误派统计: how often one rule's decisions were corrected by the loop in a month (改派, 转派, 撤单)."""

    month: str = Field(description="YYYY-MM, local time.")
    rule_id: str = Field(description="The first rule of the decision that was wrong (or its reason).")
    wrong_town: int = Field(description="Orders moved to another town: 改派 for 非本镇街辖区, or 转派.")
    police: int = Field(description="Orders withdrawn as police matters (退单 属警务事项, then 撤单).")
    total: int


class Dispute(View):
    order_id: str
    town_code: str
    town_name: str
    matter_type: str
    reports: int
    flagged_at: AwareDatetime
    resolution_due: AwareDatetime
    responsible_leader: str | None
    responsible_unit: str | None
    responsible_person: str | None
    state: str
    state_name: str
    summary: str
    address: str


class AccessEntry(View):
    at: AwareDatetime
    user_id: str | None
    role: str | None
    unit_code: str | None
    action: str
    order_id: str | None
    outcome: str
    status: int
    detail: str | None


class DispatchFacts(View):
    """A unit's dispatches (派单) over a period and what became of them, on the one clock definition
    (router/store/statistics.py) that the 红黄黑榜 and the cockpit share (docs/cockpit.md, docs/ranking.md)."""

    dispatched: int = Field(description="派单: dispatches to the unit that began in the period.")
    acknowledged: int
    acknowledged_on_time: int
    reported: int
    reported_on_time: int
    closed: int
    returned: int
    reopened: int
    acknowledge_settled: int = Field(description="应签收: acknowledged, or the 签收 deadline passed (the rate's base).")
    report_settled: int = Field(description="应反馈: reported, or the 反馈 deadline passed (the rate's base).")
    resolve_settled: int = Field(description="应办结: closed, or the 办结 deadline passed (the rate's base).")


class RankingLine(DispatchFacts):
    """One town's line of the monthly 红黄黑榜; rates are fractions (0.95), None when nothing to measure."""

    town_code: str
    town_name: str
    rank: int | None = Field(description="1 is best; equal scores share a rank; None when not graded.")
    grade: Literal["red", "yellow", "black", "ungraded"]
    grade_name: str = Field(description="红榜, 黄榜, 黑榜 or 不评.")
    score: float | None
    rates: dict[str, float | None] = Field(description="acknowledge_on_time, report_on_time, resolution, returns, "
                                                       "reopens.")
    trend_rates: dict[str, float | None] = Field(description="同比: now minus the same month a year earlier.")
    trend_score: float | None


class MonthlyRankingView(View):
    month: str = Field(description="YYYY-MM")
    indicators: dict[str, str] = Field(description="Indicator codes and their Chinese names.")
    weights: dict[str, float]
    lines: list[RankingLine]


class CockpitUnit(DispatchFacts):
    """One unit's cockpit figures (驾驶舱) over a period: dispatch facts, incidents, rates (docs/cockpit.md)."""

    code: str = Field(description="Town code, village code, or `unplaced` (未定位村社).")
    name: str
    called_back: int = Field(description="Dispatches with a 回访 callback.")
    satisfied: int = Field(description="... whose callback closed the order (满意).")
    breached: int = Field(description="Dispatches with at least one 超时 breach charged to the unit.")
    escalated: int = Field(description="Dispatches with at least one 催办/督办/通报 escalation charged to the unit.")
    received: int = Field(description="接警: incidents received in the period and placed in the unit.")
    diverted: int = Field(description="... that opened or joined a work order (分流).")
    open_disputes: int = Field(description="重点矛盾纠纷 whose order is open now.")
    rates: dict[str, float | None] = Field(description="Fractions in [0, 1]; None when nothing to measure.")


class CockpitTrendPoint(View):
    month: str = Field(description="YYYY-MM")
    dispatched: int
    received: int
    closed: int
    breached: int
    rates: dict[str, float | None]
    year_on_year: dict[str, float | None] = Field(description="同比: rate now minus a year earlier (fractions).")
    month_on_month: dict[str, float | None] = Field(description="环比: rate now minus the month before (fractions).")


class CockpitAgeBand(View):
    state: str
    state_name: str
    band: str = Field(description="Days since opened: 0-1, 1-3, 3-7, 7-30, 30+.")
    orders: int


class CockpitMatterMonth(View):
    month: str
    matter_type: str
    orders: int = Field(description="Orders opened in the month.")
    incidents: int = Field(description="Incidents behind them (报警次数, 并单 included).")


class CockpitPlace(View):
    address: str
    orders: int
    incidents: int


class CockpitView(View):
    """A cockpit view: the district (per town), a town (per village) or a village (its orders and repeats)."""

    level: Literal["district", "town", "village"]
    code: str
    name: str
    town_code: str | None = Field(None, description="The town of a town or village view.")
    period_from: str = Field(description="YYYY-MM, first month of the period.")
    period_to: str = Field(description="YYYY-MM, last month of the period.")
    month: str = Field(description="YYYY-MM, this month (the clock's, in the bundle's time zone).")
    terms: dict[str, str] = Field(description="Chinese names of the rates.")
    total: CockpitUnit = Field(description="The whole view over the period.")
    units: list[CockpitUnit] = Field(description="Per town and, last, the district centre's own dispatches for towns "
                                     "not onboarded (district), or per village (town), over the period.")
    month_units: list[CockpitUnit] = Field(description="The same units this month.")
    trend: list[CockpitTrendPoint] = Field(description="Twelve months ending with period_to, oldest first.")
    open_orders: list[CockpitAgeBand] = Field(description="Open orders now by state and age (town and village).")
    matters: list[CockpitMatterMonth] = Field(description="Per month and matter type (village).")
    repeat_callers: int | None = Field(None, description="Callers reporting more than once (counted, never named).")
    repeat_caller_reports: int | None = None
    repeat_places: list[CockpitPlace] = Field(description="Addresses with more than one order (village).")


class MapArea(View):
    """One town's outline on the cockpit map (GeoJSON Feature)."""

    type: Literal["Feature"] = "Feature"
    properties: dict[str, str] = Field(description="`town_code` and `name` (the bundle's).")
    geometry: dict[str, object] = Field(description="A GeoJSON Polygon in WGS-84 (lon, lat): the bundle's rings.")


class CockpitMap(View):
    """The towns' boundaries a caller may see, for the cockpit's map: empty where the bundle has none."""

    type: Literal["FeatureCollection"] = "FeatureCollection"
    features: list[MapArea]


class RecordError(View):
    field: str = Field(description="The field, dotted (`caller.phone`), or `(record)` for the record as a whole.")
    message: str


class RecordFate(View):
    """What became of one record of a `POST /api/v1/incidents` batch."""

    index: int = Field(description="The record's position in the batch (0 for a single record).")
    fate: Literal["accepted", "duplicate", "rejected"] = Field(
        description="accepted: routed now; duplicate: its source_id was routed before (nothing changed); "
                    "rejected: unreadable, kept as a dead letter (死信) with the reason.")
    source_id: str | None = Field(None, description="The record's source_id; null for a rejected record.")
    outcome: Literal["police", "work_order", "review"] | None = Field(
        None, description="Where an accepted record went: forwarded to police, a town work order (派单), "
                          "or the district's review queue (待定位).")
    order_id: str | None = Field(None, description="The work order an accepted record opened or merged into (并单).")
    reason: str | None = Field(None, description="A rejected record's dead-letter reason: not_json, bad_encoding, "
                                                 "schema_violation, oversize (as on Kafka).")
    detail: str | None = Field(None, description="A rejected record's reason, in English; never its values.")
    errors: list[RecordError] = Field(default_factory=list, description="A rejected record's field errors.")
    dead_lettered: bool = Field(False, description="False for a rejected record whose very bytes were "
                                                   "dead-lettered before (and not re-driven since).")


class IntakeAnswer(View):
    """The fate of every record of a `POST /api/v1/incidents`, in the order they were sent."""

    accepted: int
    duplicates: int
    rejected: int
    records: list[RecordFate]
