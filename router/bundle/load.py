"""Load and check a bundle directory; every problem names its file, line and field.

A bundle is `bundle.toml` plus CSV files (towns, gazetteer, outside, categories,
keywords) and an optional `boundaries.geojson`. See docs/jurisdiction.md.
"""

from __future__ import annotations

import csv
import json
import re
import tomllib
from collections import Counter
from datetime import timedelta
from pathlib import Path
from types import MappingProxyType
from typing import TypeVar
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ValidationError

from router.bundle.calendar import CALENDAR_DIR, CalendarData, read_calendars
from router.bundle.problems import Problem
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
    TownRow,
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
    Town,
    Verdict,
    Village,
)
from router.domain.lifecycle import LifecycleRules
from router.domain.loop import LoopRules, MergeRules
from router.domain.notify import Webhook, Webhooks
from router.domain.ranking import Indicator, RankingRules
from router.domain.sla import ClockStart, EscalationStep, Limit, SlaPolicy, SlaTable, Unit
from router.domain.workdays import WorkCalendar

MANIFEST = "bundle.toml"
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
}
_OPTIONAL = {"outside.csv", "categories.csv", "neutral.csv", "notify.csv"}

Row = TypeVar("Row", bound=BaseModel)


class BundleError(Exception):
    """A bundle failed validation; `problems` lists every error found."""

    def __init__(self, directory: Path, problems: list[Problem]) -> None:
        self.directory = directory
        self.problems = problems
        listing = "\n".join(f"  {p}" for p in problems)
        super().__init__(f"invalid jurisdiction bundle {directory} ({len(problems)} problems):\n{listing}")


def load_bundle(directory: str | Path) -> Jurisdiction:
    """The jurisdiction a bundle describes, or BundleError naming every problem."""
    reader = _Reader(Path(directory))
    jurisdiction = reader.read()
    if reader.problems or jurisdiction is None:
        raise BundleError(reader.directory, reader.problems)
    return jurisdiction


def check_bundle(directory: str | Path) -> list[Problem]:
    """Every problem in a bundle; an empty list means it loads."""
    reader = _Reader(Path(directory))
    reader.read()
    return reader.problems


class _Reader:
    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.problems: list[Problem] = []

    def read(self) -> Jurisdiction | None:
        if not self.directory.is_dir():
            self.problems.append(Problem(str(self.directory), None, None, "not a directory"))
            return None
        manifest = self._manifest()
        tables = {name: self._csv(name, model) for name, model in _CSV_FILES.items()}
        boundaries = self._boundaries()
        calendars = self._calendars()
        if manifest is None:
            return None
        self._cross_check(tables)
        self._check_key_dispute_types(manifest, tables)
        self._check_caller_centres(manifest, tables)
        self._check_notify_units(manifest, tables)
        town_codes = {row.code for _, row in tables["towns.csv"]}
        for boundary in boundaries:
            if boundary.town_code not in town_codes:
                self.problems.append(Problem(BOUNDARIES, None, "properties.town_code",
                                             f"unknown town {boundary.town_code!r}"))
        if self.problems:
            return None
        return _build(manifest, tables, boundaries, calendars)

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
            code = (feature.get("properties") or {}).get("town_code")
            geometry = feature.get("geometry") or {}
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
        loop=_loop_rules(manifest, tables, calendars),
        ranking=_ranking_rules(manifest),
        hotspots=manifest.hotspots.rules(),
        safety=manifest.safety_index.rules(),
        webhooks=Webhooks(tuple(Webhook(r.unit_code, r.name, r.url, frozenset(r.events), r.secret_env)
                                for _, r in tables["notify.csv"]), d.centre.code),
        keep_photo_location=manifest.evidence.keep_location,
        callers_for_centres=frozenset(manifest.topics.callers_for_centres),
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
