"""The incident record (警情) as the 110 feed sends it on `incidents.v1`: `incident.v1`, or the wider
`incident.v2`, told apart by the record's `schema` field (docs/integration.md, "Feed contract versions")."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import Discriminator, Field, StrictBool, StrictFloat, StrictInt, Tag, TypeAdapter

from schemas.base import UNIT_CODE_CHARACTERS, Contract, WireTime, personal


class Channel(StrEnum):
    """How the report reached the 110 centre (报警方式)."""

    PHONE = "phone"
    SMS = "sms"
    APP = "app"
    WECHAT = "wechat"
    VIDEO = "video"
    WALK_IN = "walk_in"
    TRANSFER_12345 = "12345"
    OTHER = "other"


class LocationV1(Contract):
    """A point with its datum: GPS devices report WGS-84, Chinese map apps GCJ-02."""

    lon: Annotated[float, Field(ge=-180, le=180)]
    lat: Annotated[float, Field(ge=-90, le=90)]
    datum: Literal["WGS-84", "GCJ-02"] = "WGS-84"


class CallerV1(Contract):
    """The caller (报警人). Personal data: never logged, masked for roles that do not need it."""

    name: Annotated[str | None, Field(max_length=50, **personal("Caller's name (报警人姓名)."))] = None
    phone: Annotated[str | None, Field(max_length=30, **personal("Caller's phone number (联系电话)."))] = None


class IncidentV1(Contract):
    """One incident from the police dispatch feed. Topic `incidents.v1`, key = `source_id`."""

    schema_: Literal["incident.v1"] = Field("incident.v1", alias="schema", description="Contract name and version.")
    source_id: Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.:-]+$")] = Field(
        description="The feed's own incident number (警情编号); unique within the feed. Repeats are no-ops."
    )
    source_system: Annotated[str, Field(min_length=1, max_length=32)] = Field(
        "110", description="Which system sent it (110, 12345, app)."
    )
    received_at: WireTime = Field(description="When the call was received (接警时间), ISO 8601 with zone; never a "
                                  "number.")
    channel: Channel = Field(description="How the report arrived (报警方式).")
    category_code: Annotated[str | None, Field(max_length=32)] = Field(
        None, description="The feed's own category code (警情类别代码), when it has one."
    )
    category_name: Annotated[str | None, Field(max_length=64)] = Field(
        None, description="The feed's own category name (警情类别名称)."
    )
    summary: Annotated[str, Field(max_length=4000)] = Field(description="Free-text summary (简要警情).")
    address: Annotated[str, Field(max_length=500)] = Field("", description="Address text (案发地址).")
    location: LocationV1 | None = Field(None, description="Coordinates with their datum, when known.")
    town_code: Annotated[str | None, Field(pattern=UNIT_CODE_CHARACTERS)] = Field(
        None, description="The unit (town or village) code, when the feed knows it: letters, digits and _.:- (up to "
                          "32). Its format is the bundle's (`[units] code_pattern`, by default NBS: 9 digits for a "
                          "town, 12 for a village); a code outside it is dead-lettered (schema_violation, town_code)."
    )
    caller: CallerV1 | None = Field(None, description="The caller (报警人); personal data.")

    model_config = {**Contract.model_config, "populate_by_name": True}


EMERGENCY_LINE = "emergency_line"
"""A 911/112-style emergency line (紧急呼叫线路) as a channel: `incident.v2` only, so v1 stays as it was."""

ATTRIBUTE_KEY = r"^[A-Za-z0-9_.:-]{1,64}$"
MAX_ATTRIBUTES = 32
AttributeValue = StrictBool | StrictInt | StrictFloat | Annotated[str, Field(max_length=500)]


class IncidentV2(IncidentV1):
    """`incident.v1` plus what a wider feed knows; none of the additions routes (docs/integration.md)."""

    schema_: Literal["incident.v2"] = Field(alias="schema", description="Contract name and version: required.")
    channel: Channel | Literal["emergency_line"] = Field(
        description="How the report arrived (报警方式); v2 adds emergency_line, a 911/112-style line."
    )
    priority: Annotated[str | None, Field(min_length=1, max_length=32)] = Field(
        None, description="The feed's own priority or grade (警情级别), as it spells it; shown, never routed on: "
                          "the bundle's rules set the priority an order's deadlines follow."
    )
    disposition: Annotated[str | None, Field(min_length=1, max_length=64)] = Field(
        None, description="The feed's own disposition (处警结果), e.g. dispatched, advice given; shown, not routed."
    )
    officer_initiated: bool = Field(
        False, description="Raised by an officer on patrol (民警主动发现) rather than a caller; shown, not routed."
    )
    attributes: Annotated[dict[Annotated[str, Field(pattern=ATTRIBUTE_KEY)], AttributeValue],
                          Field(max_length=MAX_ATTRIBUTES)] = Field(
        default_factory=dict,
        description=f"The feed's own extra fields, kept with the incident and shown, never routed on: up to "
                    f"{MAX_ATTRIBUTES} keys of letters, digits and _.:- (up to 64), each a string (up to 500), "
                    "number or boolean. No personal data: a caller's details go in `caller`.",
    )


def _version(value: Any) -> str:
    """A record's contract: its `schema` field, `incident.v1` when absent (v1 senders may leave it out) or when
    the record is no object at all (v1's own error then says so)."""
    if isinstance(value, dict):
        return str(value.get("schema", "incident.v1"))
    return getattr(value, "schema_", "incident.v1")


IncidentRecord = Annotated[Annotated[IncidentV1, Tag("incident.v1")] | Annotated[IncidentV2, Tag("incident.v2")],
                           Discriminator(_version)]
"""Any record of `incidents.v1`: a v1 or a v2 incident, by its `schema` field."""

INCIDENT_RECORD: TypeAdapter[IncidentV1] = TypeAdapter(IncidentRecord)
