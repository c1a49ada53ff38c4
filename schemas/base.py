"""Shared base for wire models: strict about unknown fields, frozen, documented."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any
from uuid import UUID

from pydantic import AwareDatetime, BaseModel, BeforeValidator, ConfigDict, Field


def _not_a_number(value: Any) -> Any:
    # pydantic's lax mode reads a number, or a string of digits, as Unix time; the contracts promise
    # ISO 8601 with an offset, and a sender's seconds-or-milliseconds mistake would pass unseen.
    if isinstance(value, int | float) or (isinstance(value, str) and _numeric(value)):
        raise ValueError("a time must be an ISO 8601 string with an offset, not a number")
    return value


def _numeric(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


UNIT_CODE_CHARACTERS = r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,31}$"
"""What any unit code may be made of, whatever the bundle's own format (`[units] code_pattern`)."""

UnitCode = Annotated[str, Field(max_length=12, pattern=UNIT_CODE_CHARACTERS,
                                description="A town's or village's code in the bundle's own form ([units] "
                                            "code_pattern; NBS digits in Xiaoshan), at most 12 characters.")]
"""A town or village of the bundle: what the stores keep (12 characters) of the unit code characters."""

WireTime = Annotated[AwareDatetime, BeforeValidator(_not_a_number)]
"""An inbound time: ISO 8601 with an offset (or a datetime built in code), never a number."""


class Contract(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


class Event(Contract):
    """Envelope fields every event carries; `event_id` is unique, so consumers can de-duplicate."""

    event_id: UUID = Field(description="Unique per event; redeliveries repeat it.")
    event_type: str
    occurred_at: AwareDatetime = Field(description="When Fengqiao committed the fact, with zone.")


def personal(description: str) -> dict:
    """Field extras marking personal data (个人信息): masked in logs and for roles that do not need it."""
    return {"description": description, "json_schema_extra": {"x-personal-data": True}}


__all__ = ["Contract", "Event", "WireTime", "datetime", "personal"]
