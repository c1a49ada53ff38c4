"""The working calendar (工作日历): which local days are working days (工作日), and clocks that count them.

A day is a working day when it is Monday to Friday and not a statutory holiday (法定节假日),
or a Saturday or Sunday that the State Council made a working day (调休 make-up workday).
A command centre works around the clock, so only the type of day matters, never the hour.

The calendar knows only the years it was given. Asking about any other year raises
`CalendarGap` rather than guessing from weekdays: a wrong guess silently moves deadlines.
All arithmetic is done in the calendar's local zone, on real instants, so it stays right in
zones with daylight saving time, where a local day lasts 23 or 25 hours.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo

SATURDAY = 5


class CalendarGap(ValueError):
    """The calendar has no data for a year it was asked about."""

    def __init__(self, year: int) -> None:
        self.year = year
        super().__init__(f"the working calendar does not cover {year}; add that year's calendar file to the bundle")


@dataclass(frozen=True, slots=True)
class WorkCalendar:
    """Working days of a jurisdiction for the years it covers, in its local time zone."""

    timezone: tzinfo
    holidays: frozenset[date]
    make_up_workdays: frozenset[date]
    years: frozenset[int]

    def __post_init__(self) -> None:
        outside = sorted(d for d in self.holidays | self.make_up_workdays if d.year not in self.years)
        if outside:
            raise ValueError(f"calendar dates outside the covered years: {outside[0]}")
        both = sorted(self.holidays & self.make_up_workdays)
        if both:
            raise ValueError(f"{both[0]} is both a holiday and a make-up workday")
        weekdays = sorted(d for d in self.make_up_workdays if d.weekday() < SATURDAY)
        if weekdays:
            raise ValueError(f"make-up workday {weekdays[0]} is not a Saturday or Sunday")

    def is_workday(self, day: date) -> bool:
        """Whether `day` is a working day; CalendarGap if its year is not covered."""
        if day.year not in self.years:
            raise CalendarGap(day.year)
        if day.weekday() >= SATURDAY:
            return day in self.make_up_workdays
        return day not in self.holidays

    def add_working_days(self, start: datetime, days: int) -> datetime:
        """The deadline `days` working days after the aware instant `start`, in the calendar's zone.

        Counting starts with the first working day after `start`'s local date. If `start` is on
        a working day, the deadline is the same local clock time on the `days`-th following working
        day (Friday 20:00 plus one working day is Monday 20:00). If `start` is on a non-working
        day (weekend, holiday), the deadline is the end of the `days`-th working day, 24:00 local,
        returned as 00:00 of the day after (a report received on a holiday Saturday with one working
        day is due when Monday ends). `days` must be at least 1.
        """
        if days < 1:
            raise ValueError(f"days must be at least 1, not {days}")
        local = self._local(start)
        target = local.date()
        for _ in range(days):
            target = self._next_workday(target)
        if self.is_workday(local.date()):
            return self._at(target, local.time(), local.fold)
        return self._midnight(target + timedelta(days=1)).astimezone(self.timezone)

    def working_seconds(self, start: datetime, end: datetime) -> float:
        """Seconds between two aware instants that fall on working days (negative if `end` is earlier)."""
        begin, finish = self._local(start).astimezone(UTC), self._local(end).astimezone(UTC)
        if finish < begin:
            return -self.working_seconds(end, start)
        total = 0.0
        for day, day_start, day_end in self._days(start):
            if day_start >= finish:
                break
            if self.is_workday(day):
                total += (min(day_end, finish) - max(day_start, begin)).total_seconds()
        return total

    def advance_working(self, start: datetime, seconds: float) -> datetime:
        """The earliest instant at which `seconds` of working time have passed since `start`.

        The inverse of `working_seconds`; returned in the calendar's zone. Time on non-working
        days does not count, so the clock may jump over a weekend or a holiday.
        """
        if seconds < 0:
            raise ValueError(f"seconds must not be negative, not {seconds}")
        remaining = timedelta(seconds=seconds)
        instant = self._local(start).astimezone(UTC)
        if not remaining:
            return instant.astimezone(self.timezone)
        for day, _, day_end in self._days(start):
            if not self.is_workday(day):
                instant = day_end
                continue
            available = day_end - instant
            if remaining <= available:
                return (instant + remaining).astimezone(self.timezone)
            remaining -= available
            instant = day_end
        raise AssertionError("unreachable: _days never ends")

    # --- local time -------------------------------------------------------------------------

    def _local(self, moment: datetime) -> datetime:
        if moment.tzinfo is None or moment.utcoffset() is None:
            raise ValueError(f"a naive datetime has no place on the calendar: {moment.isoformat()}")
        return moment.astimezone(self.timezone)

    def _next_workday(self, day: date) -> date:
        day += timedelta(days=1)
        while not self.is_workday(day):
            day += timedelta(days=1)
        return day

    def _midnight(self, day: date) -> datetime:
        """The instant a local day begins, as UTC.

        With fold=0 zoneinfo reads a wall time that falls in a spring-forward gap with the offset
        in force before the gap, which is the instant the day actually begins; an ambiguous
        midnight resolves to its first occurrence. Either way the round trip through UTC is exact.
        """
        return datetime.combine(day, time(0), tzinfo=self.timezone).astimezone(UTC)

    def _at(self, day: date, clock: time, fold: int) -> datetime:
        # Through UTC and back so a clock time that does not exist that day comes out as a real instant.
        wall = datetime.combine(day, clock, tzinfo=self.timezone).replace(fold=fold)
        return wall.astimezone(UTC).astimezone(self.timezone)

    def _days(self, start: datetime) -> Iterator[tuple[date, datetime, datetime]]:
        """Local days from the one holding `start`, each with its first and next day's first instant (UTC)."""
        day = self._local(start).date()
        day_start = self._midnight(day)
        while True:
            next_day = day + timedelta(days=1)
            day_end = self._midnight(next_day)
            yield day, day_start, day_end
            day, day_start = next_day, day_end
