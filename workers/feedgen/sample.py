"""A feed record as a producer sends it, with the ground truth of where it must land."""

from __future__ import annotations

import json
from dataclasses import dataclass

from workers.settings import Settings

MAX_RECORD_BYTES: int = Settings.model_fields["max_record_bytes"].default
"""The largest feed record the worker accepts by default (64 KiB); bigger ones are dead-lettered as oversize."""

POLICE = "police"
WORK_ORDER = "work_order"
REVIEW = "review"
DEAD_LETTER = "dead_letter"

TOWN_AMBIGUOUS = "town_ambiguous"
TOWN_UNRESOLVED = "town_unresolved"
OUTSIDE_JURISDICTION = "outside_jurisdiction"

encode = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode


@dataclass(frozen=True, slots=True)
class Expected:
    """Where a record must end up."""

    outcome: str  # police | work_order | review | dead_letter
    town_code: str | None = None  # work_order
    centre_code: str | None = None  # work_order: the town's centre if onboarded, else the district's; review: district
    reason: str | None = None  # review: a ReviewReason value; dead_letter: a DeadLetterReason value


@dataclass(frozen=True, slots=True)
class Sample:
    """One feed record as a producer would send it, and its ground truth."""

    key: bytes | None  # Kafka key: source_id in UTF-8; None when the record carries no usable id
    value: bytes  # the record's bytes: JSON in UTF-8, or deliberately broken bytes
    source_id: str | None
    expected: Expected
