"""The 红黄黑榜 core: rates, scores, grades at their thresholds, ties, ungraded towns, 同比 trends."""

from __future__ import annotations

from datetime import date

import pytest

from router.domain.ranking import (
    Grade,
    Indicator,
    RankingRules,
    TownMonth,
    a_year_earlier,
    compare,
    draw,
    rank,
    score,
)

EQUAL = dict.fromkeys(Indicator, 1.0)
RULES = RankingRules(EQUAL, red_min_score=90, black_below_score=70, min_orders=5)
A, B, C, D = "330109001", "330109002", "330109003", "330109004"


def month(code: str, n: int = 10, *, ack: int | None = None, ack_ok: int | None = None, rep: int | None = None,
          rep_ok: int | None = None, closed: int | None = None, returned: int = 0, reopened: int = 0,
          due: int | None = None) -> TownMonth:
    """A town whose `n` dispatches all went well, except as overridden; every deadline has passed
    unless `due` says how many 签收 deadlines have (the rest are neither done nor due yet)."""
    ack = n if ack is None else ack
    rep = ack if rep is None else rep
    return TownMonth(code, n, ack, ack if ack_ok is None else ack_ok, rep, rep if rep_ok is None else rep_ok,
                     rep if closed is None else closed, returned, reopened,
                     acknowledge_settled=n if due is None else due, report_settled=ack, resolve_settled=ack)


RATES = [
    pytest.param(month(A), dict.fromkeys(Indicator, 1.0) | {Indicator.RETURNS: 0.0, Indicator.REOPENS: 0.0},
                 id="all-well"),
    pytest.param(month(A, 10, ack=8, ack_ok=6, rep=4, rep_ok=2, closed=3, returned=1, reopened=1),
                 {Indicator.ACKNOWLEDGE_ON_TIME: 0.6, Indicator.REPORT_ON_TIME: 0.25, Indicator.RESOLUTION: 0.375,
                  Indicator.RETURNS: 0.1, Indicator.REOPENS: 0.25}, id="each-over-its-own-denominator"),
    pytest.param(TownMonth(A), dict.fromkeys(Indicator), id="no-orders-nothing-to-measure"),
    pytest.param(month(A, 10, ack=6, due=6), {Indicator.ACKNOWLEDGE_ON_TIME: 1.0, Indicator.REPORT_ON_TIME: 1.0,
                                              Indicator.RESOLUTION: 1.0, Indicator.RETURNS: 0.0,
                                              Indicator.REOPENS: 0.0},
                 id="orders-not-yet-due-count-neither-way"),
    pytest.param(month(A, 4, ack=0), {Indicator.ACKNOWLEDGE_ON_TIME: 0.0, Indicator.REPORT_ON_TIME: None,
                                      Indicator.RESOLUTION: None, Indicator.RETURNS: 0.0, Indicator.REOPENS: None},
                 id="none-acknowledged"),
]


@pytest.mark.parametrize(("facts", "expected"), RATES)
def test_rates(facts: TownMonth, expected):
    assert facts.rates() == pytest.approx(expected)


@pytest.mark.parametrize(
    "counts",
    [
        pytest.param({"dispatched": 1, "acknowledged": 2}, id="more-acknowledged-than-dispatched"),
        pytest.param({"dispatched": 2, "acknowledged": 2, "acknowledge_settled": 1}, id="acknowledged-yet-unsettled"),
        pytest.param({"dispatched": 2, "acknowledged": 1, "acknowledged_on_time": 2}, id="more-on-time"),
        pytest.param({"dispatched": 2, "acknowledged": 2, "reported": 1, "closed": 2}, id="closed-unreported"),
        pytest.param({"dispatched": -1}, id="negative"),
    ],
)
def test_impossible_facts_are_a_bug(counts):
    with pytest.raises(ValueError):
        TownMonth(A, **counts)


SCORES = [
    # (rates, weights, score)
    pytest.param(month(A).rates(), EQUAL, 100.0, id="perfect"),
    pytest.param(month(A, 10, ack_ok=5).rates(), EQUAL, 90.0, id="half-late-acknowledgements"),
    pytest.param(month(A, 10, returned=10).rates(), EQUAL, 80.0, id="every-order-returned-lower-is-better"),
    pytest.param(month(A, 10, ack_ok=5).rates(), EQUAL | {Indicator.ACKNOWLEDGE_ON_TIME: 0.0}, 100.0,
                 id="zero-weight-does-not-count"),
    pytest.param(month(A, 4, ack=0).rates(), EQUAL, 20.0, id="unmeasured-indicators-earn-nothing"),
    pytest.param(TownMonth(A).rates(), EQUAL, None, id="no-orders-no-score"),
    pytest.param(month(A, 3, ack_ok=2).rates(), EQUAL, 93.33, id="rounded-to-2-decimals"),
]


