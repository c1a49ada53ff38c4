"""The working calendar: which days are working days, deadlines counted in working days,
working-time clocks, calendar CSV validation, and the shipped Xiaoshan calendar files.

The calendar under test is transcribed here, independently of the shipped CSV files, from the
State Council notices 国办发明电〔2024〕12号 (2025) and 国办发明电〔2025〕7号 (2026); a test
checks that the shipped files say the same.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from router.bundle.calendar import CalendarData, read_calendars
from router.domain.workdays import CalendarGap, WorkCalendar

SHANGHAI = ZoneInfo("Asia/Shanghai")
HOUR = 3600.0

# (first day off, last day off, make-up workdays) per festival, as the notices give them.
NOTICES = {
    2025: [
        (date(2025, 1, 1), date(2025, 1, 1), ()),
        (date(2025, 1, 28), date(2025, 2, 4), (date(2025, 1, 26), date(2025, 2, 8))),
        (date(2025, 4, 4), date(2025, 4, 6), ()),
        (date(2025, 5, 1), date(2025, 5, 5), (date(2025, 4, 27),)),
        (date(2025, 5, 31), date(2025, 6, 2), ()),
        (date(2025, 10, 1), date(2025, 10, 8), (date(2025, 9, 28), date(2025, 10, 11))),
    ],
    2026: [
        (date(2026, 1, 1), date(2026, 1, 3), (date(2026, 1, 4),)),
        (date(2026, 2, 15), date(2026, 2, 23), (date(2026, 2, 14), date(2026, 2, 28))),
        (date(2026, 4, 4), date(2026, 4, 6), ()),
        (date(2026, 5, 1), date(2026, 5, 5), (date(2026, 5, 9),)),
        (date(2026, 6, 19), date(2026, 6, 21), ()),
        (date(2026, 9, 25), date(2026, 9, 27), ()),
        (date(2026, 10, 1), date(2026, 10, 7), (date(2026, 9, 20), date(2026, 10, 10))),
    ],
}


def _days(first: date, last: date) -> set[date]:
    return {first + timedelta(days=n) for n in range((last - first).days + 1)}


NOTICE_HOLIDAYS = frozenset(d for spans in NOTICES.values() for first, last, _ in spans for d in _days(first, last))
NOTICE_WORKDAYS = frozenset(d for spans in NOTICES.values() for *_, makeup in spans for d in makeup)

CN = WorkCalendar(SHANGHAI, NOTICE_HOLIDAYS, NOTICE_WORKDAYS, frozenset(NOTICES))


def at(year: int, month: int, day: int, hour: int = 0, minute: int = 0, zone: ZoneInfo = SHANGHAI) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=zone)


# --- is_workday ---------------------------------------------------------------------------

IS_WORKDAY = [
    pytest.param(date(2025, 3, 7), True, id="friday"),
    pytest.param(date(2025, 3, 8), False, id="saturday"),
    pytest.param(date(2025, 3, 9), False, id="sunday"),
    pytest.param(date(2025, 3, 10), True, id="monday"),
    pytest.param(date(2025, 1, 1), False, id="元旦-wednesday"),
    pytest.param(date(2025, 5, 5), False, id="劳动节-monday"),
    pytest.param(date(2025, 1, 26), True, id="调休-sunday-before-春节"),
    pytest.param(date(2025, 2, 8), True, id="调休-saturday-after-春节"),
    pytest.param(date(2025, 10, 11), True, id="调休-saturday-after-国庆"),
    pytest.param(date(2025, 1, 27), True, id="春节-eve-of-break"),
    pytest.param(date(2025, 1, 28), False, id="春节-除夕"),
    pytest.param(date(2025, 1, 31), False, id="春节-friday-inside"),
    pytest.param(date(2025, 2, 1), False, id="春节-saturday-inside"),
    pytest.param(date(2025, 2, 4), False, id="春节-last-day"),
    pytest.param(date(2025, 2, 5), True, id="春节-back-to-work"),
    pytest.param(date(2025, 10, 8), False, id="国庆中秋-8th"),
    pytest.param(date(2025, 10, 9), True, id="国庆-back-to-work"),
    pytest.param(date(2026, 1, 4), True, id="2026-调休-sunday-after-元旦"),
    pytest.param(date(2026, 2, 23), False, id="2026-春节-monday"),
    pytest.param(date(2026, 9, 20), True, id="2026-调休-sunday-before-国庆"),
]


@pytest.mark.parametrize(("day", "expected"), IS_WORKDAY)
def test_is_workday(day: date, expected: bool):
    assert CN.is_workday(day) is expected


# --- add_working_days ---------------------------------------------------------------------

ADD_WORKING_DAYS = [
    pytest.param(at(2025, 3, 10, 9, 30), 1, at(2025, 3, 11, 9, 30), id="monday-morning-plus-1"),
    pytest.param(at(2025, 3, 10, 9, 30), 5, at(2025, 3, 17, 9, 30), id="monday-plus-5-skips-weekend"),
    pytest.param(at(2025, 3, 7, 20, 0), 1, at(2025, 3, 10, 20, 0), id="friday-evening-to-monday-evening"),
    pytest.param(at(2025, 3, 7, 23, 59), 2, at(2025, 3, 11, 23, 59), id="friday-late-plus-2"),
    pytest.param(at(2025, 3, 8, 11, 0), 1, at(2025, 3, 11), id="saturday-to-end-of-monday"),
    pytest.param(at(2025, 10, 3, 10, 0), 1, at(2025, 10, 10), id="国庆-holiday-to-end-of-first-workday"),
    pytest.param(at(2025, 10, 3, 10, 0), 2, at(2025, 10, 11), id="国庆-holiday-plus-2-ends-friday-10th"),
    pytest.param(at(2025, 10, 3, 10, 0), 3, at(2025, 10, 12), id="国庆-holiday-plus-3-ends-on-调休-saturday"),
    pytest.param(at(2025, 10, 11, 9, 0), 1, at(2025, 10, 13, 9, 0), id="调休-saturday-is-a-workday-start"),
    pytest.param(at(2025, 9, 26, 15, 0), 1, at(2025, 9, 28, 15, 0), id="friday-to-调休-sunday"),
    pytest.param(at(2025, 1, 24, 17, 0), 1, at(2025, 1, 26, 17, 0), id="friday-to-春节-调休-sunday"),
    pytest.param(at(2025, 1, 27, 10, 0), 1, at(2025, 2, 5, 10, 0), id="across-春节"),
    pytest.param(at(2025, 1, 27, 10, 0), 2, at(2025, 2, 6, 10, 0), id="across-春节-plus-2"),
    pytest.param(at(2025, 2, 1, 10, 0), 3, at(2025, 2, 8), id="inside-春节-plus-3-ends-when-friday-ends"),
    pytest.param(at(2025, 12, 31, 10, 0), 1, at(2026, 1, 4, 10, 0), id="new-year-to-调休-sunday"),
    pytest.param(datetime.fromisoformat("2025-03-07T12:00:00+00:00"), 1, at(2025, 3, 10, 20, 0), id="utc-input-is-friday-20h-local"),
    pytest.param(datetime.fromisoformat("2025-03-09T16:30:00+00:00"), 1, at(2025, 3, 11, 0, 30), id="utc-sunday-is-local-monday"),
    pytest.param(datetime.fromisoformat("2025-03-07T16:30:00+00:00"), 1, at(2025, 3, 11), id="utc-friday-is-local-saturday"),
]


@pytest.mark.parametrize(("start", "days", "expected"), ADD_WORKING_DAYS)
def test_add_working_days(start: datetime, days: int, expected: datetime):
    deadline = CN.add_working_days(start, days)
    assert deadline == expected
    assert deadline.tzinfo is SHANGHAI
    assert (deadline.hour, deadline.minute) == (expected.hour, expected.minute)


@pytest.mark.parametrize("days", [0, -1])
def test_add_working_days_needs_at_least_one_day(days: int):
    with pytest.raises(ValueError, match="at least 1"):
        CN.add_working_days(at(2025, 3, 10, 9), days)


@pytest.mark.parametrize(
    "call",
    [
        lambda: CN.add_working_days(datetime(2025, 3, 10, 9), 1),
        lambda: CN.working_seconds(datetime(2025, 3, 10, 9), at(2025, 3, 11)),
        lambda: CN.advance_working(datetime(2025, 3, 10, 9), 60),
    ],
    ids=["add_working_days", "working_seconds", "advance_working"],
)
def test_naive_datetimes_are_refused(call):
    with pytest.raises(ValueError, match="naive"):
        call()


# --- working_seconds -----------------------------------------------------------------------

WORKING_SECONDS = [
    pytest.param(at(2025, 3, 10, 9), at(2025, 3, 10, 11), 2 * HOUR, id="same-workday"),
    pytest.param(at(2025, 3, 7, 18), at(2025, 3, 10, 9), 15 * HOUR, id="across-weekend-fri-6h-mon-9h"),
    pytest.param(at(2025, 3, 8, 1), at(2025, 3, 9, 23), 0.0, id="inside-weekend"),
    pytest.param(at(2025, 9, 30, 12), at(2025, 10, 9, 12), 24 * HOUR, id="across-国庆-8-days-off"),
    pytest.param(at(2025, 10, 2), at(2025, 10, 5), 0.0, id="inside-国庆"),
    pytest.param(at(2025, 10, 10), at(2025, 10, 13), 48 * HOUR, id="friday-and-调休-saturday"),
    pytest.param(at(2025, 9, 27), at(2025, 9, 29), 24 * HOUR, id="saturday-off-sunday-调休"),
    pytest.param(at(2025, 1, 27, 12), at(2025, 2, 5, 12), 24 * HOUR, id="across-春节"),
    pytest.param(at(2025, 12, 31, 12), at(2026, 1, 5), 36 * HOUR, id="across-new-year-with-调休-sunday"),
    pytest.param(at(2025, 3, 10, 11), at(2025, 3, 10, 9), -2 * HOUR, id="reversed-is-negative"),
    pytest.param(at(2025, 3, 10, 9), at(2025, 3, 10, 9), 0.0, id="empty"),
    pytest.param(datetime.fromisoformat("2025-03-07T10:00:00+00:00"), at(2025, 3, 10, 9), 15 * HOUR,
                 id="mixed-zones-same-instants"),
]


@pytest.mark.parametrize(("start", "end", "expected"), WORKING_SECONDS)
def test_working_seconds(start: datetime, end: datetime, expected: float):
    assert CN.working_seconds(start, end) == expected


# --- advance_working -----------------------------------------------------------------------

ADVANCE_WORKING = [
    pytest.param(at(2025, 3, 10, 9), 2 * HOUR, at(2025, 3, 10, 11), id="same-day"),
    pytest.param(at(2025, 3, 7, 20), 8 * HOUR, at(2025, 3, 10, 4), id="over-weekend"),
    pytest.param(at(2025, 3, 7, 20), 12 * HOUR, at(2025, 3, 10, 8), id="50pct-of-friday-evening-1-day-clock"),
    pytest.param(at(2025, 3, 7, 20), 0.8 * 24 * HOUR, at(2025, 3, 10, 15, 12), id="80pct-of-friday-evening-1-day-clock"),
    pytest.param(at(2025, 10, 3, 10), 1.0, at(2025, 10, 9) + timedelta(seconds=1), id="from-holiday-starts-on-next-workday"),
    pytest.param(at(2025, 9, 30, 12), 12 * HOUR, at(2025, 10, 1), id="exact-end-of-day-is-earliest-instant"),
    pytest.param(at(2025, 9, 30, 12), 12 * HOUR + 1, at(2025, 10, 9) + timedelta(seconds=1), id="one-second-more-jumps-国庆"),
    pytest.param(at(2025, 10, 10, 12), 24 * HOUR, at(2025, 10, 11, 12), id="through-调休-saturday"),
    pytest.param(at(2025, 3, 8, 10), 0.0, at(2025, 3, 8, 10), id="zero-is-start"),
]


@pytest.mark.parametrize(("start", "seconds", "expected"), ADVANCE_WORKING)
def test_advance_working(start: datetime, seconds: float, expected: datetime):
    moment = CN.advance_working(start, seconds)
    assert moment == expected
    assert moment.tzinfo is SHANGHAI


def test_advance_working_refuses_negative_seconds():
    with pytest.raises(ValueError, match="negative"):
        CN.advance_working(at(2025, 3, 10, 9), -1)


def test_warnings_at_50_and_80_percent_of_a_working_day_clock():
    start = at(2025, 9, 30, 16)
    deadline = CN.add_working_days(start, 2)
    total = CN.working_seconds(start, deadline)
    assert (deadline, total) == (at(2025, 10, 10, 16), 48 * HOUR)
    assert CN.advance_working(start, total * 0.5) == at(2025, 10, 9, 16)
    assert CN.advance_working(start, total * 0.8) == at(2025, 10, 10, 6, 24)
    assert CN.advance_working(start, total) == deadline


# --- properties ----------------------------------------------------------------------------

starts = st.datetimes(min_value=datetime(2025, 1, 1), max_value=datetime(2026, 10, 31, 23, 59),
                      timezones=st.just(SHANGHAI))
spans = st.floats(min_value=0, max_value=20 * 24 * HOUR, allow_nan=False)


@settings(max_examples=300, deadline=None)
@given(start=starts, seconds=spans)
def test_advance_working_is_the_inverse_of_working_seconds(start: datetime, seconds: float):
    moment = CN.advance_working(start, seconds)
    assert moment >= start
    assert CN.working_seconds(start, moment) == pytest.approx(seconds, abs=1e-3)


@settings(max_examples=200, deadline=None)
@given(start=starts, elapsed=st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=40)))
def test_advance_working_never_passes_the_end_it_was_measured_to(start: datetime, elapsed: timedelta):
    end = start + elapsed
    moment = CN.advance_working(start, CN.working_seconds(start, end))
    assert moment <= end
    if CN.is_workday(end.date()) and end.time() != time(0):
        assert abs((moment - end).total_seconds()) < 1e-3


@settings(max_examples=200, deadline=None)
@given(start=starts, days=st.integers(min_value=1, max_value=15))
def test_a_deadline_is_n_working_days_away(start: datetime, days: int):
    deadline = CN.add_working_days(start, days)
    counted = CN.working_seconds(start, deadline)
    if CN.is_workday(start.date()):
        assert deadline.time() == start.time()
        assert CN.is_workday(deadline.date())
        assert counted == pytest.approx(days * 24 * HOUR)
    else:
        assert deadline.time().hour == 0 and deadline.time().minute == 0
        assert CN.is_workday((deadline - timedelta(days=1)).date())
        assert counted == pytest.approx(days * 24 * HOUR)


# --- gaps and invariants -------------------------------------------------------------------

GAPS = [
    pytest.param(lambda: CN.is_workday(date(2024, 12, 31)), 2024, id="is_workday-before"),
    pytest.param(lambda: CN.is_workday(date(2027, 1, 4)), 2027, id="is_workday-after"),
    pytest.param(lambda: CN.add_working_days(at(2026, 12, 30, 9), 3), 2027, id="deadline-runs-into-2027"),
    pytest.param(lambda: CN.add_working_days(at(2024, 12, 30, 9), 1), 2024, id="deadline-starts-in-2024"),
    pytest.param(lambda: CN.working_seconds(at(2024, 12, 31, 9), at(2025, 1, 2)), 2024, id="working_seconds-from-2024"),
    pytest.param(lambda: CN.advance_working(at(2026, 12, 31, 9), 24 * HOUR), 2027, id="advance-into-2027"),
]


@pytest.mark.parametrize(("call", "year"), GAPS)
def test_an_uncovered_year_raises_calendar_gap(call, year: int):
    with pytest.raises(CalendarGap, match=str(year)) as raised:
        call()
    assert raised.value.year == year
    assert isinstance(raised.value, ValueError)


def test_reaching_exactly_the_end_of_the_last_covered_day_needs_no_next_year():
    assert CN.advance_working(at(2026, 12, 31, 12), 12 * HOUR) == at(2027, 1, 1)
    assert CN.working_seconds(at(2026, 12, 31, 12), at(2027, 1, 1)) == 12 * HOUR


INVALID_CALENDARS = [
    pytest.param({"holidays": frozenset({date(2024, 12, 31)})}, "outside the covered years", id="date-outside-years"),
    pytest.param({"make_up_workdays": frozenset({date(2025, 3, 10)})}, "not a Saturday or Sunday", id="weekday-make-up"),
    pytest.param({"holidays": frozenset({date(2025, 3, 8)}), "make_up_workdays": frozenset({date(2025, 3, 8)})},
                 "both", id="both-kinds"),
]


@pytest.mark.parametrize(("fields", "message"), INVALID_CALENDARS)
def test_a_calendar_refuses_contradictions(fields: dict, message: str):
    base = {"timezone": SHANGHAI, "holidays": frozenset(), "make_up_workdays": frozenset(), "years": frozenset({2025})}
    with pytest.raises(ValueError, match=message):
        WorkCalendar(**{**base, **fields})


# --- daylight saving time (not in Shanghai, but the arithmetic must not assume it away) ----

BERLIN = ZoneInfo("Europe/Berlin")
# 2025-03-30 and 2025-10-26 are the Sundays on which Berlin's clocks change; make them working days.
DST = WorkCalendar(BERLIN, frozenset(), frozenset({date(2025, 3, 30), date(2025, 10, 26)}), frozenset({2025}))

DST_CASES = [
    pytest.param(lambda: DST.working_seconds(at(2025, 3, 30, zone=BERLIN), at(2025, 3, 31, zone=BERLIN)), 23 * HOUR,
                 id="spring-forward-day-is-23h"),
    pytest.param(lambda: DST.working_seconds(at(2025, 10, 26, zone=BERLIN), at(2025, 10, 27, zone=BERLIN)), 25 * HOUR,
                 id="fall-back-day-is-25h"),
    pytest.param(lambda: DST.advance_working(at(2025, 3, 30, zone=BERLIN), 23 * HOUR), at(2025, 3, 31, zone=BERLIN),
                 id="advance-a-23h-day"),
    pytest.param(lambda: DST.advance_working(at(2025, 10, 25, 12, zone=BERLIN), HOUR), at(2025, 10, 26, 1, zone=BERLIN),
                 id="advance-skips-saturday-then-counts-sunday"),
    pytest.param(lambda: DST.add_working_days(at(2025, 3, 28, 10, zone=BERLIN), 2).isoformat(), "2025-03-31T10:00:00+02:00",
                 id="same-clock-time-after-spring-forward"),
    pytest.param(lambda: DST.add_working_days(at(2025, 3, 29, 10, zone=BERLIN), 1).isoformat(), "2025-03-31T00:00:00+02:00",
                 id="end-of-23h-sunday"),
    pytest.param(lambda: DST.add_working_days(at(2025, 3, 28, 2, 30, zone=BERLIN), 1).isoformat(), "2025-03-30T03:30:00+02:00",
                 id="clock-time-in-the-gap-becomes-a-real-instant"),
]


@pytest.mark.parametrize(("call", "expected"), DST_CASES)
def test_daylight_saving_days(call, expected):
    assert call() == expected


# --- calendar CSV files --------------------------------------------------------------------

HEADER = "date,kind,name,source\n"
SRC = "国办发明电〔2024〕12号"


def write(directory: Path, name: str, text: str | bytes) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / name
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")


BROKEN_FILES = [
    pytest.param({"cn-2025.csv": HEADER + f"2025/01/26,workday,春节,{SRC}\n"},
                 [("calendar/cn-2025.csv", 2, "date")], id="not-iso-date"),
    pytest.param({"cn-2025.csv": HEADER + f"20250126,workday,春节,{SRC}\n"},
                 [("calendar/cn-2025.csv", 2, "date")], id="compact-iso-refused"),
    pytest.param({"cn-2025.csv": HEADER + f"2025-01-01,holiday,元旦,{SRC}\n2025-02-30,holiday,春节,{SRC}\n"},
                 [("calendar/cn-2025.csv", 3, "date")], id="no-such-day"),
    pytest.param({"cn-2025.csv": HEADER + f"2025-01-26,work,春节,{SRC}\n"},
                 [("calendar/cn-2025.csv", 2, "kind")], id="bad-kind"),
    pytest.param({"cn-2025.csv": HEADER + f"2026-01-01,holiday,元旦,{SRC}\n"},
                 [("calendar/cn-2025.csv", 2, "date")], id="date-outside-file-year"),
    pytest.param({"cn-2025.csv": HEADER + f"2025-01-27,workday,春节,{SRC}\n"},
                 [("calendar/cn-2025.csv", 2, "date")], id="workday-on-a-monday"),
    pytest.param({"cn-2025.csv": HEADER + f"2025-01-28,holiday,春节,{SRC}\n2025-01-28,holiday,春节,{SRC}\n"},
                 [("calendar/cn-2025.csv", 2, "date"), ("calendar/cn-2025.csv", 3, "date")], id="duplicate-holiday"),
    pytest.param({"cn-2025.csv": HEADER + f"2025-02-08,workday,春节,{SRC}\n2025-02-08,holiday,春节,{SRC}\n"},
                 [("calendar/cn-2025.csv", 2, "date"), ("calendar/cn-2025.csv", 3, "date")], id="both-kinds"),
    pytest.param({"cn-2025.csv": HEADER + "2025-01-01,holiday,元旦,\n"},
                 [("calendar/cn-2025.csv", 2, "source")], id="empty-source"),
    pytest.param({"cn-2025.csv": HEADER + f"2025-01-01,holiday,,{SRC}\n"},
                 [("calendar/cn-2025.csv", 2, "name")], id="empty-name"),
    pytest.param({"cn-2025.csv": f"date,kind,name,source,note\n2025-01-01,holiday,元旦,{SRC},x\n"},
                 [("calendar/cn-2025.csv", 1, "note")], id="unknown-column"),
    pytest.param({"cn-2025.csv": "date,kind,name\n2025-01-01,holiday,元旦\n"},
                 [("calendar/cn-2025.csv", 1, "source")], id="missing-column"),
    pytest.param({"cn-2025.csv": HEADER + f"2025-01-01,holiday,元旦,{SRC},extra\n"},
                 [("calendar/cn-2025.csv", 2, None)], id="more-cells-than-columns"),
    pytest.param({"cn-2025.csv": HEADER}, [("calendar/cn-2025.csv", None, None)], id="header-only"),
    pytest.param({"cn2025.csv": HEADER + f"2025-01-01,holiday,元旦,{SRC}\n"},
                 [("calendar/cn2025.csv", None, None)], id="bad-file-name"),
    pytest.param({"cn-2025.csv": HEADER + f"2025-01-01,holiday,元旦,{SRC}\n",
                  "hk-2025.csv": HEADER + f"2025-01-01,holiday,元旦,{SRC}\n"},
                 [("calendar/hk-2025.csv", None, None)], id="two-files-one-year"),
    pytest.param({"cn-2025.csv": (HEADER + f"2025-01-01,holiday,元旦,{SRC}\n").encode("gbk")},
                 [("calendar/cn-2025.csv", None, None)], id="not-utf8"),
]


@pytest.mark.parametrize(("files", "expected"), BROKEN_FILES)
def test_calendar_file_problems_name_file_line_and_field(tmp_path: Path, files: dict, expected: list):
    for name, text in files.items():
        write(tmp_path / "calendar", name, text)
    data = read_calendars(tmp_path / "calendar")
    assert [(p.file, p.line, p.field) for p in data.problems] == expected
    assert all(p.message for p in data.problems)


def test_a_good_calendar_file_reads_back(tmp_path: Path):
    write(tmp_path, "cn-2025.csv",
          "\ufeff" + HEADER + f" 2025-01-26 , workday ,春节,{SRC}\n2025-01-28,holiday,春节,{SRC}\n")
    write(tmp_path, "2026.csv", HEADER + "2026-01-01,holiday,元旦,provisional: statutory days only\n")
    write(tmp_path, "README.md", "not a calendar")
    data = read_calendars(tmp_path)
    assert data == CalendarData(
        years=frozenset({2025, 2026}),
        holidays=frozenset({date(2025, 1, 28), date(2026, 1, 1)}),
        workdays=frozenset({date(2025, 1, 26)}),
        problems=[],
        provisional=frozenset({2026}),
    )


def test_no_calendar_directory_covers_no_years(tmp_path: Path):
    assert read_calendars(tmp_path / "calendar") == CalendarData()


# --- the shipped Xiaoshan calendar ---------------------------------------------------------


@pytest.fixture(scope="module")
def shipped(xiaoshan_dir: Path) -> CalendarData:
    return read_calendars(xiaoshan_dir / "calendar")


def test_shipped_calendars_have_no_problems(shipped: CalendarData):
    assert shipped.problems == []
    assert shipped.years == {2025, 2026, 2027}
    assert shipped.provisional == {2027}


SHIPPED_DAYS = [
    pytest.param(date(2025, 1, 26), "workday", id="2025-01-26-调休"),
    pytest.param(date(2025, 10, 11), "workday", id="2025-10-11-调休"),
    pytest.param(date(2025, 10, 8), "holiday", id="2025-10-08-国庆中秋"),
    pytest.param(date(2025, 1, 28), "holiday", id="2025-01-28-除夕"),
    pytest.param(date(2026, 2, 14), "workday", id="2026-02-14-调休"),
    pytest.param(date(2026, 2, 23), "holiday", id="2026-02-23-春节"),
    pytest.param(date(2026, 10, 10), "workday", id="2026-10-10-调休"),
    pytest.param(date(2027, 2, 5), "holiday", id="2027-02-05-除夕-statutory"),
    pytest.param(date(2027, 9, 15), "holiday", id="2027-09-15-中秋-statutory"),
]


@pytest.mark.parametrize(("day", "kind"), SHIPPED_DAYS)
def test_shipped_calendar_days(shipped: CalendarData, day: date, kind: str):
    assert day in (shipped.workdays if kind == "workday" else shipped.holidays)


@pytest.mark.parametrize("year", [2025, 2026])
def test_shipped_official_years_match_the_notices(shipped: CalendarData, year: int):
    assert {d for d in shipped.holidays if d.year == year} == {d for d in NOTICE_HOLIDAYS if d.year == year}
    assert {d for d in shipped.workdays if d.year == year} == {d for d in NOTICE_WORKDAYS if d.year == year}


def test_shipped_2027_holds_only_the_13_statutory_days(shipped: CalendarData):
    # 全国年节及纪念日放假办法 (2024 revision): 元旦 1, 春节 4 (除夕–初三), 清明 1, 劳动节 2, 端午 1, 中秋 1, 国庆 3.
    assert sorted(d for d in shipped.holidays if d.year == 2027) == [
        date(2027, 1, 1),
        date(2027, 2, 5), date(2027, 2, 6), date(2027, 2, 7), date(2027, 2, 8),
        date(2027, 4, 5),
        date(2027, 5, 1), date(2027, 5, 2),
        date(2027, 6, 9),
        date(2027, 9, 15),
        date(2027, 10, 1), date(2027, 10, 2), date(2027, 10, 3),
    ]
    assert not {d for d in shipped.workdays if d.year == 2027}


def test_shipped_calendar_builds_a_work_calendar(shipped: CalendarData):
    calendar = WorkCalendar(SHANGHAI, shipped.holidays, shipped.workdays, shipped.years)
    assert calendar.add_working_days(at(2025, 9, 26, 15), 1) == at(2025, 9, 28, 15)
    assert calendar.is_workday(date(2027, 2, 8)) is False
