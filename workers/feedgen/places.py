"""Addresses drawn from a jurisdiction's gazetteer, each with the town it resolves to, if any.

A resolvable address names a village that only one town has, or a town, or a shared
village together with its town; an explicit town_code is the town's or the village's own.
Ambiguous addresses name a shared village without its town, two towns, or a town and
another town's village; unresolved ones name no town at all; outside ones name only
places in other districts. Roads and vague places name nothing the resolver knows
(checked here at build time), so they never add evidence.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from router.domain.jurisdiction import Jurisdiction
from router.domain.names import NameSet
from workers.feedgen import texts
from workers.feedgen.draw import Draws


@dataclass(frozen=True, slots=True)
class Village:
    code: str
    town_code: str
    name: str  # the name used in addresses
    community: bool
    shared: tuple[str, ...]  # the towns sharing this name, when more than one


class Addresses:
    """Address texts for one jurisdiction, drawn from `rng`."""

    def __init__(self, jurisdiction: Jurisdiction, rng: Draws) -> None:
        self._rng = rng
        j = jurisdiction
        owners: dict[str, set[str]] = defaultdict(set)
        for v in j.villages:
            for name in v.names:
                owners[name].add(v.town_code)
        for t in j.towns:
            for name in (t.name, *t.aliases):
                owners[name].add(t.code)
        outside_names = {p.name for p in j.outside}
        in_outside = NameSet(outside_names)
        self._known = NameSet({*owners, *outside_names, *j.district_names})
        self._district_heads(j)

        villages: list[Village] = []
        for v in j.villages:
            for name in v.names:
                if name.endswith(texts.COMMITTEE) and len(v.names) > 1:
                    continue
                towns = owners[name]
                if in_outside.in_text(name):
                    continue
                shared = tuple(sorted(towns)) if len(towns) > 1 else ()
                if shared and any(owners[n] != towns for n in owners if n != name and n in name):
                    continue  # a longer shared name that contains another place's name
                villages.append(Village(v.code, v.town_code, name, name.endswith(texts.COMMUNITY), shared))
        self._villages = villages
        self._unique_villages = [v for v in villages if not v.shared]
        by_town: dict[str, list[Village]] = defaultdict(list)
        for v in self._unique_villages:
            by_town[v.town_code].append(v)
        self._unique_by_town = dict(by_town)
        self._shared = sorted({v.name: v.shared for v in villages if v.shared}.items())
        self._shared_villages = [v for v in villages if v.shared]
        self.towns = [(t.code, (t.name, *t.aliases)) for t in j.towns]
        self._town_names = dict(self.towns)
        self._towns_with_villages = sorted(self._unique_by_town)
        districts = {p.district for p in j.outside}
        in_inside = NameSet(owners)
        inside_parts = {name[i:k] for name in owners for i in range(len(name)) for k in range(i + 1, len(name) + 1)}

        def clean_outside(name: str) -> bool:
            return not in_inside.in_text(name) and name not in inside_parts

        self._outside_towns = [
            (p.code, p.name, p.district)
            for p in j.outside
            if p.name not in districts and len(p.code) in (9, 12) and clean_outside(p.name)
            and clean_outside(p.district)
        ]
        self.roads = [r for r in texts.ROADS if self.clean(r)]
        self._vague = [v for v in (*self._informal, *texts.VAGUE_PLACES)
                       if not in_inside.in_text(v) and not in_outside.in_text(v)]
        if not self._unique_villages or not self.roads or not self.towns:
            raise ValueError("the jurisdiction has too few places to generate addresses")

    def _district_heads(self, j: Jurisdiction) -> None:
        """The district as addresses write it: bare, within its city, in full; and the city's prefix."""
        qualified = sorted((n for n in j.district_names if n.endswith(j.district_name) and n != j.district_name),
                           key=len)
        self._bare = j.district_name
        self._in_city = qualified[0] if qualified else j.district_name
        self._full = qualified[-1] if qualified else j.district_name
        self._city = self._in_city[: len(self._in_city) - len(j.district_name)]
        # A caller who names only the district, without the province, leaves the town open.
        self._informal = tuple(n for n in j.district_names if n != self._full or n == j.district_name)

    def clean(self, text: str) -> bool:
        """True when `text` names no place the resolver knows."""
        return not self._known.in_text(text)

    def resolvable(self) -> tuple[str, str, str | None, str]:
        """(address, summary prefix, explicit town_code, the town they resolve to)."""
        rng = self._rng
        roll = rng.random()
        code: str | None = None
        prefix = ""
        if roll < 0.40:  # a shared village is fine next to its town
            v = rng.item(self._villages)
            town = v.town_code
            head = rng.item((self._full, self._in_city, self._bare, ""))
            address = head + self._town_display(town) + self._village_part(v)
            if rng.random() < 0.15:
                code = v.code if rng.random() < 0.5 else town
        elif roll < 0.55:
            v = rng.item(self._unique_villages)
            town = v.town_code
            address = rng.item(("", self._bare, self._in_city)) + self._village_part(v)
            if rng.random() < 0.15:
                code = v.code
        elif roll < 0.75:
            town = rng.item(self.towns)[0]
            head = rng.item((self._full, self._bare, ""))
            if rng.random() < 0.7:
                address = texts.HOUSE.format(head=head + self._town_display(town), road=rng.item(self.roads),
                                             house=rng.between(1, 999))
            else:
                a, b = rng.sample(self.roads, 2)
                address = texts.CROSSING.format(head=head + self._town_display(town), a=a, b=b)
            if rng.random() < 0.15:
                code = town
        elif roll < 0.85:  # the place is only in the summary
            address = "" if rng.random() < 0.5 else self._unresolved_text()
            if rng.random() < 0.6:
                v = rng.item(self._unique_villages)
                town = v.town_code
                place = (self._town_display(town) if rng.random() < 0.5 else "") + v.name
                prefix = (texts.RESIDENTS_SAY if v.community else texts.VILLAGERS_SAY).format(place=place)
            else:
                town = rng.item(self.towns)[0]
                prefix = texts.RESIDENTS_SAY.format(place=self._town_display(town))
        elif roll < 0.92 and self._shared_villages:  # shared village in the address, its town in the summary
            v = rng.item(self._shared_villages)
            town = v.town_code
            address = self._village_part(v)
            prefix = texts.VILLAGERS_SAY.format(place=self._town_display(town) + v.name)
        else:  # only the feed's code
            v = rng.item(self._villages)
            town = v.town_code
            code = v.code if rng.random() < 0.5 else town
            address = "" if rng.random() < 0.5 else self._unresolved_text()
        return address, prefix, code, town

    def unresolved(self) -> str:
        """An address that names no town, or none at all."""
        return "" if self._rng.random() < 0.4 else self._unresolved_text()

    def ambiguous(self) -> str:
        """An address that names places in more than one town."""
        rng = self._rng
        roll = rng.random()
        if roll < 0.6 and self._shared:  # shared village without its town
            name, _ = rng.item(self._shared)
            group = rng.between(1, 16)
            return rng.item((texts.GROUP.format(place=name, group=group),
                             texts.GROUP_HOUSE.format(place=self._bare + name, group=group, house=rng.between(1, 120)),
                             texts.BY_THE_SHOP.format(place=name)))
        if roll < 0.75:  # two towns
            (a, _), (b, _) = rng.sample(self.towns, 2)
            return texts.BORDER.format(a=self._town_display(a), b=self._town_display(b)) + rng.item(self.roads)
        if roll < 0.9 and len(self._towns_with_villages) > 1:  # a town and another town's village
            village_town, town = rng.sample(self._towns_with_villages, 2)
            return self._town_display(town) + self._village_part(rng.item(self._unique_by_town[village_town]))
        if self._outside_towns:  # a town and a place outside
            town = rng.item(self.towns)[0]
            _, name, district = rng.item(self._outside_towns)
            return texts.BORDER.format(a=self._town_display(town), b=district + name)
        (a, _), (b, _) = rng.sample(self.towns, 2)
        return texts.BORDER.format(a=self._town_display(a), b=self._town_display(b))

    def outside(self) -> tuple[str, str, str | None]:
        """(address, summary prefix, explicit code) in another district."""
        rng = self._rng
        if not self._outside_towns:
            return "", "", None  # pragma: no cover - only for bundles without outside.csv
        code, name, district = rng.item(self._outside_towns)
        road = rng.item(self.roads)
        roll = rng.random()
        if roll < 0.5:
            address = texts.HOUSE.format(head=self._city + district + name, road=road, house=rng.between(1, 999))
        elif roll < 0.8:
            address = texts.HOUSE.format(head=name, road=road, house=rng.between(1, 999))
        else:
            address = texts.NEAR.format(place=district, road=road)
        return address, "", code if rng.random() < 0.2 else None

    def _unresolved_text(self) -> str:
        rng = self._rng
        roll = rng.random()
        if roll < 0.4:
            return rng.item(self._vague) if self._vague else ""
        if roll < 0.7:
            return texts.HOUSE.format(head=rng.item(("", self._bare, self._in_city)), road=rng.item(self.roads),
                                      house=rng.between(1, 999))
        a, b = rng.sample(self.roads, 2)
        return texts.CROSSING.format(head="", a=a, b=b)

    def _town_display(self, town_code: str) -> str:
        names = self._town_names[town_code]
        return names[0] if len(names) == 1 or self._rng.random() < 0.7 else self._rng.item(names[1:])

    def _village_part(self, v: Village) -> str:
        rng = self._rng
        if v.community:
            return texts.FLAT.format(place=v.name, building=rng.between(1, 40), unit=rng.between(1, 5),
                                     floor=rng.between(1, 25), room=rng.between(1, 4))
        if rng.random() < 0.5:
            return texts.GROUP_HOUSE.format(place=v.name, group=rng.between(1, 16), house=rng.between(1, 120))
        return texts.GROUP.format(place=v.name, group=rng.between(1, 16))

