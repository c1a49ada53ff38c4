"""Read a bundle's working calendars: `calendar/<region>-<year>.csv`, one file per year.

Columns `date,kind,name,source`: `date` is an ISO date (2025-01-26) inside the file's year,
`kind` is `holiday` (a day off: 法定节假日 and the days of its 放假调休 break) or `workday`
(a Saturday or Sunday made a working day, 调休上班), `name` the festival, `source` the
notice it comes from. Weekdays are working days and weekends are not unless a row says
otherwise, so a file lists only the exceptions. Every problem names its file, line and field.
See docs/calendar.md.
"""

from __future__ import annotations

import csv
import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from router.bundle.problems import Problem

CALENDAR_DIR = "calendar"
COLUMNS = ("date", "kind", "name", "source")
KINDS = ("holiday", "workday")
PROVISIONAL = "provisional"
_FILE_NAME = re.compile(r"^(?:[a-z0-9_]+-)?(\d{4})\.csv$")
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


@dataclass(frozen=True, slots=True)
class CalendarData:
    """The calendar years a bundle covers and their exceptions; trust it only when `problems` is empty.

    `provisional` holds the covered years with any row whose source starts with "provisional",
    that is years shipped before their State Council notice was published.
    """

    years: frozenset[int] = frozenset()
    holidays: frozenset[date] = frozenset()
    workdays: frozenset[date] = frozenset()
    problems: list[Problem] = field(default_factory=list)
    provisional: frozenset[int] = frozenset()


def read_calendars(directory: Path) -> CalendarData:
    """Every calendar file in `directory` (a bundle's `calendar/`), checked; no directory means no years."""
    directory = Path(directory)
    if not directory.is_dir():
        return CalendarData()
    problems: list[Problem] = []
    years: dict[int, str] = {}
    holidays: set[date] = set()
    workdays: set[date] = set()
    provisional: set[int] = set()
    for path in sorted(directory.iterdir()):
        if path.suffix.lower() != ".csv" or not path.is_file():
            continue
        name = f"{CALENDAR_DIR}/{path.name}"
        matched = _FILE_NAME.match(path.name)
        if not matched:
            problems.append(Problem(name, None, None, "file name must be [<region>-]<year>.csv, the region of a-z, "
                                    "0-9 and _: cn-2026.csv, us_il-2026.csv, 2026.csv"))
            continue
        year = int(matched.group(1))
        if year in years:
            problems.append(Problem(name, None, None, f"{year} is already covered by {years[year]}"))
            continue
        years[year] = name
        before = len(problems)
        rows = _read_file(path, name, year, problems)
        if not rows and len(problems) == before:
            problems.append(Problem(name, None, None, "no rows: a year without holidays is surely incomplete"))
        holidays.update(day for _, day, kind, _ in rows if kind == "holiday")
        workdays.update(day for _, day, kind, _ in rows if kind == "workday")
        if any(source.lower().startswith(PROVISIONAL) for *_, source in rows):
            provisional.add(year)
    return CalendarData(frozenset(years), frozenset(holidays), frozenset(workdays), problems, frozenset(provisional))


def _read_file(path: Path, name: str, year: int, problems: list[Problem]) -> list[tuple[int, date, str, str]]:
    """The file's valid rows as (line, date, kind, source); each invalid cell becomes a problem."""
    rows: list[tuple[int, date, str, str]] = []
    try:
        with path.open(encoding="utf-8-sig", newline="") as handle:
            reader = csv.DictReader(handle)
            header = [column.strip() for column in reader.fieldnames or []]
            unknown = [c for c in header if c not in COLUMNS]
            missing = [c for c in COLUMNS if c not in header]
            if unknown:
                problems.append(Problem(name, 1, ",".join(unknown), "unknown column"))
            if missing:
                problems.append(Problem(name, 1, ",".join(missing), "missing column"))
            if unknown or missing:
                return []
            reader.fieldnames = header
            for record in reader:
                row = _check_row(record, name, reader.line_num, year, problems)
                if row is not None:
                    rows.append(row)
    except UnicodeDecodeError as error:
        problems.append(Problem(name, None, None, f"not UTF-8: {error.reason} at byte {error.start}"))
        return []
    except csv.Error as error:
        problems.append(Problem(name, None, None, f"not valid CSV: {error}"))
        return []
    _check_repeats(rows, name, problems)
    return rows


def _check_row(
    record: dict, name: str, line: int, year: int, problems: list[Problem]
) -> tuple[int, date, str, str] | None:
    if None in record:
        problems.append(Problem(name, line, None, "more cells than columns"))
        return None
    cells = {column: (record.get(column) or "").strip() for column in COLUMNS}
    before = len(problems)
    day = _parse_date(cells["date"], name, line, problems)
    kind = cells["kind"]
    if kind not in KINDS:
        problems.append(Problem(name, line, "kind", f"must be holiday or workday, not {kind!r}"))
    for column in ("name", "source"):
        if not cells[column]:
            problems.append(Problem(name, line, column, "must not be empty"))
    if day is not None:
        if day.year != year:
            problems.append(Problem(name, line, "date", f"{day} is not in {year}, the year this file covers"))
        if kind == "workday" and day.weekday() < 5:
            problems.append(Problem(name, line, "date",
                                    f"{day} is a {day:%A}: a make-up workday must be a Saturday or Sunday"))
    if len(problems) > before or day is None:
        return None
    return line, day, kind, cells["source"]


def _parse_date(text: str, name: str, line: int, problems: list[Problem]) -> date | None:
    # date.fromisoformat also takes 20250126 and 2025-W05-7; one spelling keeps the files greppable.
    if not _ISO_DATE.match(text):
        problems.append(Problem(name, line, "date", f"must be an ISO date like 2025-01-26, not {text!r}"))
        return None
    try:
        return date.fromisoformat(text)
    except ValueError as error:
        problems.append(Problem(name, line, "date", f"not a date: {error}"))
        return None


def _check_repeats(rows: list[tuple[int, date, str, str]], name: str, problems: list[Problem]) -> None:
    seen = Counter((day, kind) for _, day, kind, _ in rows)
    kinds: dict[date, set[str]] = {}
    for _, day, kind, _ in rows:
        kinds.setdefault(day, set()).add(kind)
    for line, day, kind, _ in rows:
        if seen[(day, kind)] > 1:
            problems.append(Problem(name, line, "date", f"{day} is listed as {kind} more than once"))
        if len(kinds[day]) > 1:
            problems.append(Problem(name, line, "date", f"{day} is listed as both holiday and workday"))
