"""Corrections (纠错) read from the audit: the loop's own word that a routing decision was wrong.

A correction is one of:
- 改派: a 退单 whose reason the bundle marks `misroute=town` (非本镇街辖区), approved with the
  town it belongs to;
- 转派: the district moving an order to another town;
- 撤单 after a 退单 whose reason is marked `misroute=police` (属警务事项): it was a police matter.

Each comes with the incident's text and the decision that sent it wrong, so `fengqiao cases export`
turns them into labelled cases for `fengqiao eval`, and the board counts them per rule per month.

The district's review decisions (区中心处置: a review item placed in a town, merged into an order, or
marked police) are labelled cases too: the engine did not guess, and the dispatcher says where it
belonged. They are not misroutes, so the board does not count them.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, tzinfo

from sqlalchemy import Connection, select

from router.store.tables import incidents, order_events, review_items, work_orders

TOWN, POLICE = "town", "police"


@dataclass(frozen=True, slots=True)
class Correction:
    order_id: str
    corrected_at: datetime
    action: str  # approve_return | transfer | withdraw
    misroute: str  # town | police
    to_town: str | None  # the town it belonged to, for a town misroute
    summary: str
    address: str
    decision: Mapping[str, object]  # the routing decision that was wrong, as recorded

    @property
    def rule_id(self) -> str:
        """The rule that decided it: the first of the decision's rules (or its reason, if none fired)."""
        rules = self.decision.get("rule_ids") or ()
        return str(rules[0]) if rules else str(self.decision.get("reason", "unknown"))


_KINDS = ("request_return", "approve_return", "transfer", "withdraw")


def corrections(conn: Connection, misroutes: Mapping[str, str], since: datetime | None = None) -> list[Correction]:
    """Every correction made since `since`, oldest first. The order's earlier 退单 is read whenever it
    was made, since it says why a later 改派 or 撤单 was one."""
    query = (select(order_events.c.order_id, order_events.c.kind, order_events.c.at, order_events.c.details,
                    incidents.c.decision, incidents.c.record)
             .join(work_orders, work_orders.c.order_id == order_events.c.order_id)
             .join(incidents, incidents.c.incident_id == work_orders.c.incident_id)
             .where(order_events.c.accepted.is_(True), order_events.c.kind.in_(_KINDS))
             .order_by(order_events.c.order_id, order_events.c.id))
    found: list[Correction] = []
    reason: dict[str, str | None] = {}  # the order's latest 退单 reason
    for row in conn.execute(query):
        details = row.details or {}
        if row.kind == "request_return":
            reason[row.order_id] = details.get("reason_code")
            continue
        code = reason.get(row.order_id)
        meaning = misroutes.get(code or "")
        if row.kind == "transfer" or (row.kind == "approve_return" and meaning == TOWN):
            misroute, to_town = TOWN, details.get("to_town")
        elif row.kind == "withdraw" and meaning == POLICE:
            misroute, to_town = POLICE, None
        else:
            continue
        if since is not None and row.at < since:
            continue
        record = row.record or {}
        found.append(Correction(row.order_id, row.at, row.kind, misroute, to_town, record.get("summary", ""),
                                record.get("address", ""), row.decision))
    found.sort(key=lambda c: c.corrected_at)
    return found


@dataclass(frozen=True, slots=True)
class MisrouteCount:
    """误派统计: one rule's corrections in one local month."""

    month: str  # YYYY-MM
    rule_id: str
    wrong_town: int
    police: int

    @property
    def total(self) -> int:
        return self.wrong_town + self.police


def misroute_counts(found: list[Correction], zone: tzinfo) -> list[MisrouteCount]:
    """Corrections per local month and rule: newest month first, the most corrected rule first in it."""
    counts = Counter((f"{c.corrected_at.astimezone(zone):%Y-%m}", c.rule_id, c.misroute) for c in found)
    keys = sorted({(month, rule) for month, rule, _ in counts})
    rows = [MisrouteCount(month, rule, counts[month, rule, TOWN], counts[month, rule, POLICE]) for month, rule in keys]
    rows.sort(key=lambda row: (-row.total, row.rule_id))
    rows.sort(key=lambda row: row.month, reverse=True)  # stable: within a month, the order above
    return rows


@dataclass(frozen=True, slots=True)
class ReviewDecided:
    """A review item the district decided: `outcome` placed | merged | police, and the town it went to."""

    review_id: str
    decided_at: datetime
    outcome: str
    town_code: str | None
    reason: str  # why it waited: town_ambiguous | town_unresolved | outside_jurisdiction
    summary: str
    address: str
    decision: Mapping[str, object]  # the engine's decision: review


def reviews_decided(conn: Connection, since: datetime | None = None) -> list[ReviewDecided]:
    """Every review decision made since `since`, oldest first."""
    query = (select(review_items.c.review_id, review_items.c.decided_at, review_items.c.state,
                    review_items.c.town_code, review_items.c.reason, incidents.c.record, incidents.c.decision)
             .join(incidents, incidents.c.incident_id == review_items.c.incident_id)
             .where(review_items.c.state != "open")
             .order_by(review_items.c.decided_at, review_items.c.review_id))
    if since is not None:
        query = query.where(review_items.c.decided_at >= since)
    return [ReviewDecided(r.review_id, r.decided_at, r.state, r.town_code, r.reason,
                          (r.record or {}).get("summary", ""), (r.record or {}).get("address", ""), r.decision)
            for r in conn.execute(query)]
