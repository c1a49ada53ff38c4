"""The closed loop in-process on one database, driven by a clock a test moves: intake, commands
and the sweep as the worker and the API run them, for unit tests of what the store reads back."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import Engine

from router.commands import CommandHandler
from router.domain.jurisdiction import Jurisdiction
from router.domain.routing import Router
from router.intake import FeedRecord, Intake
from router.sweep import Sweep
from schemas.command import WorkOrderCommandV1
from schemas.topics import Topics

CST = ZoneInfo("Asia/Shanghai")
XINTANG = "330109004"
DISTRICT = "330109"


class Loop:
    """Intake, commands and the sweep on one database, driven by a clock the test moves."""

    def __init__(self, engine: Engine, jurisdiction: Jurisdiction) -> None:
        topics = Topics()
        self.intake = Intake(Router(jurisdiction), engine.begin, topics, 65_536)
        self.commands = CommandHandler(jurisdiction, engine.begin, topics)
        self.sweep = Sweep(engine, topics)
        self.now = datetime(2025, 1, 1, tzinfo=CST)
        self._keys = 0

    def at(self, moment: datetime) -> Loop:
        """Move the clock forward to `moment`, letting the sweep fire whatever fell due."""
        assert moment >= self.now
        self.now = moment
        while self.sweep.tick(moment).claimed:
            pass
        return self

    def later(self, **delta: float) -> Loop:
        return self.at(self.now + timedelta(**delta))

    def open(self, incident_id: str, street: str = "新塘街道") -> str:
        incident = {"source_id": incident_id, "received_at": self.now.isoformat(), "channel": "phone",
                    "summary": "楼上装修噪音扰民", "address": f"萧山区{street}{incident_id}号楼"}
        result = self.intake.handle([FeedRecord(json.dumps(incident, ensure_ascii=False).encode())], self.now)
        [routed] = result.routed
        return routed.order_id

    def do(self, order_id: str, action: str, unit: str = XINTANG, role: str = "town_operator", **extra) -> None:
        self._keys += 1
        wire = WorkOrderCommandV1.model_validate({
            "idempotency_key": f"key-{self._keys:06d}", "order_id": order_id, "action": action,
            "actor": {"user_id": "u-1", "role": role, "unit_code": unit}, **extra})
        outcome = self.commands.handle(wire, self.now)
        assert outcome.status == "accepted", (action, outcome)

    def district(self, order_id: str, action: str, **extra) -> None:
        self.do(order_id, action, DISTRICT, "district_dispatcher", **extra)
