"""Pydantic models of a bundle's files, one per file or row; they hold the validation rules."""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, StringConstraints, ValidationInfo, field_validator

from router.bundle.timezones import is_zone, nearest_zones
from router.domain.hotspots import HotspotRules
from router.domain.jurisdiction import NBS_UNIT_CODES, NEGATION_FILLERS, Parity, Priority, Verdict
from router.domain.notify import ENV_REFERENCE, NotifyEvent
from router.domain.safety_index import Band, SafetyRules, Strain
from schemas.base import UNIT_CODE_CHARACTERS, UnitCode


def _split(value: object) -> object:
    if isinstance(value, str):
        return tuple(part.strip() for part in value.split("|") if part.strip())
    return value


def _yes_no(value: object) -> object:
    if isinstance(value, str):
        lowered = value.strip().lower()
        if lowered in ("yes", "true", "1"):
            return True
        if lowered in ("no", "false", "0", ""):
            return False
    return value


Names = Annotated[tuple[str, ...], BeforeValidator(_split)]
YesNo = Annotated[bool, BeforeValidator(_yes_no)]
# The characters of any code (the district's, a town's, a village's); whether a town or village code has the
# bundle's own format is `[units] code_pattern`'s to say (load.py; the same rule the feed's town_code is held to).
Code = Annotated[str, Field(pattern=UNIT_CODE_CHARACTERS)]
Text = Annotated[str, Field(min_length=1, max_length=200)]
# A command centre's code names its topic (`towns.<code>.orders.v1`): Kafka's topic characters, no dot.
CentreCode = Annotated[str, Field(pattern=r"^[A-Za-z0-9_-]{1,32}$")]
# What a unit of towns.csv is; the engine treats them all alike, the set keeps typos out.
TOWN_KINDS = ("town", "street", "township", "special_zone", "municipality", "district", "neighbourhood", "precinct",
              "beat")


