"""Load and check a bundle directory; every problem names its file, line and field.

A bundle is `bundle.toml` plus CSV files (towns, gazetteer, outside, categories,
keywords; optionally streets and street types) and an optional `boundaries.geojson`.
See docs/jurisdiction.md.
"""

from __future__ import annotations

import csv
import json
import re
import tomllib
from collections import Counter
from contextlib import suppress
from datetime import timedelta
from pathlib import Path
from types import MappingProxyType
from typing import TypeVar
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ValidationError

from router.bundle.calendar import CALENDAR_DIR, CalendarData, read_calendars
from router.bundle.consistency import calendar_problems, centre_problems, name_problems, rule_problems
from router.bundle.problems import Problem, warning
from router.bundle.rows import (
    CategoryRow,
    EscalationRow,
    KeywordRow,
    Manifest,
    NeutralRow,
    NotifyRow,
    OutsideRow,
    ReturnReasonRow,
    SlaRow,
    StreetRow,
    StreetTypeRow,
    TownRow,
    UnitsSection,
    VillageRow,
)
from router.domain.jurisdiction import (
    Boundary,
    CategoryRule,
    ClassificationRules,
    CommandCentre,
    Jurisdiction,
    KeywordRule,
    OutsidePlace,
    PetitionRegister,
    Street,
    StreetSegment,
    StreetType,
    Town,
    Verdict,
    Village,
)
from router.domain.lifecycle import LifecycleRules
from router.domain.loop import LoopRules, MergeRules
from router.domain.notify import Webhook, Webhooks
from router.domain.ranking import Indicator, RankingRules
from router.domain.sla import ClockStart, EscalationStep, Limit, SlaPolicy, SlaTable, Unit
from router.domain.terms import match_form
from router.domain.workdays import WorkCalendar

MANIFEST = "bundle.toml"
CASES_DIR = "cases"
BOUNDARIES = "boundaries.geojson"
_CSV_FILES: dict[str, type[BaseModel]] = {
    "towns.csv": TownRow,
    "gazetteer.csv": VillageRow,
    "outside.csv": OutsideRow,
    "categories.csv": CategoryRow,
    "keywords.csv": KeywordRow,
    "neutral.csv": NeutralRow,
    "sla.csv": SlaRow,
    "escalation.csv": EscalationRow,
    "return_reasons.csv": ReturnReasonRow,
    "notify.csv": NotifyRow,
    "streets.csv": StreetRow,
    "street_types.csv": StreetTypeRow,
}
_OPTIONAL = {"outside.csv", "categories.csv", "neutral.csv", "notify.csv", "streets.csv", "street_types.csv"}

Row = TypeVar("Row", bound=BaseModel)


class BundleError(Exception):
    """A bundle failed validation; `problems` lists every error found (and the warnings beside them)."""

    def __init__(self, directory: Path, problems: list[Problem]) -> None:
        self.directory = directory
        self.problems = problems
        listing = "\n".join(f"  {p}" for p in problems)
        super().__init__(f"invalid jurisdiction bundle {directory} ({len(problems)} problems):\n{listing}")


def read_bundle(directory: str | Path, *, year: int | None = None) -> tuple[Jurisdiction | None, list[Problem]]:
    """The jurisdiction a bundle describes (None when it has an error) and every problem found.

    `year` is the current year of the caller's clock: the calendars must cover it and the next
    one (a warning). The loader reads no clock itself.
    """
    reader = _Reader(Path(directory), year)
    jurisdiction = reader.read()
    return (None if reader.errors() else jurisdiction), reader.problems


def load_bundle(directory: str | Path, *, year: int | None = None) -> Jurisdiction:
    """The jurisdiction a bundle describes, or BundleError naming every problem; warnings do not stop it."""
    jurisdiction, problems = read_bundle(directory, year=year)
    if jurisdiction is None:
        raise BundleError(Path(directory), problems)
    return jurisdiction


def check_bundle(directory: str | Path, *, year: int | None = None) -> list[Problem]:
    """Every problem in a bundle, errors and warnings; it loads when none is an error."""
    return read_bundle(directory, year=year)[1]


