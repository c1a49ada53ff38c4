"""Shared base for wire models: strict about unknown fields, frozen, documented."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field


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


__all__ = ["Contract", "Event", "datetime", "personal"]
