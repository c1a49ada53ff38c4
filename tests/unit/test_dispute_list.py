"""The monthly key-dispute list's membership and figures, on hand-made disputes."""

from __future__ import annotations

from datetime import UTC, datetime

from router.domain.dispute_list import Figures, ListedDispute, belongs, figures

START, END = datetime(2026, 11, 1, tzinfo=UTC), datetime(2026, 12, 1, tzinfo=UTC)


def test_a_dispute_is_listed_until_the_month_after_it_was_resolved():
    flagged = datetime(2026, 10, 20, tzinfo=UTC)
    assert belongs(flagged, None, START, END)  # open: carried over
    assert belongs(flagged, datetime(2026, 11, 3, tzinfo=UTC), START, END)  # resolved this month
    assert not belongs(flagged, datetime(2026, 10, 30, tzinfo=UTC), START, END)  # resolved last month
    assert not belongs(datetime(2026, 12, 1, tzinfo=UTC), None, START, END)  # flagged next month


def test_figures_per_town_and_in_total():
    resolved, late = datetime(2026, 11, 9, tzinfo=UTC), datetime(2026, 12, 2, tzinfo=UTC)
    disputes = [ListedDispute("A", "t1", resolved), ListedDispute("B", "t1", None), ListedDispute("C", "t2", late),
                ListedDispute("D", "t2", resolved), ListedDispute("E", "t2", resolved)]
    towns, total = figures(disputes, END)
    assert towns == {"t1": Figures(2, 1), "t2": Figures(3, 2)}  # C closed after the month: not this month's
    assert (total.issued, total.resolved, total.rate) == (5, 3, 0.6)
    assert figures([], END)[1].rate is None
