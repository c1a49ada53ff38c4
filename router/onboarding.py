"""接入 (onboarding): a town that starts working its own orders takes over those the district ran for it.

Until a town is onboarded its orders go to the district centre (区中心代管, `district_run`), which works
them with the same clocks, charged to it. Onboarding is a bundle change (towns.csv `onboarded` yes);
when a worker starts on such a bundle, every open order the district centre runs for a town now
onboarded is handed over (移交): its centre becomes the town's own, its holding segment and pending
timers are charged to the town from then on, and the order's timeline, `workorder.events.v1` and the
town centre's own topic (`workorder.handed_over`, naming both centres) say so. An order handed over
is no longer district-run, so starting again hands nothing twice; each order is its own
transaction with its row locked.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import replace
from datetime import datetime

from sqlalchemy import Connection, select, update

from router.domain.jurisdiction import Jurisdiction
from router.domain.lifecycle import FINISHED
from router.ids import fact_id
from router.loop_events import record_fact
from router.store import orders
from router.store.tables import sla_timers, work_orders
from schemas.topics import Topics


def hand_over_onboarded(jurisdiction: Jurisdiction, transaction: Callable[[], AbstractContextManager[Connection]],
                        topics: Topics, now: datetime) -> list[str]:
    """Hand the district-run open orders of onboarded towns to their towns; the orders handed over."""
    onboarded = sorted(t.code for t in jurisdiction.towns if t.onboarded)
    with transaction() as conn:
        waiting = list(conn.scalars(
            select(work_orders.c.order_id).where(work_orders.c.district_run.is_(True),
                                                 work_orders.c.town_code.in_(onboarded),
                                                 work_orders.c.state.not_in(sorted(FINISHED)))
            .order_by(work_orders.c.order_id)))
    handed = []
    for order_id in waiting:
        with transaction() as conn:
            row = orders.order_for_update(conn, order_id)
            if row is None or not row["district_run"] or row["state"] in FINISHED:
                continue  # another worker handed it over, or it finished meanwhile
            before = orders.to_order(row)
            after = replace(before, centre_code=jurisdiction.town_by_code[before.town_code].centre.code,
                            district_run=False)
            orders.save_order(conn, order_id, {"centre_code": after.centre_code, "district_run": False,
                                               "updated_at": now})
            orders.hand_over(conn, order_id, after.charged_unit, now)
            conn.execute(update(sla_timers).where(sla_timers.c.order_id == order_id,
                                                  sla_timers.c.status == "pending")
                         .values(unit_code=after.charged_unit))
            details = {"from_centre": before.centre_code, "to_centre": after.centre_code}
            record_fact(conn, topics, after, event_id=fact_id("handed_over", f"{order_id}:{after.centre_code}"),
                        event_type="workorder.handed_over", kind="handed_over", at=now, from_state=after.state.value,
                        details=details)
            handed.append(order_id)
    return handed
