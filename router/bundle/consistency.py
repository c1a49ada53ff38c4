"""What a bundle's valid rows mean together: assumptions the engine would otherwise make silently.

Each check returns problems; errors refuse the bundle, warnings (`problems.warning`) load it.
docs/jurisdiction.md ("What `config check` reports") lists them all:

- centres: one `centre_code` has one `centre_name`; a `centre_code` that is another town's code
  must be that town's own centre; the district centre's code keeps the district centre's name;
- names: a town name or alias names one town (error); a name repeated within one town or village
  (warning); two villages of one town by one name (warning). Two villages of *different* towns
  may share a name: the resolver decides nothing from it (docs/jurisdiction.md, town resolution);
- rules: a term that is also one of its rule's exclusions never counts (warning), a rule whose
  every term or every context word is one of its exclusions never fires (error); an `sla.csv` row
  for a matter type no non-police rule or category names never applies (warning). Whether a term
  is always inside a longer word is a matter of the texts, not decidable from the bundle;
- calendars: the current and next year (of the injected clock) must be covered (warning).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from router.bundle.calendar import CALENDAR_DIR, CalendarData
from router.bundle.problems import Problem, warning
from router.bundle.rows import Manifest
from router.domain.jurisdiction import Verdict

TOWNS = "towns.csv"
GAZETTEER = "gazetteer.csv"
KEYWORDS = "keywords.csv"


def centre_problems(manifest: Manifest, towns: list) -> Iterator[Problem]:
    district = manifest.district.centre
    town_centre = {row.code: row for _, row in towns}
    named: dict[str, tuple[str, int]] = {district.code: (district.name, 0)}
    for line, row in towns:
        code, name = row.centre_code, row.centre_name
        other = town_centre.get(code)
        if other is not None and other.centre_code != code:
            yield Problem(TOWNS, line, "centre_code",
                          f"{code!r} names town {other.name} ({code}), which is no centre: its orders go to "
                          f"{other.centre_code!r}; name that centre, or the town's own code as its centre")
        elif code == manifest.district.code and code != district.code:
            yield Problem(TOWNS, line, "centre_code",
                          f"{code!r} is the district's code, not its centre's ({district.code!r}, [district.centre])")
        first = named.setdefault(code, (name, line))
        if first[0] != name:
            where = "[district.centre] in bundle.toml" if first[1] == 0 else f"line {first[1]}"
            yield Problem(TOWNS, line, "centre_name",
                          f"centre {code!r} is already named {first[0]!r} ({where}): one code, one centre")


def name_problems(towns: list, villages: list) -> Iterator[Problem]:
    holder: dict[str, tuple[str, int]] = {}
    for line, row in towns:
        yield from _repeated(TOWNS, line, (("name", (row.name,)), ("aliases", row.aliases)))
        for field, names in (("name", (row.name,)), ("aliases", row.aliases)):
            for name in dict.fromkeys(names):
                code, first = holder.setdefault(name, (row.code, line))
                if code != row.code:
                    yield Problem(TOWNS, line, field,
                                  f"{name!r} already names town {code} (line {first}): every mention would be "
                                  "ambiguous")
    seen: dict[tuple[str, str], tuple[str, int]] = {}
    for line, row in villages:
        fields = (("name", (row.name,)), ("short_name", (row.short_name,) if row.short_name else ()),
                  ("aliases", row.aliases), ("former_names", row.former_names))
        yield from _repeated(GAZETTEER, line, fields)
        code, first = seen.setdefault((row.town_code, row.name), (row.code, line))
        if code != row.code:  # the same code twice is a duplicate key, reported as such
            yield warning(GAZETTEER, line, "name",
                          f"town {row.town_code} already has a village {row.name!r} (line {first}): the "
                          "resolver cannot tell them apart")


def _repeated(file: str, line: int, fields: Iterable[tuple[str, tuple[str, ...]]]) -> Iterator[Problem]:
    seen: set[str] = set()
    for field, names in fields:
        for name in names:
            if name in seen:
                yield warning(file, line, field, f"{name!r} is listed twice for this row")
            seen.add(name)


def rule_problems(keywords: list, categories: list, sla: list, *, rules_complete: bool) -> Iterator[Problem]:
    """`rules_complete`: keywords.csv and categories.csv have no errors, so every matter type is known."""
    for line, rule in keywords:
        excluded = set(rule.exclusions)
        vetoed = [t for t in rule.terms if t in excluded]
        if len(vetoed) == len(rule.terms):
            yield Problem(KEYWORDS, line, "terms",
                          f"rule {rule.rule_id} can never fire: every term is also one of its exclusions")
            continue
        for term in vetoed:
            yield warning(KEYWORDS, line, "terms", f"{term!r} never counts: it is also an exclusion of this rule")
        if rule.context and excluded.issuperset(rule.context):
            yield Problem(KEYWORDS, line, "context",
                          f"rule {rule.rule_id} can never fire: every context word is also one of its exclusions")
    if not rules_complete:
        return
    matter_types = {r.matter_type for _, r in (*keywords, *categories) if r.verdict is Verdict.NON_POLICE}
    for line, row in sla:
        if row.matter_type != "*" and row.matter_type not in matter_types:
            yield warning("sla.csv", line, "matter_type",
                          f"{row.matter_type!r} is no matter type of a non-police rule or category: this row "
                          "never applies")


def calendar_problems(calendars: CalendarData, year: int | None) -> Iterator[Problem]:
    """Warnings for the current and next year when no calendar file covers them; `year` comes from
    the caller's clock (None: not checked)."""
    if year is None or calendars.problems:
        return
    for wanted in (year, year + 1):
        if wanted not in calendars.years:
            yield warning(f"{CALENDAR_DIR}/", None, None,
                          f"no calendar for {wanted}: a working-day deadline that reaches into it fails "
                          f"(CalendarGap) rather than guess; add {CALENDAR_DIR}/<region>-{wanted}.csv")