class _Reader:
    def __init__(self, directory: Path, year: int | None) -> None:
        self.directory = directory
        self.year = year
        self.problems: list[Problem] = []
        self.units: UnitsSection | None = None  # read even when another part of the manifest is wrong

    def errors(self) -> list[Problem]:
        return [p for p in self.problems if not p.warning]

    def read(self) -> Jurisdiction | None:
        if not self.directory.is_dir():
            self.problems.append(Problem(str(self.directory), None, None, "not a directory"))
            return None
        manifest = self._manifest()
        tables = {name: self._csv(name, model) for name, model in _CSV_FILES.items()}
        boundaries = self._boundaries()
        calendars = self._calendars()
        if self.units is not None:  # before the cross-checks: a bad code explains their problems
            self._check_unit_codes(self.units, tables)
        if manifest is None:
            return None
        self._cross_check(tables)
        self._check_streets(tables)
        self._check_key_dispute_types(manifest, tables)
        self._check_caller_centres(manifest, tables)
        self._check_notify_units(manifest, tables)
        self._check_meanings(manifest, tables, calendars)
        town_codes = {row.code for _, row in tables["towns.csv"]}
        for boundary in boundaries:
            if boundary.town_code not in town_codes:
                self.problems.append(Problem(BOUNDARIES, None, "properties.town_code",
                                             f"unknown town {boundary.town_code!r}"))
        if self.errors():
            return None
        return _build(manifest, tables, boundaries, calendars)

    def _check_meanings(self, manifest: Manifest, tables: dict[str, list], calendars: CalendarData) -> None:
        if not any(p.file == "towns.csv" for p in self.problems):
            self.problems.extend(centre_problems(manifest, tables["towns.csv"]))
        self.problems.extend(name_problems(tables["towns.csv"], tables["gazetteer.csv"]))
        rules_complete = not any(p.file in ("keywords.csv", "categories.csv") for p in self.errors())
        self.problems.extend(rule_problems(tables["keywords.csv"], tables["categories.csv"], tables["sla.csv"],
                                           rules_complete=rules_complete))
        self.problems.extend(calendar_problems(calendars, self.year))
        self._check_case_categories(tables["categories.csv"])

    def _check_case_categories(self, categories: list) -> None:
        """`cases/*.jsonl` (fengqiao eval) may name only category codes of categories.csv."""
        known = {row.code for _, row in categories}
        for path in sorted((self.directory / CASES_DIR).glob("*.jsonl")):
            name = f"{CASES_DIR}/{path.name}"
            try:
                lines = path.read_text(encoding="utf-8").splitlines()
            except UnicodeDecodeError as error:
                self.problems.append(warning(name, None, None, f"not UTF-8: {error.reason} at byte {error.start}"))
                continue
            for number, text in enumerate(lines, start=1):
                try:
                    case = json.loads(text) if text.strip() else {}
                except json.JSONDecodeError as error:
                    self.problems.append(warning(name, number, None, f"not valid JSON: {error.msg}"))
                    continue
                code = case.get("category_code") if isinstance(case, dict) else None
                if code and code not in known:
                    self.problems.append(warning(name, number, "category_code",
                                                 f"unknown category {code!r}: not a code of categories.csv"))

    def _calendars(self) -> CalendarData:
        directory = self.directory / CALENDAR_DIR
        if not directory.is_dir():
            self.problems.append(Problem(f"{CALENDAR_DIR}/", None, None, "directory is missing"))
            return CalendarData()
        data = read_calendars(directory)
        self.problems.extend(data.problems)
        if not data.years and not data.problems:
            self.problems.append(Problem(f"{CALENDAR_DIR}/", None, None, "no calendar files"))
        return data

    def _manifest(self) -> Manifest | None:
        path = self.directory / MANIFEST
        if not path.is_file():
            self.problems.append(Problem(MANIFEST, None, None, "file is missing"))
            return None
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError as error:
            self.problems.append(Problem(MANIFEST, None, None, f"not UTF-8: {error.reason} at byte {error.start}"))
            return None
        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as error:
            line = getattr(error, "lineno", None) or _toml_error_line(str(error))
            self.problems.append(Problem(MANIFEST, line, None, f"not valid TOML: {error}"))
            return None
        with suppress(ValidationError):  # its problems, if any, are the manifest's own below
            self.units = UnitsSection.model_validate(data.get("units", {}))
        try:
            return Manifest.model_validate(data)
        except ValidationError as error:
            for e in error.errors():
                dotted = ".".join(str(part) for part in e["loc"])
                self.problems.append(Problem(MANIFEST, _toml_line(text, e["loc"]), dotted, e["msg"]))
            return None

    def _csv(self, name: str, model: type[Row]) -> list[tuple[int, Row]]:
        path = self.directory / name
        if not path.is_file():
            if name not in _OPTIONAL:
                self.problems.append(Problem(name, None, None, "file is missing"))
            return []
        rows: list[tuple[int, Row]] = []
        try:
            with path.open(encoding="utf-8-sig", newline="") as handle:
                reader = csv.DictReader(handle)
                expected = set(model.model_fields)
                unknown = [c for c in reader.fieldnames or [] if c not in expected]
                if unknown:
                    self.problems.append(Problem(name, 1, ",".join(unknown), "unknown column"))
                    return []
                for record in reader:
                    line = reader.line_num
                    if None in record:
                        self.problems.append(Problem(name, line, None, "more cells than columns"))
                        continue
                    values = {k: v for k, v in record.items() if v is not None}
                    try:
                        rows.append((line, model.model_validate(values)))
                    except ValidationError as error:
                        for e in error.errors():
                            field = ".".join(str(part) for part in e["loc"]) or None
                            self.problems.append(Problem(name, line, field, e["msg"]))
        except UnicodeDecodeError as error:
            self.problems.append(Problem(name, None, None, f"not UTF-8: {error.reason} at byte {error.start}"))
        except csv.Error as error:
            self.problems.append(Problem(name, reader.line_num or None, None, f"not valid CSV: {error}"))
        return rows

    def _boundaries(self) -> tuple[Boundary, ...]:
        path = self.directory / BOUNDARIES
        if not path.is_file():
            return ()
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except UnicodeDecodeError as error:
            self.problems.append(Problem(BOUNDARIES, None, None, f"not UTF-8: {error.reason} at byte {error.start}"))
            return ()
        except json.JSONDecodeError as error:
            self.problems.append(Problem(BOUNDARIES, error.lineno, None, f"not valid JSON: {error.msg}"))
            return ()
        if not isinstance(data, dict) or not isinstance(data.get("features", []), list):
            self.problems.append(Problem(BOUNDARIES, None, "features", "needs a FeatureCollection"))
            return ()
        boundaries = []
        for index, feature in enumerate(data.get("features", [])):
            field = f"features[{index}]"
            feature = feature if isinstance(feature, dict) else {}
            properties, geometry = feature.get("properties"), feature.get("geometry")
            code = properties.get("town_code") if isinstance(properties, dict) else None
            geometry = geometry if isinstance(geometry, dict) else {}
            polygons = {"Polygon": [geometry.get("coordinates")], "MultiPolygon": geometry.get("coordinates")}
            if not code or geometry.get("type") not in polygons:
                message = "needs properties.town_code and a (Multi)Polygon"
                self.problems.append(Problem(BOUNDARIES, None, field, message))
                continue
            try:
                rings = tuple(
                    tuple((float(x), float(y)) for x, y, *_ in ring)
                    for polygon in polygons[geometry["type"]]
                    for ring in polygon
                )
            except (TypeError, ValueError):
                self.problems.append(Problem(BOUNDARIES, None, f"{field}.geometry.coordinates",
                                             "needs rings of [lon, lat] numbers"))
                continue
            boundaries.append(Boundary(str(code), rings))
        return tuple(boundaries)

    def _check_unit_codes(self, units: UnitsSection, tables: dict[str, list]) -> None:
        """Every town and village code in the bundle's own form, `[units] code_pattern` (NBS digits by default);
        a row whose code is not is dropped like any invalid row, before the checks that follow from it."""
        pattern = re.compile(units.code_pattern)
        for name in ("towns.csv", "gazetteer.csv"):
            kept = []
            for line, row in tables[name]:
                if pattern.fullmatch(row.code):
                    kept.append((line, row))
                else:
                    self.problems.append(Problem(name, line, "code", f"{row.code!r} does not match "
                                                 f"[units] code_pattern {units.code_pattern!r}"))
            tables[name] = kept

    def _check_streets(self, tables: dict[str, list]) -> None:
        """Streets in known units, no house number in two units, no way of writing a street type twice."""
        town_codes = {row.code for _, row in tables["towns.csv"]}
        segments: dict[str, list[tuple[int, StreetRow]]] = {}
        for line, row in tables["streets.csv"]:
            if row.unit_code not in town_codes:
                self.problems.append(Problem("streets.csv", line, "unit_code", f"unknown unit {row.unit_code!r}"))
            for other_line, other in segments.setdefault(match_form(row.name), []):
                if _overlap(row, other):
                    self.problems.append(Problem("streets.csv", line, "from_number,to_number,parity",
                                                 f"house numbers overlap line {other_line} of {row.name!r}"))
            segments[match_form(row.name)].append((line, row))
        written: dict[str, int] = {}
        for line, row in tables["street_types.csv"]:
            for way in dict.fromkeys(match_form(w) for w in (row.name, *row.variants)):
                if way in written:
                    self.problems.append(Problem("street_types.csv", line, "variants",
                                                 f"{way!r} is already a way of writing line {written[way]}'s type"))
                written.setdefault(way, line)

    def _check_key_dispute_types(self, manifest: Manifest, tables: dict[str, list]) -> None:
        if any(p.file in ("keywords.csv", "categories.csv") for p in self.problems):
            return  # the matter types are not all known: the rule files' own problems come first
        known = {r.matter_type for _, r in tables["keywords.csv"] if r.verdict is Verdict.NON_POLICE} | {
            r.matter_type for _, r in tables["categories.csv"] if r.verdict is Verdict.NON_POLICE}
        for matter_type in manifest.merge.key_dispute_matter_types:
            if matter_type not in known:
                self.problems.append(Problem("bundle.toml", None, "merge.key_dispute_matter_types",
                                             f"{matter_type!r} is no non-police matter type of keywords.csv "
                                             "or categories.csv"))

    def _check_caller_centres(self, manifest: Manifest, tables: dict[str, list]) -> None:
        if any(p.file == "towns.csv" for p in self.problems):
            return  # the centres are not all known: towns.csv's own problems come first
        centres = {manifest.district.centre.code} | {r.centre_code for _, r in tables["towns.csv"]}
        for code in manifest.topics.callers_for_centres:
            if code not in centres:
                self.problems.append(Problem(MANIFEST, None, "topics.callers_for_centres",
                                             f"{code!r} is no centre_code of towns.csv nor the district centre"))

    def _check_notify_units(self, manifest: Manifest, tables: dict[str, list]) -> None:
        units = {manifest.district.centre.code} | {r.code for _, r in tables["towns.csv"]} | {
            r.centre_code for _, r in tables["towns.csv"]}
        for line, row in tables["notify.csv"]:
            if row.unit_code not in units:
                self.problems.append(Problem("notify.csv", line, "unit_code",
                                             f"unknown unit {row.unit_code!r}: not a town, a town's centre or the "
                                             "district centre"))

    def _cross_check(self, tables: dict[str, list]) -> None:
        towns = tables["towns.csv"]
        town_codes = {row.code for _, row in towns}
        unique_keys = (("towns.csv", "code"), ("gazetteer.csv", "code"), ("keywords.csv", "rule_id"),
                       ("neutral.csv", "word"),
                       ("categories.csv", "code"), ("outside.csv", "code"), ("escalation.csv", "step"),
                       ("return_reasons.csv", "code"), ("sla.csv", "matter_type,priority"),
                       ("notify.csv", "unit_code,name"))
        for name, key in unique_keys:
            fields = key.split(",")
            seen = Counter(tuple(getattr(row, f) for f in fields) for _, row in tables[name])
            for line, row in tables[name]:
                value = tuple(getattr(row, f) for f in fields)
                if seen[value] > 1:
                    shown = "/".join(map(str, value))
                    self.problems.append(Problem(name, line, key, f"duplicate {key} {shown!r}"))
        if tables["sla.csv"] and not any((r.matter_type, r.priority) == ("*", "*") for _, r in tables["sla.csv"]):
            self.problems.append(Problem("sla.csv", None, "matter_type,priority", "needs a default row *,*"))
        for line, row in tables["gazetteer.csv"]:
            if row.town_code not in town_codes:
                self.problems.append(Problem("gazetteer.csv", line, "town_code", f"unknown town {row.town_code!r}"))
        for line, row in tables["outside.csv"]:
            if row.code in town_codes:
                self.problems.append(Problem("outside.csv", line, "code", f"{row.code} is a town of this bundle"))
        if not towns:
            self.problems.append(Problem("towns.csv", None, None, "no towns"))


