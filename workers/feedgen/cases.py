"""The synthetic feed as labelled cases: each record with the ground truth it was generated with."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime

from router.domain.jurisdiction import Jurisdiction
from schemas.case import LabelledCaseV1
from workers.feedgen.generator import FeedGenerator
from workers.feedgen.sample import POLICE, WORK_ORDER

_START = datetime(2026, 11, 2, 1, 0, tzinfo=UTC)


def generated_cases(jurisdiction: Jurisdiction, count: int, seed: int) -> Iterator[LabelledCaseV1]:
    """`count` valid records of the generator (no dead letters) as cases, the same for the same seed."""
    generator = FeedGenerator(jurisdiction, seed=seed, invalid_share=0.0, id_prefix="GEN")
    for sample in generator.batch(count, _START):
        record = json.loads(sample.value)
        expected = sample.expected
        label = expected.reason if expected.reason else expected.outcome
        yield LabelledCaseV1(
            case_id=record["source_id"], summary=record["summary"], address=record.get("address", ""),
            category_code=record.get("category_code"), category_name=record.get("category_name"),
            town_code=record.get("town_code"),
            expect_class="police" if expected.outcome == POLICE else "non_police",
            expect_town_code=expected.town_code if expected.outcome == WORK_ORDER else None,
            expect_where=expected.outcome, kind=f"generated/{label}")
