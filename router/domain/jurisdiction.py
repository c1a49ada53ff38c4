"""A jurisdiction (辖区) as the core sees it: towns, places and rules, already validated.

`router.bundle` builds one from a bundle directory; tests build small ones by hand.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING

from router.domain.hotspots import HotspotRules
from router.domain.notify import NO_WEBHOOKS, Webhooks
from router.domain.safety_index import SafetyRules

if TYPE_CHECKING:
    from router.domain.loop import LoopRules
    from router.domain.ranking import RankingRules


NBS_UNIT_CODES = r"^[0-9]{9}([0-9]{3})?$"
"""The default unit code rule (`[units] code_pattern`): an NBS town code (9 digits) or village code (12)."""


class Verdict(StrEnum):
    """What the classifier thinks an incident is (警务 / 非警务 / 不明)."""

    POLICE = "police"
    NON_POLICE = "non_police"
    UNCLEAR = "unclear"


class Priority(StrEnum):
    URGENT = "urgent"
    HIGH = "high"
    NORMAL = "normal"
    LOW = "low"


PRIORITY_RANK = {Priority.URGENT: 0, Priority.HIGH: 1, Priority.NORMAL: 2, Priority.LOW: 3}
PRIORITY_TERMS = {Priority.URGENT: "紧急", Priority.HIGH: "高", Priority.NORMAL: "普通", Priority.LOW: "低"}


@dataclass(frozen=True, slots=True)
class CommandCentre:
    """A 24-hour command centre (综合指挥中心) that receives work orders."""

    code: str
    name: str


@dataclass(frozen=True, slots=True)
class Town:
    """A town (镇) or street (街道), the unit that owns work orders."""

    code: str
    name: str
    kind: str
    centre: CommandCentre
    onboarded: bool
    aliases: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Village:
    """A village or community (村社) from the gazetteer; retired ones still place an address."""

    code: str
    name: str
    town_code: str
    names: tuple[str, ...]
    retired: bool = False


class Parity(StrEnum):
    """Which house numbers of a range a street segment holds."""

    ALL = "all"
    ODD = "odd"
    EVEN = "even"


@dataclass(frozen=True, slots=True)
class StreetSegment:
    """The house numbers `first`..`last` (either open: None) of one parity of a street that lie in one unit."""

    unit_code: str
    first: int | None = None
    last: int | None = None
    parity: Parity = Parity.ALL

    def holds(self, number: int) -> bool:
        if (self.first is not None and number < self.first) or (self.last is not None and number > self.last):
            return False
        return self.parity is Parity.ALL or (number % 2 == 1) == (self.parity is Parity.ODD)


@dataclass(frozen=True, slots=True)
class Street:
    """A street (街路) of the street gazetteer (streets.csv): its names and the units its numbers lie in.

    A street crossing two units has a segment in each ("1–499 in PA-N1, 500– in PA-S2", or odd numbers on
    one side, even on the other)."""

    name: str
    names: tuple[str, ...]  # the name and its aliases, as the bundle writes them
    segments: tuple[StreetSegment, ...]

    def units(self, number: int | None = None) -> frozenset[str]:
        """The units holding house `number` (none, for a number no segment holds); without a number, every unit
        the street runs through."""
        return frozenset(s.unit_code for s in self.segments if number is None or s.holds(number))


@dataclass(frozen=True, slots=True)
class StreetType:
    """A street type and the ways it is written (street_types.csv): Street = St | Str, Road = Rd, 大道 = 大街.

    A street named with one of them is found written with any other: "Harbor Street" in "1200 HARBOR ST"."""

    name: str
    variants: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class OutsidePlace:
    """A place that is recognisably not in this jurisdiction (another district or its towns)."""

    code: str
    name: str
    district: str


@dataclass(frozen=True, slots=True)
class Boundary:
    """A town's boundary: one or more WGS-84 rings of (lon, lat)."""

    town_code: str
    rings: tuple[tuple[tuple[float, float], ...], ...]


@dataclass(frozen=True, slots=True)
class KeywordRule:
    """A text rule: any of `terms` fires it unless one of `exclusions` is also present, and,
    for a rule with `context`, only when one of the context words is present too ("堵路" is a
    crowd blocking a road only beside "数十名", "一群"...).

    `negatable` rules do not fire on a term preceded by a negation cue in the same
    clause ("未动手", "无人受伤"), with at most `negation_window` filler characters between.
    """

    rule_id: str
    verdict: Verdict
    matter_type: str
    priority: Priority
    terms: tuple[str, ...]
    exclusions: tuple[str, ...] = ()
    negatable: bool = False
    context: tuple[str, ...] = ()  # if given, the rule fires only when one of these is in the text too
    weak: bool = False  # names its matter only when no strong rule of the same verdict fired
    acute: bool = False  # a danger to life, body or liberty, or a mass incident: police even in a petition


