"""The synthetic 110 feed: realistic records with ground truth that is right by construction.

Police records carry an unnegated police term, or no rule term at all (unclear goes to
police), or a police feed category. Non-police records carry non-police terms only (a
police term appears only negated). Feed categories come from the bundle, filtered by
verdict and by the terms in their names, so a category never changes the verdict its
template implies. Coordinates are attached only while the bundle has no boundary
polygons; with polygons they would decide the town and the truth could no longer be
known here. tests/unit/test_feedgen.py checks every record against the real Router.
"""

from __future__ import annotations

import re
import string
from dataclasses import dataclass
from datetime import datetime, timedelta

from router.domain.jurisdiction import Jurisdiction, Verdict
from schemas.deadletter import DeadLetterReason
from workers.feedgen import texts
from workers.feedgen.draw import Draws, Weighted
from workers.feedgen.invalid import REASONS, InvalidRecords
from workers.feedgen.places import Addresses
from workers.feedgen.sample import (
    DEAD_LETTER,
    OUTSIDE_JURISDICTION,
    POLICE,
    REVIEW,
    TOWN_AMBIGUOUS,
    TOWN_UNRESOLVED,
    WORK_ORDER,
    Expected,
    Sample,
    encode,
)

_SOURCE_ID = re.compile(r"^[A-Za-z0-9_.:-]+$")
_POLICE_EXPECTED = Expected(POLICE)
_CHANNELS = Weighted((("phone", 70), ("12345", 8), ("app", 7), ("wechat", 5), ("sms", 3), ("walk_in", 3),
                      ("video", 2), ("other", 2)))
_REVIEW_REASONS = Weighted(((TOWN_AMBIGUOUS, 3), (TOWN_UNRESOLVED, 3), (OUTSIDE_JURISDICTION, 2)))
_DEMO_AREA = ((120.1, 120.7), (29.9, 30.4))  # lon, lat; only used while the bundle has no polygons


class UnsupportedBundle(ValueError):
    """The generator has no texts in the bundle's language, so it cannot write records whose truth is known."""


@dataclass(frozen=True, slots=True)
class _Template:
    kind: str
    text: str
    fields: tuple[str, ...]
    categories: tuple[tuple[str, str], ...]  # (code, name) that keep the template's verdict


