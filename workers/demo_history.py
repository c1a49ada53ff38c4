"""The demo's past (`make run`): a few months of incidents and orders played through the engine's real
paths — intake, commands, the SLA sweep — on past clocks, so the cockpit (驾驶舱) opens populated.

Nothing is written into tables directly: each incident goes through `Intake`, each 签收/反馈/审核/回访/退单
through `CommandHandler`, and every warning, breach and escalation is fired by `Sweep` as the played
clock passes its deadline. Towns answer on time most of the time, late some of the time, not at all
now and then (deterministic from `seed`). The last day before `until` is left to the live demo feed.
"""

from __future__ import annotations

import heapq
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from itertools import count

from sqlalchemy import Engine, func, select

from router.commands import CommandHandler
from router.domain.jurisdiction import Jurisdiction
from router.domain.lifecycle import Role
from router.domain.routing import Router
from router.intake import FeedRecord, Intake
from router.store.statistics import local_month, month_bounds, months_back
from router.store.tables import incidents, work_orders
from router.sweep import Sweep
from schemas.command import WorkOrderCommandV1
from schemas.topics import Topics
from workers.feedgen import FeedGenerator

ID_PREFIX = "HIST"  # the history's incidents: a database that has them is not backfilled again


@dataclass(order=True)
class _Step:
    at: datetime
    seq: int
    run: Callable[[datetime], None] = field(compare=False)


class History:
    """Plays `per_day` incidents a day from the first day of `months` months back until `until`."""

    def __init__(self, engine: Engine, jurisdiction: Jurisdiction, topics: Topics, seed: int = 13) -> None:
        self._engine = engine
        self._j = jurisdiction
        self._intake = Intake(Router(jurisdiction), engine.begin, topics, 65_536)
        self._commands = CommandHandler(jurisdiction, engine.begin, topics)
        self._sweep = Sweep(engine, topics)
        self._feed = FeedGenerator(jurisdiction, seed=seed, invalid_share=0.0, id_prefix=ID_PREFIX)
        self._rng = random.Random(seed)
        self._steps: list[_Step] = []
        self._seq = count()
        self._keys = count(1)
        self.orders = 0

    def played(self) -> bool:
        with self._engine.connect() as conn:
            return bool(conn.scalar(select(func.count()).select_from(incidents)
                                    .where(incidents.c.incident_id.startswith(ID_PREFIX))))

    def play(self, until: datetime, months: int = 4, per_day: int = 12) -> int:
        """Play the history; the number of orders it opened. `until` is the clock's now."""
        zone = self._j.loop.calendar.timezone
        start, _ = month_bounds(months_back(local_month(until, zone), months - 1), zone)
        end = until - timedelta(days=1)
        day = start
        while day < end:
            for _ in range(per_day):
                at = day + timedelta(hours=self._rng.uniform(7, 22))
                if at < end:
                    self._at(at, self._receive)
            day += timedelta(days=1)
        self._until = until
        while self._steps:
            step = heapq.heappop(self._steps)
            self._tick(step.at)
            step.run(step.at)
        self._tick(until)
        return self.orders

    def _at(self, at: datetime, run: Callable[[datetime], None]) -> None:
        heapq.heappush(self._steps, _Step(at, next(self._seq), run))

    def _tick(self, now: datetime) -> None:
        while self._sweep.tick(now).claimed:
            pass

    def _receive(self, now: datetime) -> None:
        sample = self._feed.sample(now)
        [routed] = self._intake.handle([FeedRecord(sample.value)], now).routed
        if routed.order_id and not routed.merged:
            self.orders += 1
            self._plan(routed.order_id, now)

    def _plan(self, order_id: str, now: datetime) -> None:
        """The order's life: 签收 (mostly in time), 反馈, 审核, 回访; a few returns, silences and rejections."""
        r = self._rng.random
        if r() < 0.05:
            return  # never acknowledged: its clocks run out and escalate
        acknowledged = now + timedelta(minutes=self._rng.choice((5, 10, 15, 20, 25, 45, 90)))
        self._later(acknowledged, order_id, "acknowledge")
        if r() < 0.06:
            self._later(acknowledged + timedelta(minutes=20), order_id, "request_return", reason_code="R01")
            return
        if r() < 0.08:
            return  # acknowledged, never reported
        reported = acknowledged + timedelta(hours=self._rng.choice((2, 4, 4, 8, 8, 20, 30)))
        self._later(reported, order_id, "report", text="已到现场处置，双方达成谅解")
        if r() < 0.1:
            self._later(reported + timedelta(hours=1), order_id, "reject_report", district=True)
            reported += timedelta(hours=6)
            self._later(reported, order_id, "report", text="已再次上门调解")
        approved = reported + timedelta(hours=2)
        self._later(approved, order_id, "approve_report", district=True)
        if r() < 0.7:
            self._later(approved + timedelta(days=1), order_id, "record_callback", district=True,
                        satisfied=r() < 0.88, text="电话回访")

    def _later(self, at: datetime, order_id: str, action: str, district: bool = False, **extra: object) -> None:
        if at < self._until:
            self._at(at, lambda now: self._do(now, order_id, action, district, extra))

    def _do(self, now: datetime, order_id: str, action: str, district: bool, extra: dict) -> None:
        with self._engine.connect() as conn:
            town, district_run = conn.execute(select(work_orders.c.town_code, work_orders.c.district_run)
                                              .where(work_orders.c.order_id == order_id)).one()
        centre = self._j.district_centre.code
        if district:
            role, unit = Role.DISTRICT_DISPATCHER, centre
        elif district_run:
            role, unit = Role.DISTRICT_OPERATOR, centre
        else:
            role, unit = Role.TOWN_OPERATOR, town
        wire = WorkOrderCommandV1.model_validate({
            "idempotency_key": f"history:{next(self._keys):07d}", "order_id": order_id, "action": action,
            "actor": {"user_id": "history", "role": role.value, "unit_code": unit}, **extra})
        self._commands.handle(wire, now)  # a refusal (the order moved on meanwhile) is history too
