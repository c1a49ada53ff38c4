"""Town resolver (镇街定位): which town owns an incident, and why.

Evidence in order of strength: an explicit town code from the feed, coordinates inside
a town boundary, place names in the address, then in the summary. Names are found by
one leftmost-longest Aho–Corasick pass. A village name shared by two towns decides
nothing unless the town is also named; a village named after a place elsewhere (another
county or town of China, or a masked one: "D7县") is that place's village, not ours; a short
alias followed by 村, 镇, 县... is part of a longer name we do not know. Conflicting or missing
evidence is an outcome (ambiguous, unresolved, outside), never a guess.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass
from enum import StrEnum

import ahocorasick

from router.domain.geo import in_rings, to_wgs84
from router.domain.incident import Incident
from router.domain.jurisdiction import Jurisdiction


class Placement(StrEnum):
    RESOLVED = "resolved"
    AMBIGUOUS = "ambiguous"
    UNRESOLVED = "unresolved"
    OUTSIDE = "outside"


class Method(StrEnum):
    EXPLICIT_CODE = "explicit_code"
    POLYGON = "polygon"
    ADDRESS = "address"
    SUMMARY = "summary"
    DISPATCHER = "dispatcher"  # placed by the district after review (定位派单), not found by the resolver
    NONE = "none"


@dataclass(frozen=True, slots=True)
class Evidence:
    """One piece of evidence: a name found in the text, a code or a boundary."""

    kind: str  # town | village | outside | district | code | polygon
    text: str
    code: str
    town_codes: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Resolution:
    placement: Placement
    method: Method
    town_code: str | None = None
    candidates: tuple[str, ...] = ()
    evidence: tuple[Evidence, ...] = ()
    confidence: float = 0.0


_NOTHING = Resolution(Placement.UNRESOLVED, Method.NONE)


@dataclass(frozen=True, slots=True)
class _Name:
    """What one place name can mean, worked out once when the resolver is built."""

    evidence: tuple[Evidence, ...]
    towns: frozenset[str]  # towns this name names ("新塘街道")
    village_towns: frozenset[str]  # towns holding a village by this name ("紫霞村": two)
    outside: bool
    short: bool  # an alias or short name: "新塘" before "村" is some other 新塘村, not the town
    qualifies_inside: bool  # the district or one of its towns: what follows is ours


# A place suffix right after a short name makes it a longer, unknown name ("新塘" + "村").
_PLACE_SUFFIXES = frozenset("村镇乡县市省区")
_PLACE_ENDINGS = ("社区", "街道", "小区", *_PLACE_SUFFIXES)


def _is_place(name: str) -> bool:
    """A name that already ends as a place does ("党山村"): a suffix after it starts another word ("村民")."""
    return name.endswith(_PLACE_ENDINGS)


# Masked or unnamed administrative units ("A3区", "D7县", "某某镇", "××县"): a place elsewhere.
_MASKED_UNIT = re.compile(r"(?:[A-Z][0-9]{0,2}|某+|[X×＊*]+)(?:省|市|县|区|镇|乡)")


def place_names(jurisdiction: Jurisdiction) -> set[str]:
    """Every name the resolver knows: towns, villages, places outside and the district itself."""
    return {*(n for t in jurisdiction.towns for n in (t.name, *t.aliases)),
            *(n for v in jurisdiction.villages for n in v.names),
            *(p.name for p in jurisdiction.outside), *jurisdiction.district_names}


class TownResolver:
    """Resolves incidents to towns of one jurisdiction; build once, call many times."""

    def __init__(self, jurisdiction: Jurisdiction) -> None:
        self._towns = jurisdiction.town_by_code
        self._village_town = {v.code: v.town_code for v in jurisdiction.villages}
        self._outside_codes = {p.code for p in jurisdiction.outside}
        self._boundaries = jurisdiction.boundaries
        entries: dict[str, list[Evidence]] = defaultdict(list)
        for town in jurisdiction.towns:
            for name in (town.name, *town.aliases):
                entries[name].append(Evidence("town", name, town.code, (town.code,)))
        for village in jurisdiction.villages:
            for name in village.names:
                entries[name].append(Evidence("village", name, village.code, (village.town_code,)))
        for place in jurisdiction.outside:
            entries[place.name].append(Evidence("outside", place.name, place.code))
        for name in jurisdiction.district_names:
            entries[name].append(Evidence("district", name, jurisdiction.district_code))
        official = {t.name for t in jurisdiction.towns} | {v.name for v in jurisdiction.villages}
        self._automaton = ahocorasick.Automaton()
        for name, found in entries.items():
            kinds = {e.kind for e in found}
            meaning = _Name(
                evidence=tuple(found),
                towns=frozenset(e.code for e in found if e.kind == "town"),
                village_towns=frozenset(t for e in found if e.kind == "village" for t in e.town_codes),
                outside="outside" in kinds,
                short=name not in official and not kinds & {"district", "outside"} and not _is_place(name),
                qualifies_inside=bool(kinds & {"district", "town"}) and "outside" not in kinds,
            )
            self._automaton.add_word(name, meaning)
        self._automaton.make_automaton()

    def resolve(self, incident: Incident) -> Resolution:
        by_code = self._by_code(incident.town_code)
        if by_code is not None:
            return by_code
        by_polygon = self._by_polygon(incident)
        if by_polygon is not None:
            return by_polygon
        in_address = self._by_text(incident.address, Method.ADDRESS)
        if in_address.placement in (Placement.RESOLVED, Placement.OUTSIDE):
            return in_address
        in_summary = self._by_text(incident.summary, Method.SUMMARY)
        if in_address.placement is Placement.UNRESOLVED:
            return in_summary
        # The address is ambiguous: the summary may name one of its candidate towns.
        if in_summary.placement is Placement.RESOLVED and in_summary.town_code in in_address.candidates:
            return Resolution(
                Placement.RESOLVED,
                Method.SUMMARY,
                in_summary.town_code,
                evidence=in_address.evidence + in_summary.evidence,
                confidence=0.8,
            )
        return in_address

    def knows_code(self, code: str) -> bool:
        """Whether `code` is a town, a village or a place outside: the codes `_by_code` can place."""
        return code in self._towns or code in self._village_town or code in self._outside_codes

    def _by_code(self, code: str | None) -> Resolution | None:
        if not code:
            return None
        evidence = (Evidence("code", code, code),)
        town = self._towns.get(code) or self._towns.get(self._village_town.get(code, ""))
        if town is not None:
            return Resolution(Placement.RESOLVED, Method.EXPLICIT_CODE, town.code, evidence=evidence, confidence=1.0)
        if code in self._outside_codes:
            return Resolution(Placement.OUTSIDE, Method.EXPLICIT_CODE, evidence=evidence, confidence=1.0)
        return None

    def _by_polygon(self, incident: Incident) -> Resolution | None:
        if incident.point is None or not self._boundaries:
            return None
        lon, lat = to_wgs84(incident.point)
        hits = tuple(b.town_code for b in self._boundaries if in_rings(lon, lat, b.rings))
        if len(hits) != 1:
            return None
        evidence = (Evidence("polygon", f"{lon:.6f},{lat:.6f}", hits[0], hits),)
        return Resolution(Placement.RESOLVED, Method.POLYGON, hits[0], evidence=evidence, confidence=0.95)

    def _by_text(self, text: str, method: Method) -> Resolution:
        if not text:
            return _NOTHING
        evidence: list[Evidence] = []
        named: set[str] = set()
        unique: set[str] = set()
        shared: set[str] = set()
        outside = False
        # What the text last named above a village: a place elsewhere (outside, or masked such as
        # "D7县") makes the village names after it that place's villages, not ours, until the
        # district or one of its towns is named again.
        elsewhere_from = {m.start(): m.group() for m in _MASKED_UNIT.finditer(text)}
        elsewhere = False
        for end, name in self._automaton.iter_long(text):
            start = end + 1 - len(name.evidence[0].text)
            if elsewhere_from:
                for at in [a for a in elsewhere_from if a < start]:
                    evidence.append(Evidence("outside", elsewhere_from.pop(at), ""))
                    outside = elsewhere = True
            if name.short and text[end + 1:end + 2] in _PLACE_SUFFIXES:
                continue  # "新塘" in "新塘村": a longer name this bundle does not know
            if name.outside:
                evidence.extend(name.evidence)
                outside = elsewhere = True
                continue
            if name.qualifies_inside:
                elsewhere = False
            elif elsewhere:
                evidence.extend(Evidence("outside", e.text, e.code) for e in name.evidence)
                continue  # a village of the place named before it, elsewhere
            evidence.extend(name.evidence)
            named |= name.towns
            if len(name.village_towns) == 1:
                unique |= name.village_towns
            else:
                shared |= name.village_towns
        for at in sorted(elsewhere_from):
            evidence.append(Evidence("outside", elsewhere_from[at], ""))
            outside = True
        if not evidence:
            return _NOTHING
        found = tuple(evidence)
        inside = named | unique | shared

        if outside and not inside:
            return Resolution(Placement.OUTSIDE, method, evidence=found, confidence=0.9)
        conflict = bool(shared) and bool(named | unique) and not (named | unique) & shared
        if outside or conflict or len(named | unique) > 1:
            return Resolution(Placement.AMBIGUOUS, method, candidates=tuple(sorted(inside)), evidence=found)
        decided = named | unique
        if decided:
            town = next(iter(decided))
            confidence = 0.95 if named and unique else 0.9 if unique or named & shared else 0.85
            return Resolution(Placement.RESOLVED, method, town, evidence=found, confidence=confidence)
        if shared:
            return Resolution(Placement.AMBIGUOUS, method, candidates=tuple(sorted(shared)), evidence=found)
        return Resolution(Placement.UNRESOLVED, method, evidence=found)