@dataclass(frozen=True, slots=True)
class PetitionRegister:
    """How a message written to the administration (信访 / 12345 留言) reads, as opposed to a call
    for help: it addresses an official ("尊敬的王市长", "李书记：", "领导您好", "致：市场监管局") or asks
    the government to act ("恳请政府", "希望相关部门"). Such a message may name a crime it wants
    regulated ("传销", "骗取补贴") without being a report for the police to attend.
    """

    titles: tuple[str, ...]  # 书记, 市长, 领导, 政府, 相关部门 ...
    openers: tuple[str, ...] = ()  # before a title, in the same clause: 尊敬的, 敬爱的, 致：
    requests: tuple[str, ...] = ()  # right before a title: 恳请, 希望, 请求 (恳请政府, 希望相关部门)


@dataclass(frozen=True, slots=True)
class CategoryRule:
    """How a feed category code (the 110 system's own 警情类别) maps to a verdict."""

    code: str
    name: str
    verdict: Verdict
    matter_type: str
    priority: Priority


# Characters that may stand between a negation or hypothesis cue and its term ("没有人受伤",
# "没跟人动手", "未造成人员受伤", "一旦引发火灾"); any other gap ("没想到动手", "没有钱就打人")
# means the cue is about something else.
NEGATION_FILLERS = "人员有过曾再和跟与同被他她们发生引造成导致出现"


@dataclass(frozen=True, slots=True)
class ClassificationRules:
    keywords: tuple[KeywordRule, ...]
    categories: tuple[CategoryRule, ...] = ()
    negation_cues: tuple[str, ...] = ()
    negation_window: int = 2
    negation_after_cues: tuple[str, ...] = ()  # after a term, same clause: "……有什么区别", "……频发"
    negation_fillers: str = NEGATION_FILLERS
    neutral: tuple[str, ...] = ()  # words that contain a rule term but mean neither ("撞击声", "偷税漏税")
    petition: PetitionRegister | None = None


@dataclass(frozen=True, slots=True)
class Jurisdiction:
    """Everything the core needs to route one district's incidents."""

    name: str
    version: str
    district_code: str
    district_name: str
    district_centre: CommandCentre
    towns: tuple[Town, ...]
    villages: tuple[Village, ...]
    rules: ClassificationRules
    outside: tuple[OutsidePlace, ...] = ()
    district_names: tuple[str, ...] = ()
    boundaries: tuple[Boundary, ...] = ()
    streets: tuple[Street, ...] = ()  # the street gazetteer (streets.csv): street + house number places a unit
    street_types: tuple[StreetType, ...] = ()  # St = Street, Rd = Road... (street_types.csv)
    loop: LoopRules | None = None  # SLA, lifecycle and merge rules; None routes without opening clocks
    ranking: RankingRules | None = None  # the monthly 红黄黑榜's weights and thresholds
    hotspots: HotspotRules = HotspotRules()  # high-incidence areas (高发区域): window and thresholds
    safety: SafetyRules = SafetyRules()  # the 平安指数's weights and bands
    webhooks: Webhooks = NO_WEBHOOKS  # gateways told of new orders, warnings, breaches (notify.csv)
    keep_photo_location: bool = False  # keep an evidence photo's GPS position (EXIF) instead of stripping it
    # The centres whose own topic carries callers (their systems call back); every other topic carries none.
    callers_for_centres: frozenset[str] = frozenset()
    unit_code_pattern: str = NBS_UNIT_CODES  # `[units] code_pattern`: the one rule for bundle and feed codes
    town_by_code: dict[str, Town] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "town_by_code", {t.code: t for t in self.towns})

    def is_unit_code(self, code: str) -> bool:
        """Whether `code` has this jurisdiction's unit code format (towns.csv, gazetteer.csv, the feed)."""
        return re.fullmatch(self.unit_code_pattern, code) is not None

    def unit_name(self, code: str) -> str:
        """The name of a town or of the district centre; an unknown code stands for itself."""
        town = self.town_by_code.get(code)
        if town:
            return town.name
        return self.district_centre.name if code == self.district_centre.code else code

    def centre_for(self, town_code: str) -> CommandCentre:
        """The centre that receives a town's orders: its own once onboarded, else the district's."""
        town = self.town_by_code[town_code]
        return town.centre if town.onboarded else self.district_centre