def _overlap(a: StreetRow, b: StreetRow) -> bool:
    """Whether one house number could lie in both stretches of a street."""
    if a.parity != b.parity and "all" not in (a.parity, b.parity):
        return False
    low, high = max(a.from_number or 0, b.from_number or 0), min(
        a.to_number if a.to_number is not None else 999_999, b.to_number if b.to_number is not None else 999_999)
    if low > high:
        return False
    if a.parity == b.parity or low < high:
        return True
    wanted = a.parity if a.parity != "all" else b.parity  # one shared number: it must be of the wanted parity
    return wanted == "all" or (low % 2 == 1) == (wanted == "odd")


def _streets(rows: list[tuple[int, StreetRow]]) -> tuple[Street, ...]:
    """One street per name (folded), with a segment per row and every row's aliases."""
    by_name: dict[str, list[StreetRow]] = {}
    for _, row in rows:
        by_name.setdefault(match_form(row.name), []).append(row)
    return tuple(
        Street(same[0].name, tuple(dict.fromkeys(n for r in same for n in (r.name, *r.aliases))),
               tuple(StreetSegment(r.unit_code, r.from_number, r.to_number, r.parity) for r in same))
        for same in by_name.values())


def _build(manifest: Manifest, tables: dict[str, list], boundaries: tuple[Boundary, ...],
           calendars: CalendarData) -> Jurisdiction:
    towns = tuple(
        Town(r.code, r.name, r.kind, CommandCentre(r.centre_code, r.centre_name), r.onboarded, r.aliases)
        for _, r in tables["towns.csv"]
    )
    villages = tuple(
        Village(
            r.code,
            r.name,
            r.town_code,
            tuple(dict.fromkeys(n for n in (r.name, r.short_name, *r.aliases, *r.former_names) if n)),
            retired=r.status == "retired",
        )
        for _, r in tables["gazetteer.csv"]
    )
    c = manifest.classification
    rules = ClassificationRules(
        keywords=tuple(
            KeywordRule(r.rule_id, r.verdict, r.matter_type, r.priority, r.terms, r.exclusions, r.negatable,
                        r.context, r.weak, r.acute)
            for _, r in tables["keywords.csv"]
        ),
        categories=tuple(
            CategoryRule(r.code, r.name, r.verdict, r.matter_type, r.priority) for _, r in tables["categories.csv"]
        ),
        negation_cues=c.negation_cues,
        negation_window=c.negation_window,
        negation_after_cues=c.negation_after_cues,
        negation_fillers=c.negation_fillers,
        neutral=tuple(r.word for _, r in tables["neutral.csv"]),
        petition=PetitionRegister(c.petition.titles, c.petition.openers, c.petition.requests)
        if c.petition else None,
    )
    d = manifest.district
    return Jurisdiction(
        name=manifest.bundle.name,
        version=manifest.bundle.version,
        district_code=d.code,
        district_name=d.name,
        district_centre=CommandCentre(d.centre.code, d.centre.name),
        towns=towns,
        villages=villages,
        rules=rules,
        outside=tuple(OutsidePlace(r.code, r.name, r.district) for _, r in tables["outside.csv"]),
        district_names=tuple(dict.fromkeys((d.name, *d.names))),
        boundaries=boundaries,
        streets=_streets(tables["streets.csv"]),
        street_types=tuple(StreetType(r.name, r.variants) for _, r in tables["street_types.csv"]),
        loop=_loop_rules(manifest, tables, calendars),
        ranking=_ranking_rules(manifest),
        hotspots=manifest.hotspots.rules(),
        safety=manifest.safety_index.rules(),
        webhooks=Webhooks(tuple(Webhook(r.unit_code, r.name, r.url, frozenset(r.events), r.secret_env)
                                for _, r in tables["notify.csv"]), d.centre.code),
        keep_photo_location=manifest.evidence.keep_location,
        callers_for_centres=frozenset(manifest.topics.callers_for_centres),
        unit_code_pattern=manifest.units.code_pattern,
    )