@pytest.mark.parametrize(("rates", "weights", "expected"), SCORES)
def test_score(rates, weights, expected):
    assert score(rates, weights) == expected


GRADES = [
    # ack_ok of 10 dispatches (everything else perfect) → score 100 − 2 × (10 − ack_ok) → grade
    pytest.param(5, 90.0, Grade.RED, id="red-at-its-threshold"),
    pytest.param(4, 88.0, Grade.YELLOW, id="just-below-red"),
    pytest.param(0, 80.0, Grade.YELLOW, id="yellow"),
]


@pytest.mark.parametrize(("ack_ok", "expected_score", "grade"), GRADES)
def test_grade_thresholds(ack_ok: int, expected_score: float, grade: Grade):
    [line] = rank([month(A, 10, ack_ok=ack_ok)], RULES)
    assert (line.score, line.grade, line.rank) == (expected_score, grade, 1)


@pytest.mark.parametrize(
    ("black_below", "grade"),
    [pytest.param(80, Grade.YELLOW, id="at-black-threshold-is-yellow"),
     pytest.param(80.01, Grade.BLACK, id="below-black-threshold")],
)
def test_black_threshold(black_below: float, grade: Grade):
    rules = RankingRules(EQUAL, red_min_score=90, black_below_score=black_below, min_orders=5)
    [line] = rank([month(A, 10, ack_ok=0)], rules)
    assert (line.score, line.grade) == (80.0, grade)


def test_ties_share_a_rank_and_list_by_town_code():
    lines = rank([month(D, 10, ack_ok=0), month(C), month(B, 20, ack_ok=0), month(A, 10, ack_ok=5)], RULES)
    assert [(line.town_code, line.score, line.rank) for line in lines] == [
        (C, 100.0, 1), (A, 90.0, 2), (B, 80.0, 3), (D, 80.0, 3)]


def test_the_rank_after_a_tie_skips():
    lines = rank([month(A), month(B), month(C, ack_ok=5)], RULES)
    assert [line.rank for line in lines] == [1, 1, 3]


def test_towns_below_min_orders_and_without_orders_are_listed_ungraded_last():
    lines = rank([TownMonth(B), month(C, 4), month(D, 5, ack=0)], RULES)
    assert [(line.town_code, line.rank, line.grade, line.score) for line in lines] == [
        (D, 1, Grade.BLACK, 20.0), (B, None, Grade.UNGRADED, None), (C, None, Grade.UNGRADED, 100.0)]


def test_rank_of_nothing_is_an_empty_list():
    assert rank([], RULES) == []


@pytest.mark.parametrize(
    "change",
    [
        pytest.param({"weights": EQUAL | {Indicator.RETURNS: -1.0}}, id="negative-weight"),
        pytest.param({"weights": dict.fromkeys(Indicator, 0.0)}, id="all-zero"),
        pytest.param({"weights": {Indicator.RESOLUTION: 1.0}}, id="missing-indicator"),
        pytest.param({"red_min_score": 60}, id="red-below-black"),
        pytest.param({"min_orders": 0}, id="min-orders-zero"),
    ],
)
def test_inconsistent_rules_are_refused(change):
    values = {"weights": EQUAL, "red_min_score": 90, "black_below_score": 70, "min_orders": 5} | change
    with pytest.raises(ValueError):
        RankingRules(**values)


def test_trend_is_now_minus_a_year_earlier_and_none_without_earlier_data():
    now = rank([month(A, 10, ack_ok=8, returned=1), month(B), month(C)], RULES)
    then = rank([month(A, 10, ack_ok=6, returned=3), TownMonth(B)], RULES)
    trends = compare(now, then)
    a = trends[A]
    assert a.rates[Indicator.ACKNOWLEDGE_ON_TIME] == pytest.approx(0.2)
    assert a.rates[Indicator.RETURNS] == pytest.approx(-0.2)
    assert a.rates[Indicator.RESOLUTION] == 0.0
    assert a.score == 8.0  # 94 now, 86 then
    assert set(trends[B].rates.values()) == {None} and trends[B].score is None  # no orders a year ago
    assert set(trends[C].rates.values()) == {None} and trends[C].score is None  # not on the earlier list


@pytest.mark.parametrize(("month_", "earlier"), [(date(2026, 11, 1), date(2025, 11, 1)),
                                                (date(2028, 2, 29), date(2027, 2, 1))])
def test_a_year_earlier(month_: date, earlier: date):
    assert a_year_earlier(month_) == earlier


def test_draw_ranks_the_month_with_its_trends():
    report = draw(date(2026, 11, 17), [month(A)], [month(A, ack_ok=5)], RULES)
    assert report.month == date(2026, 11, 1)
    assert [line.grade for line in report.lines] == [Grade.RED]
    assert report.trends[A].score == 10.0
