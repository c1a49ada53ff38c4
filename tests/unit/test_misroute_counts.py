"""误派统计 from corrections: per local month and rule, newest month first and the most corrected rule first
in it; and the month arithmetic that picks where the board's window starts."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from router.store.corrections import POLICE, TOWN, Correction, MisrouteCount, misroute_counts
from router.store.statistics import months_back

SHANGHAI = ZoneInfo("Asia/Shanghai")


def _correction(at: datetime, rule: str, misroute: str) -> Correction:
    return Correction("WO1", at, "transfer" if misroute == TOWN else "withdraw", misroute, None, "", "",
                      {"rule_ids": [rule], "reason": "keywords"})


def test_counts_per_local_month_and_rule():
    found = [
        _correction(datetime(2026, 11, 30, 15, 59, tzinfo=UTC), "non_police.noise", TOWN),  # 23:59 local: November
        _correction(datetime(2026, 11, 30, 16, 1, tzinfo=UTC), "non_police.noise", TOWN),  # 00:01 local: December
        _correction(datetime(2026, 12, 2, tzinfo=UTC), "non_police.dispute", POLICE),
        _correction(datetime(2026, 12, 3, tzinfo=UTC), "non_police.dispute", TOWN),
    ]
    assert misroute_counts(found, SHANGHAI) == [
        MisrouteCount("2026-12", "non_police.dispute", 1, 1),
        MisrouteCount("2026-12", "non_police.noise", 1, 0),
        MisrouteCount("2026-11", "non_police.noise", 1, 0),
    ]


def test_a_decision_without_rules_is_counted_under_its_reason():
    found = [Correction("WO2", datetime(2026, 12, 2, tzinfo=UTC), "transfer", TOWN, "330109002", "", "",
                        {"rule_ids": [], "reason": "feed_category"})]
    assert [c.rule_id for c in misroute_counts(found, SHANGHAI)] == ["feed_category"]


@pytest.mark.parametrize(("month", "back", "expected"), [
    (date(2026, 12, 1), 0, date(2026, 12, 1)),
    (date(2026, 1, 1), 1, date(2025, 12, 1)),
    (date(2026, 3, 1), 14, date(2025, 1, 1)),
])
def test_months_back(month, back, expected):
    assert months_back(month, back) == expected