def _ranking_rules(manifest: Manifest) -> RankingRules:
    r = manifest.ranking
    return RankingRules(
        weights={Indicator(name): weight for name, weight in r.weights.model_dump().items()},
        red_min_score=r.red_min_score,
        black_below_score=r.black_below_score,
        min_orders=r.min_orders,
    )


def _loop_rules(manifest: Manifest, tables: dict[str, list], calendars: CalendarData) -> LoopRules:
    ladder = tuple(
        EscalationStep(r.kind, timedelta(minutes=r.after_minutes), r.target)
        for _, r in sorted(tables["escalation.csv"], key=lambda lr: lr[1].step)
    )
    policies = {
        (r.matter_type, r.priority): SlaPolicy(
            acknowledge=Limit(r.acknowledge_minutes, Unit.MINUTES),
            report=Limit(r.report, Unit(r.report_unit)),
            resolve=Limit(r.resolve, Unit(r.resolve_unit)),
            clock_start=ClockStart(r.clock_start),
            warn_at=tuple(sorted(r.warn_at)),
            ladder=ladder,
        )
        for _, r in tables["sla.csv"]
    }
    m = manifest.merge
    return LoopRules(
        sla=SlaTable(policies),
        lifecycle=LifecycleRules(MappingProxyType({r.code: r.name for _, r in tables["return_reasons.csv"]}),
                                 manifest.lifecycle.max_returns,
                                 MappingProxyType({r.code: r.misroute for _, r in tables["return_reasons.csv"]
                                                   if r.misroute})),
        calendar=WorkCalendar(ZoneInfo(manifest.bundle.timezone), calendars.holidays, calendars.workdays,
                              calendars.years),
        merge=MergeRules(
            window=timedelta(hours=m.window_hours),
            radius_m=m.radius_m,
            key_dispute_reports=m.key_dispute_reports,
            key_dispute_window=timedelta(days=m.key_dispute_window_days),
            key_dispute_working_days=m.key_dispute_working_days,
            key_dispute_matter_types=frozenset(m.key_dispute_matter_types),
        ),
    )


def _toml_error_line(message: str) -> int | None:
    found = re.search(r"line (\d+)", message)
    return int(found.group(1)) if found else None


def _toml_line(text: str, loc: tuple) -> int | None:
    """Best line for a dotted location: the key's own line, else its table's header."""
    keys = [str(part) for part in loc if isinstance(part, str)]
    table, best = "", None
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        header = re.fullmatch(r"\[([^\]]+)\]", line)
        if header:
            table = header.group(1).strip()
            if table == ".".join(keys):  # the location is this table itself
                return number
            if keys and table == ".".join(keys[:-1]):
                best = best or number
            continue
        key = re.match(r"([A-Za-z0-9_-]+)\s*=", line)
        if key and ".".join(filter(None, [table, key.group(1)])) == ".".join(keys):
            return number
    return best