class FeedGenerator:
    """Realistic synthetic incidents with ground truth, deterministic from `seed`."""

    def __init__(
        self,
        jurisdiction: Jurisdiction,
        seed: int = 0,
        *,
        invalid_share: float = 0.03,
        id_prefix: str = "SIM",
    ) -> None:
        if not 0.0 <= invalid_share <= 1.0:
            raise ValueError(f"invalid_share must be within [0, 1], not {invalid_share}")
        self._prefix = f"{id_prefix}{seed:02d}-"
        if not _SOURCE_ID.match(self._prefix) or len(self._prefix) + 8 > 64:
            raise ValueError(f"id prefix {self._prefix!r} does not make valid source_ids (^[A-Za-z0-9_.:-]+$, <= 64)")
        if not any(texts.in_language(term) for rule in jurisdiction.rules.keywords for term in rule.terms):
            raise UnsupportedBundle(
                f"the feed generator writes {texts.LANGUAGE} texts and bundle {jurisdiction.name} has no rule term in "
                f"{texts.LANGUAGE}: the ground truth of its records would be wrong there; evaluate the bundle on its "
                "own labelled cases (docs/evaluation.md)")
        self._rng = Draws(seed)
        self._counter = 0
        district_centre = jurisdiction.district_centre.code
        self._work_order_expected = {t.code: Expected(WORK_ORDER, t.code, jurisdiction.centre_for(t.code).code)
                                     for t in jurisdiction.towns}
        self._police_expected = {t.code: Expected(POLICE, t.code) for t in jurisdiction.towns}
        self._review_expected = {r: Expected(REVIEW, None, district_centre, r)
                                 for r in (TOWN_AMBIGUOUS, TOWN_UNRESOLVED, OUTSIDE_JURISDICTION)}
        self._with_points = not jurisdiction.boundaries
        self._addresses = Addresses(jurisdiction, self._rng)
        self._invalid = InvalidRecords(jurisdiction, self._rng)
        self._police_texts, self._other_texts = self._summaries(jurisdiction)
        valid = (1.0 - invalid_share) / 93  # valid records split 35 : 50 : 8
        self._kinds = Weighted(((POLICE, valid * 35), (WORK_ORDER, valid * 50), (REVIEW, valid * 8),
                                (DEAD_LETTER, invalid_share)))

    def sample(self, received_at: datetime) -> Sample:
        """One record received at `received_at` (timezone-aware)."""
        if received_at.tzinfo is None or received_at.utcoffset() is None:
            raise ValueError("received_at must be timezone-aware")
        self._counter += 1
        source_id = f"{self._prefix}{self._counter:08d}"
        kind = self._kinds.pick(self._rng)
        if kind == DEAD_LETTER:
            return self._invalid_sample(source_id, received_at)
        record, expected = self._valid_record(kind, source_id, received_at)
        return Sample(source_id.encode(), encode(record).encode(), source_id, expected)

    def batch(self, n: int, start: datetime, step: timedelta = timedelta(seconds=1)) -> list[Sample]:
        """`n` records received at start, start + step, ..."""
        return [self.sample(start + i * step) for i in range(n)]

    def _summaries(self, jurisdiction: Jurisdiction) -> tuple[Weighted[_Template], Weighted[_Template]]:
        """(police, other) summary templates whose words and categories keep the verdict they imply."""
        rules = jurisdiction.rules
        police_terms = tuple(t for r in rules.keywords if r.verdict is Verdict.POLICE for t in r.terms)
        other_terms = tuple(t for r in rules.keywords if r.verdict is Verdict.NON_POLICE for t in r.terms)
        categories = {c.code: c for c in rules.categories}
        clean = self._addresses.clean

        def keeps(kind: str, code: str) -> bool:
            c = categories.get(code)
            if c is None:
                return False
            has_police = any(t in c.name for t in police_terms)
            has_other = any(t in c.name for t in other_terms)
            if kind == "police":
                return True
            if kind == "unclear":
                return c.verdict is Verdict.POLICE or has_police or (c.verdict is Verdict.UNCLEAR and not has_other)
            if kind == "by_category":
                return c.verdict is Verdict.POLICE
            if kind == "non_police":
                return c.verdict is not Verdict.POLICE and not has_police
            return c.verdict is Verdict.NON_POLICE and not has_police  # category_only

        def table(groups) -> Weighted[_Template]:
            pairs = []
            for kind, weight, codes, group_texts in groups:
                cats = tuple((code, categories[code].name) for code in codes if keeps(kind, code))
                if kind in ("by_category", "category_only") and not cats:
                    continue
                usable = []
                for text in group_texts:
                    fields = tuple(f for _, f, _, _ in string.Formatter().parse(text) if f)
                    literal = re.sub(r"\{[a-z]+\}", "|", text)
                    slot_values = [v for f in fields for v in texts.SLOTS[f]]
                    if clean(literal) and all(clean(v) for v in slot_values):
                        usable.append(_Template(kind, text, fields, cats))
                pairs.extend((t, weight / len(usable)) for t in usable)
            return Weighted(pairs)

        return table(texts.POLICE_GROUPS), table(texts.NON_POLICE_GROUPS)

    def _valid_record(self, kind: str, source_id: str, received_at: datetime) -> tuple[dict, Expected]:
        rng = self._rng
        places = self._addresses
        if kind == POLICE:
            template = self._police_texts.pick(rng)
            roll = rng.random()
            expected = _POLICE_EXPECTED  # kept by police; where it happened is named when it can be
            if roll < 0.75:
                address, prefix, town_code, town = places.resolvable()
                expected = self._police_expected[town]
            elif roll < 0.88:
                address, prefix, town_code = places.unresolved(), "", None
            elif roll < 0.94:
                address, prefix, town_code = places.ambiguous(), "", None
            else:
                address, prefix, town_code = places.outside()
        elif kind == WORK_ORDER:
            template = self._other_texts.pick(rng)
            address, prefix, town_code, town = places.resolvable()
            expected = self._work_order_expected[town]
        else:
            template = self._other_texts.pick(rng)
            reason = _REVIEW_REASONS.pick(rng)
            prefix = ""
            town_code = None
            if reason == TOWN_AMBIGUOUS:
                address = places.ambiguous()
            elif reason == TOWN_UNRESOLVED:
                address = places.unresolved()
            else:
                address, prefix, town_code = places.outside()
            expected = self._review_expected[reason]

        channel = _CHANNELS.pick(rng)
        record: dict = {"schema": "incident.v1", "source_id": source_id,
                        "source_system": "12345" if channel == "12345" else "110",
                        "received_at": received_at.isoformat(), "channel": channel}
        cats = template.categories
        if cats and (template.kind in ("by_category", "category_only") or rng.random() < 0.4):
            code, name = rng.item(cats)
            record["category_code"] = code
            if rng.random() < 0.9:
                record["category_name"] = name
        record["summary"] = prefix + self._fill(template)
        if address or rng.random() < 0.5:
            record["address"] = address
        if self._with_points and rng.random() < 0.3:
            (west, east), (south, north) = _DEMO_AREA
            record["location"] = {"lon": round(rng.uniform(west, east), 6), "lat": round(rng.uniform(south, north), 6),
                                  "datum": "GCJ-02" if rng.random() < 0.6 else "WGS-84"}
        if town_code is not None:
            record["town_code"] = town_code
        roll = rng.random()
        if roll < 0.6:
            record["caller"] = {"name": self._name(), "phone": self._phone()}
        elif roll < 0.75:
            record["caller"] = {"phone": self._phone()}
        return record, expected

    def _fill(self, template: _Template) -> str:
        if not template.fields:
            return template.text
        rng = self._rng
        values = {}
        for f in template.fields:
            if f == "amt":
                values[f] = (texts.YUAN.format(rng.between(8, 99) * 100) if rng.random() < 0.5
                             else texts.WAN_YUAN.format(rng.between(11, 300) / 10))
            elif f == "plate":
                values[f] = texts.PLATE_PREFIX + "".join(rng.item(texts.PLATE_CHARS) for _ in range(5))
            elif f == "road":
                values[f] = rng.item(self._addresses.roads)
            else:
                values[f] = rng.item(texts.SLOTS[f])
        return template.text.format_map(values)

    def _name(self) -> str:
        return self._rng.item(texts.SURNAMES) + self._rng.item(texts.GIVEN_NAMES)

    def _phone(self) -> str:
        return self._rng.item(texts.MOBILE_PREFIXES) + f"{self._rng.between(0, 100_000_000):08d}"

    def _invalid_sample(self, source_id: str, received_at: datetime) -> Sample:
        rng = self._rng
        reason: DeadLetterReason = REASONS.pick(rng)
        base, _ = self._valid_record(POLICE if rng.random() < 0.4 else WORK_ORDER, source_id, received_at)
        value, keeps_id = self._invalid.make(reason, base, received_at)
        key, sid = (source_id.encode(), source_id) if keeps_id else (None, None)
        return Sample(key, value, sid, Expected(DEAD_LETTER, None, None, reason.value))
