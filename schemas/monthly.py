"""API models of the district's monthly work: high-incidence areas, the safety index, the key-dispute list."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from pydantic import AwareDatetime, Field

from schemas.api import Body, View

Name = Annotated[str, Field(min_length=1, max_length=64)]


class AreaIncident(View):
    incident_id: str
    at: AwareDatetime
    outcome: str = Field(description="police | work_order | review")
    order_id: str | None


class Campaign(View):
    """专项整治: targeted work on an area."""

    responsible_unit: str
    review_on: dt.date
    note: str | None
    started_at: AwareDatetime
    started_by: str
    days: float = Field(description="Length of each of the equal windows compared, in days.")
    before: int = Field(description="Incidents in the window before the work began.")
    after: int = Field(description="Incidents in the window since it began.")
    fell: bool | None = Field(description="Whether fewer came after; none while no time has passed.")


class HotspotArea(View):
    """高发区域: a place where one matter type recurs beyond what is normal for it (docs/hotspots.md)."""

    place: str = Field(description="village:<code>, cell:<lat>,<lon> or address:<text>")
    place_name: str
    matter_type: str
    town_code: str | None
    town_name: str | None
    hotspot: bool = Field(description="Still a hotspot today; false: under targeted work, no longer one.")
    count: int = Field(description="Incidents in the window.")
    baseline: int = Field(description="Incidents in the baseline period before the window.")
    expected: float | None = Field(description="The window's expected count from the baseline.")
    p_value: float | None
    incidents: list[AreaIncident]
    orders: list[str] = Field(description="The work orders its incidents opened or joined.")
    campaign: Campaign | None


class HotspotsView(View):
    window_days: int
    baseline_days: int
    min_count: int
    p_value: float
    areas: list[HotspotArea]


class CampaignBody(Body):
    place: Annotated[str, Field(min_length=3, max_length=200)]
    matter_type: Annotated[str, Field(min_length=1, max_length=32)]
    responsible_unit: Name
    review_on: dt.date = Field(description="When the district reviews the work (复查日期).")
    note: Annotated[str | None, Field(max_length=500)] = None


class SafetyLine(View):
    unit_code: str
    unit_name: str
    town_code: str
    index: float = Field(description="平安指数, 0–100")
    band: str
    strains: dict[str, float] = Field(description="Each component's strain, 0–1.")
    losses: dict[str, float] = Field(description="Points each component took off the 100.")
    facts: dict[str, int] = Field(description="The counts behind the strains.")


class SafetyView(View):
    month: str
    components: dict[str, str] = Field(description="Component codes and their Chinese names.")
    weights: dict[str, float]
    towns: list[SafetyLine]
    villages: list[SafetyLine]


class DisputeAssignment(Body):
    responsible_leader: Name = Field(description="包案领导")
    responsible_unit: Name = Field(description="责任单位")
    responsible_person: Name = Field(description="责任人")
    resolution_due: AwareDatetime = Field(description="化解期限")


class ListedDisputeView(View):
    order_id: str
    town_code: str
    town_name: str
    matter_type: str
    reports: int
    carried_over: bool = Field(description="结转: on last month's list, unresolved")
    responsible_leader: str | None
    responsible_unit: str | None
    responsible_person: str | None
    resolution_due: AwareDatetime
    overdue: bool = Field(description="Past its deadline and not resolved.")
    resolved: bool = Field(description="化解 within the month")
    resolved_at: AwareDatetime | None
    state_name: str
    summary: str


class DisputeFiguresView(View):
    town_code: str | None = Field(description="None for the total")
    town_name: str
    issued: int
    resolved: int
    rate: float | None


class DisputeListView(View):
    month: str
    issued: bool = Field(description="Whether the district has issued this month's list.")
    disputes: list[ListedDisputeView]
    figures: list[DisputeFiguresView] = Field(description="Per town, then the total (town_code none).")


class IssueResult(View):
    month: str
    added: int
