"""Town resolver (镇街定位): which town owns an incident, and why.

Evidence in order of strength: an explicit town code from the feed, coordinates inside
a town boundary, place names in the address, then in the summary. Names are found by
one leftmost-longest Aho–Corasick pass over the text's folded form (router.domain.terms:
case- and width-insensitive, whole words in alphabetic scripts). In the text, a street of the
street gazetteer with a house number its segments hold ("1200 HARBOR ST", "市心中路123号")
names its unit as surely as the unit's own name does, and outweighs neighbourhood (village)
names: a street named like a neighbourhood is read as the street, the longer match. A street
without a number names the units it runs through. A village name shared by two towns decides
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

from router.domain.geo import in_rings, to_wgs84
from router.domain.incident import Incident
from router.domain.jurisdiction import Jurisdiction, Street, StreetType
from router.domain.plain_text import folded
from router.domain.terms import Found, Terms, is_word_character, match_form


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

    kind: str  # town | village | street | outside | district | code | polygon
    text: str  # the bundle's name; for a street, the text as written ("1200 HARBOR ST")
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
    streets: tuple[Street, ...] = ()  # streets written so ("harbor st": Harbor Street)


# A place suffix right after a short name makes it a longer, unknown name ("新塘" + "村").
_PLACE_SUFFIXES = frozenset("村镇乡县市省区")
_PLACE_ENDINGS = ("社区", "街道", "小区", *_PLACE_SUFFIXES)


def _is_place(name: str) -> bool:
    """A name that already ends as a place does ("党山村"): a suffix after it starts another word ("村民")."""
    return name.endswith(_PLACE_ENDINGS)


# Masked or unnamed administrative units ("A3区", "D7县", "某某镇", "××县"): a place elsewhere (folded form).
_MASKED_UNIT = re.compile(r"(?:[a-z][0-9]{0,2}|某+|[x×*]+)(?:省|市|县|区|镇|乡)")

# A house number before a street ("1200 Harbor St", "1200 block of", "12b"), or after one ("市心中路123号").
_NUMBER_BEFORE = re.compile(r"(?<![0-9])([0-9]{1,6})[a-z]?(?:\s*-\s*[0-9]{1,6})?\s+(?:(?:blk|block)(?:\s+of)?\s+)?$")
_NUMBER_AFTER = re.compile(r"\s*(?:no\.?\s*|#\s*)?([0-9]{1,6})(?![0-9])(\s*号)?")


def street_spellings(street: Street, types: tuple[StreetType, ...]) -> set[str]:
    """The folded forms a street is written in: each of its names, and each with its type written in every way
    street_types.csv knows ("Harbor Street": harbor street, harbor st, harbor str)."""
    spellings: set[str] = set()
    ways = [tuple(dict.fromkeys(match_form(w) for w in (t.name, *t.variants))) for t in types]
    for name in street.names:
        form = match_form(name)
        spellings.add(form)
        for way in ways:
            for written in way:
                base = form[:-len(written)] if form.endswith(written) and len(form) > len(written) else ""
                if not base or (is_word_character(written[0]) and is_word_character(base[-1])):
                    continue  # not this type, or the type's letters end a longer word ("Forest" is no "St")
                base = base.rstrip()
                spellings.update(base + (" " if is_word_character(other[0]) and is_word_character(base[-1])
                                         else "") + other for other in way)
    return spellings


def _house_number(form: str, found: Found[_Name]) -> tuple[int | None, int, int]:
    """The house number written with the street found at `found` (None if none), and the span of both."""
    before = _NUMBER_BEFORE.search(form, max(0, found.start - 24), found.start)
    if before:
        return int(before.group(1)), before.start(1), found.end
    after = _NUMBER_AFTER.match(form, found.end)
    # A number after a Latin street name is a house only with 号 ("MAIN ST 2" may be a floor); after a Chinese
    # name it is ("市心中路123").
    if after and (after.group(2) or not is_word_character(form[found.end - 1])):
        return int(after.group(1)), found.start, after.end()
    return None, found.start, found.end


def place_names(jurisdiction: Jurisdiction) -> set[str]:
    """Every name the resolver knows: towns, villages, places outside and the district itself."""
    return {*(n for t in jurisdiction.towns for n in (t.name, *t.aliases)),
            *(n for v in jurisdiction.villages for n in v.names),
            *(n for s in jurisdiction.streets for n in s.names),
            *(p.name for p in jurisdiction.outside), *jurisdiction.district_names}


class TownResolver:
    """Resolves incidents to towns of one jurisdiction; build once, call many times."""

    def __init__(self, jurisdiction: Jurisdiction) -> None:
        self._towns = jurisdiction.town_by_code
        self._village_town = {v.code: v.town_code for v in jurisdiction.villages}
        self._outside_codes = {p.code for p in jurisdiction.outside}
        self._boundaries = jurisdiction.boundaries
        # Every name by its folded form ("Beat 523" and "BEAT 523" are one).
        entries: dict[str, list[Evidence]] = defaultdict(list)
        for town in jurisdiction.towns:
            for name in (town.name, *town.aliases):
                entries[match_form(name)].append(Evidence("town", name, town.code, (town.code,)))
        for village in jurisdiction.villages:
            for name in village.names:
                entries[match_form(name)].append(Evidence("village", name, village.code, (village.town_code,)))
        for place in jurisdiction.outside:
            entries[match_form(place.name)].append(Evidence("outside", place.name, place.code))
        for name in jurisdiction.district_names:
            entries[match_form(name)].append(Evidence("district", name, jurisdiction.district_code))
        streets: dict[str, list[Street]] = defaultdict(list)
        for street in jurisdiction.streets:
            for spelling in street_spellings(street, jurisdiction.street_types):
                streets[spelling].append(street)
        official = {match_form(n) for n in (*(t.name for t in jurisdiction.towns),
                                            *(v.name for v in jurisdiction.villages))} | set(streets)
        meanings: dict[str, _Name] = {}
        for name in entries.keys() | streets.keys():
            found = entries.get(name, [])
            kinds = {e.kind for e in found}
            meanings[name] = _Name(
                evidence=tuple(found),
                towns=frozenset(e.code for e in found if e.kind == "town"),
                village_towns=frozenset(t for e in found if e.kind == "village" for t in e.town_codes),
                outside="outside" in kinds,
                short=name not in official and not kinds & {"district", "outside"} and not _is_place(name),
                qualifies_inside=bool(kinds & {"district", "town"}) and "outside" not in kinds,
                streets=tuple(streets.get(name, ())),
            )
        self._names = Terms(meanings)

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
        addressed: set[str] = set()  # units of a street with a house number they hold
        outside = False
        form, origin = folded(text)

        def written(start: int, end: int) -> str:
            return text[origin[start]:origin[end - 1] + 1]

        # What the text last named above a village: a place elsewhere (outside, or masked such as
        # "D7县") makes the village names after it that place's villages, not ours, until the
        # district or one of its towns is named again.
        elsewhere_from = {m.start(): written(m.start(), m.end()) for m in _MASKED_UNIT.finditer(form)}
        elsewhere = False
        for found in self._names.longest(form):
            start, end, name = found.start, found.end, found.value
            if elsewhere_from:
                for at in [a for a in elsewhere_from if a < start]:
                    evidence.append(Evidence("outside", elsewhere_from.pop(at), ""))
                    outside = elsewhere = True
            if name.short and form[end:end + 1] in _PLACE_SUFFIXES:
                continue  # "新塘" in "新塘村": a longer name this bundle does not know
            if name.outside:
                evidence.extend(name.evidence)
                outside = elsewhere = True
                continue
            if name.qualifies_inside:
                elsewhere = False
            elif elsewhere:
                evidence.extend(Evidence("outside", e.text, e.code) for e in name.evidence)
                evidence.extend(Evidence("outside", s.name, "") for s in name.streets)
                continue  # a village (or street) of the place named before it, elsewhere
            evidence.extend(name.evidence)
            named |= name.towns
            if len(name.village_towns) == 1:
                unique |= name.village_towns
            else:
                shared |= name.village_towns
            if name.streets:
                number, first, last = _house_number(form, found)
                for street in name.streets:
                    holding = street.units(number) if number is not None else frozenset()
                    units = holding or street.units()
                    evidence.append(Evidence("street", written(first, last) if holding else written(start, end),
                                             next(iter(units)) if len(units) == 1 else "", tuple(sorted(units))))
                    if holding:
                        addressed |= holding
                    elif len(units) == 1:
                        unique |= units
                    else:
                        shared |= units
        for at in sorted(elsewhere_from):
            evidence.append(Evidence("outside", elsewhere_from[at], ""))
            outside = True
        if not evidence:
            return _NOTHING
        found = tuple(evidence)
        inside = named | unique | shared | addressed

        if outside and not inside:
            return Resolution(Placement.OUTSIDE, method, evidence=found, confidence=0.9)
        if addressed and not outside:
            # A street and house number outweigh neighbourhood names; only the unit's own name can contradict it.
            if len(addressed) == 1 and named <= addressed:
                return Resolution(Placement.RESOLVED, method, next(iter(addressed)), evidence=found, confidence=0.95)
            return Resolution(Placement.AMBIGUOUS, method, candidates=tuple(sorted(addressed | named)),
                              evidence=found)
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
