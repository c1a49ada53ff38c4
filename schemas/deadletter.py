"""The dead-letter envelope on `incidents.dlq.v1`: a record that could not be read, with the reason."""

from __future__ import annotations

from enum import StrEnum
from typing import Literal

from pydantic import Field

from schemas.base import Contract, Event


class DeadLetterReason(StrEnum):
    OVERSIZE = "oversize"
    BAD_ENCODING = "bad_encoding"
    NOT_JSON = "not_json"
    SCHEMA_VIOLATION = "schema_violation"
    UNAUTHENTICATED = "unauthenticated"  # a command no integration account stands behind


class FieldErrorV1(Contract):
    field: str
    message: str


class DeadLetterV1(Event):
    """Carries the original bytes (base64) so nothing is lost; `fingerprint` is their SHA-256."""

    event_type: Literal["incident.dead_lettered"] = "incident.dead_lettered"
    reason: DeadLetterReason
    detail: str = Field(description="Human-readable explanation, without personal data.")
    errors: tuple[FieldErrorV1, ...] = Field((), description="Field errors for schema violations.")
    source_topic: str
    partition: int | None = None
    offset: int | None = None
    fingerprint: str = Field(description="SHA-256 of the original bytes; the same bytes are dead-lettered once.")
    size: int
    payload_base64: str