class _Row(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


class CentreSection(_Row):
    code: CentreCode
    name: Text


class BundleSection(_Row):
    name: Annotated[str, Field(pattern=r"^[a-z][a-z0-9_-]{1,40}$")]
    version: Text
    timezone: Text = "Asia/Shanghai"
    description: str = ""

    @field_validator("timezone")
    @classmethod
    def _iana_zone(cls, timezone: str) -> str:
        if is_zone(timezone):
            return timezone
        nearest = nearest_zones(timezone)
        hint = f"; nearest: {', '.join(nearest)}" if nearest else ""
        raise ValueError(f"{timezone!r} is no IANA time zone name (Area/City, e.g. America/Los_Angeles){hint}")


class DistrictSection(_Row):
    code: Code
    name: Text
    names: tuple[Text, ...] = ()
    centre: CentreSection


class UnitsSection(_Row):
    """`[units]`: the format of this jurisdiction's unit codes (towns.csv, gazetteer.csv, streets.csv, the feed's
    town_code): a regular expression the whole code must match; the default is the NBS rule for Chinese districts."""

    code_pattern: Annotated[str, Field(min_length=1, max_length=200)] = NBS_UNIT_CODES

    @field_validator("code_pattern")
    @classmethod
    def _compiles(cls, pattern: str) -> str:
        try:
            re.compile(pattern)
        except re.error as error:
            raise ValueError(f"not a regular expression: {error}") from None
        return pattern


class PetitionSection(_Row):
    """`[classification.petition]`: the register of a message to the administration."""

    titles: Annotated[tuple[Text, ...], Field(min_length=1)]
    openers: tuple[Text, ...] = ()
    requests: tuple[Text, ...] = ()


class ClassificationSection(_Row):
    negation_cues: tuple[Text, ...] = ()
    negation_after_cues: tuple[Text, ...] = ()
    negation_window: Annotated[int, Field(ge=0, le=10)] = 2
    # Not trimmed: a language with spaces needs the space itself (`" "`: "no shots").
    negation_fillers: Annotated[str, StringConstraints(strip_whitespace=False)] = NEGATION_FILLERS
    petition: PetitionSection | None = None


class LifecycleSection(_Row):
    max_returns: Annotated[int, Field(ge=0, le=10)] = 2


class MergeSection(_Row):
    """并单 and 重点矛盾纠纷: when a report repeats an open order, and when an order keeps recurring."""

    window_hours: Annotated[float, Field(gt=0, le=24 * 365)] = 72
    radius_m: Annotated[float, Field(ge=0, le=10_000)] = 150
    key_dispute_reports: Annotated[int, Field(ge=2, le=100)] = 3
    key_dispute_window_days: Annotated[int, Field(ge=1, le=365)] = 30
    key_dispute_working_days: Annotated[int, Field(ge=1, le=250)] = 15
    # Only these matter types can become key disputes (a quarrel that keeps recurring, not a street lamp
    # reported three times); empty: every matter type.
    key_dispute_matter_types: tuple[Text, ...] = ()


class EvidenceSection(_Row):
    """`[evidence]`: evidence photos (现场照片) attached to a 反馈 or 回访."""

    # Strict: a photo's GPS position is kept only when the bundle says `true`, never for a "no" string.
    keep_location: Annotated[bool, Field(strict=True)] = False


class TopicsSection(_Row):
    """`[topics]`: what the command centres' own topics carry."""

    # The centres whose systems call callers back (a town's 四平台 client): their topic
    # (`towns.<centre>.orders.v1`) carries the caller's name and phone. Any other centre's topic, and the
    # district-wide events topic always, carry none.
    callers_for_centres: tuple[Annotated[str, Field(min_length=1, max_length=32)], ...] = ()


Weight = Annotated[float, Field(ge=0, le=1000)]
Score = Annotated[float, Field(ge=0, le=100)]


def _some_weight_above_zero(cls: type, weights: BaseModel) -> BaseModel:
    """A weights table that counts something: all zero would divide by zero."""
    if not any(weights.model_dump().values()):
        raise ValueError("at least one weight must be above 0")
    return weights


class WeightsSection(_Row):
    """`[ranking.weights]`: how much each indicator counts; any scale, every one named."""

    acknowledge_on_time: Weight
    report_on_time: Weight
    resolution: Weight
    returns: Weight
    reopens: Weight


class RankingSection(_Row):
    """`[ranking]`: the monthly 红黄黑榜 (docs/ranking.md); graded towns score 0–100."""

    weights: WeightsSection = WeightsSection(acknowledge_on_time=20, report_on_time=25, resolution=30, returns=10,
                                             reopens=15)
    black_below_score: Score = 70
    red_min_score: Score = 90
    min_orders: Annotated[int, Field(ge=1, le=100_000)] = 5

    _some_weight = field_validator("weights")(_some_weight_above_zero)

    @field_validator("red_min_score")
    @classmethod
    def _red_above_black(cls, red: float, info: ValidationInfo) -> float:
        black = info.data.get("black_below_score")
        if black is not None and red < black:
            raise ValueError(f"must be at least black_below_score ({black})")
        return red


_HOTSPOT_DEFAULTS = HotspotRules()  # an instance: a slots dataclass's class attributes are descriptors


class HotspotsSection(_Row):
    """`[hotspots]`: high-incidence areas (docs/hotspots.md); the defaults are HotspotRules'."""

    window_days: Annotated[int, Field(ge=1, le=366)] = _HOTSPOT_DEFAULTS.window_days
    baseline_days: Annotated[int, Field(ge=1, le=3660)] = _HOTSPOT_DEFAULTS.baseline_days
    min_count: Annotated[int, Field(ge=1, le=10_000)] = _HOTSPOT_DEFAULTS.min_count
    p_value: Annotated[float, Field(gt=0, lt=1)] = _HOTSPOT_DEFAULTS.p_value
    min_expected: Annotated[float, Field(gt=0, le=1000)] = _HOTSPOT_DEFAULTS.min_expected
    cell_metres: Annotated[float, Field(ge=10, le=10_000)] = _HOTSPOT_DEFAULTS.cell_metres

    def rules(self) -> HotspotRules:
        return HotspotRules(**self.model_dump())


class SafetyWeightsSection(_Row):
    """`[safety_index.weights]`: how much each strain counts; any scale, every one named."""

    incidents: Weight = 30
    repeats: Weight = 15
    disputes: Weight = 15
    unresolved: Weight = 15
    dissatisfied: Weight = 15
    reopens: Weight = 10


class BandRow(_Row):
    min_index: Score
    name: Text


class SafetyIndexSection(_Row):
    """`[safety_index]`: the 平安指数 (docs/safety_index.md); the defaults are SafetyRules'."""

    weights: SafetyWeightsSection = SafetyWeightsSection()
    priority_points: dict[Priority, Annotated[float, Field(ge=0, le=100)]] = {
        "urgent": 3, "high": 2, "normal": 1, "low": 0.5}
    police_points: Annotated[float, Field(ge=0, le=100)] = 2
    incident_ceiling: Annotated[float, Field(gt=0, le=100_000)] = 20
    repeat_ceiling: Annotated[float, Field(gt=0, le=100_000)] = 5
    dispute_ceiling: Annotated[float, Field(gt=0, le=100_000)] = 2
    bands: tuple[BandRow, ...] = (BandRow(min_index=90, name="平安"), BandRow(min_index=75, name="基本平安"),
                                  BandRow(min_index=0, name="欠平安"))

    _some_weight = field_validator("weights")(_some_weight_above_zero)

    @field_validator("bands")
    @classmethod
    def _a_floor(cls, bands: tuple[BandRow, ...]) -> tuple[BandRow, ...]:
        if not any(b.min_index == 0 for b in bands):
            raise ValueError("one band must start at 0, so that every index has a name")
        return bands

    def rules(self) -> SafetyRules:
        return SafetyRules(weights={Strain(k): w for k, w in self.weights.model_dump().items()},
                           priority_points={str(k): v for k, v in self.priority_points.items()},
                           police_points=self.police_points, incident_ceiling=self.incident_ceiling,
                           repeat_ceiling=self.repeat_ceiling, dispute_ceiling=self.dispute_ceiling,
                           bands=tuple(Band(b.min_index, b.name) for b in self.bands))


class Manifest(_Row):
    """`bundle.toml`: who the bundle is for and its global settings."""

    bundle: BundleSection
    district: DistrictSection
    units: UnitsSection = UnitsSection()
    classification: ClassificationSection = ClassificationSection()
    lifecycle: LifecycleSection = LifecycleSection()
    merge: MergeSection = MergeSection()
    ranking: RankingSection = RankingSection()
    hotspots: HotspotsSection = HotspotsSection()
    safety_index: SafetyIndexSection = SafetyIndexSection()
    evidence: EvidenceSection = EvidenceSection()
    topics: TopicsSection = TopicsSection()


class TownRow(_Row):
    """`towns.csv`: one town or street and its command centre."""

    code: UnitCode
    name: Text
    kind: Annotated[str, Field(min_length=1)]
    centre_code: CentreCode
    centre_name: Text
    onboarded: YesNo
    aliases: Names = ()

    @field_validator("kind")
    @classmethod
    def _known_kind(cls, kind: str) -> str:
        if kind not in TOWN_KINDS:
            raise ValueError(f"must be one of {', '.join(TOWN_KINDS)}, not {kind!r}")
        return kind


class VillageRow(_Row):
    """`gazetteer.csv`: one village or community; retired rows keep old names placeable."""

    code: UnitCode
    name: Text
    town_code: UnitCode
    short_name: str = ""
    aliases: Names = ()
    former_names: Names = ()
    status: Annotated[Literal["current", "retired"], BeforeValidator(lambda v: v or "current")] = "current"
    source: str = ""


def _blank_is_none(value: object) -> object:
    return None if isinstance(value, str) and not value.strip() else value


HouseNumber = Annotated[Annotated[int, Field(ge=0, le=999_999)] | None, BeforeValidator(_blank_is_none)]


class StreetRow(_Row):
    """`streets.csv`: a street, or the stretch of one (house numbers, one side) that lies in one unit."""

    name: Text
    unit_code: UnitCode
    from_number: HouseNumber = None
    to_number: HouseNumber = None
    parity: Annotated[Parity, BeforeValidator(lambda v: v or "all")] = Parity.ALL
    aliases: Names = ()
    source: str = ""

    @field_validator("to_number")
    @classmethod
    def _not_below_from(cls, last: int | None, info: ValidationInfo) -> int | None:
        first = info.data.get("from_number")
        if last is not None and first is not None and last < first:
            raise ValueError(f"must be at least from_number ({first})")
        return last


class StreetTypeRow(_Row):
    """`street_types.csv`: a street type and the other ways it is written (Street: St|Str)."""

    name: Text
    variants: Names = ()
    source: str = ""


class OutsideRow(_Row):
    """`outside.csv`: a place recognisably outside the jurisdiction."""

    code: Code
    name: Text
    district: Text
    source: str = ""


class NeutralRow(_Row):
    """`neutral.csv`: a word that contains a rule term but means neither police nor a matter ("撞击声")."""

    word: Text
    means: str = ""


class CategoryRow(_Row):
    """`categories.csv`: a feed category code and what it means."""

    code: Text
    name: Text
    verdict: Verdict
    matter_type: Text
    priority: Priority
    source: str = ""


class KeywordRow(_Row):
    """`keywords.csv`: one text rule."""

    rule_id: Annotated[str, Field(pattern=r"^[a-z][a-z0-9_.-]{1,60}$")]
    verdict: Literal[Verdict.POLICE, Verdict.NON_POLICE]
    matter_type: Text
    priority: Priority
    negatable: YesNo = False
    terms: Names
    exclusions: Names = ()
    context: Names = ()
    weak: YesNo = False
    acute: YesNo = False
    source: str = ""

    @field_validator("terms")
    @classmethod
    def _has_terms(cls, terms: tuple[str, ...]) -> tuple[str, ...]:
        if not terms:
            raise ValueError("a rule needs at least one term")
        return terms

    @field_validator("acute")
    @classmethod
    def _acute_is_police(cls, acute: bool, info: ValidationInfo) -> bool:
        if acute and info.data.get("verdict") is Verdict.NON_POLICE:
            raise ValueError("only a police rule can be acute")
        return acute


class SlaRow(_Row):
    """`sla.csv`: deadlines for a (matter type, priority); `*` matches any."""

    matter_type: Text
    priority: Literal["*", "urgent", "high", "normal", "low"]
    acknowledge_minutes: Annotated[int, Field(ge=1, le=7 * 24 * 60)]
    report: Annotated[int, Field(ge=1, le=10_000)]
    report_unit: Literal["minutes", "hours", "working_days"]
    resolve: Annotated[int, Field(ge=1, le=10_000)]
    resolve_unit: Literal["minutes", "hours", "working_days"]
    clock_start: Literal["dispatch", "acknowledge"]
    warn_at: Annotated[tuple[Annotated[float, Field(gt=0, lt=1)], ...], BeforeValidator(_split)] = (0.8,)
    source: str = ""


class EscalationRow(_Row):
    """`escalation.csv`: one rung of the ladder after a breach (催办 → 督办 → 通报)."""

    step: Annotated[int, Field(ge=1, le=20)]
    kind: Annotated[str, Field(pattern=r"^[a-z_]{2,20}$")]
    after_minutes: Annotated[int, Field(ge=0, le=60 * 24 * 30)]
    target: Literal["centre", "town_leader", "district"]
    name: str = ""


class ReturnReasonRow(_Row):
    """`return_reasons.csv`: a 退单 reason a town may give."""

    code: Annotated[str, Field(pattern=r"^[A-Z0-9_]{1,16}$")]
    name: Text
    misroute: Literal["", "town", "police"] = ""  # the routing was wrong: not this town's, or a police matter


class NotifyRow(_Row):
    """`notify.csv`: one webhook of a unit (town, centre or district centre) and the events it wants."""

    unit_code: Text
    name: Annotated[str, Field(pattern=r"^[a-z][a-z0-9_-]{0,31}$")]
    url: Annotated[str, Field(min_length=8, max_length=500)]
    events: Annotated[tuple[NotifyEvent, ...], BeforeValidator(_split), Field(min_length=1)]
    secret_env: Annotated[str, Field(pattern=r"^([A-Z_][A-Z0-9_]*)?$")] = ""

    @field_validator("url")
    @classmethod
    def _http_url(cls, url: str) -> str:
        if any(c.isspace() for c in url):
            raise ValueError("a URL has no spaces")
        if "$" in ENV_REFERENCE.sub("", url):
            raise ValueError("a $ must start a ${NAME} reference to an environment variable (A-Z, 0-9, _)")
        if not (url.startswith(("https://", "http://")) or ENV_REFERENCE.match(url)):
            raise ValueError("must start with https:// or http://, or with a ${NAME} reference")
        return url
