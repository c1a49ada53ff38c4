"""What every route needs, built once at start-up and reached through `request.app.state.services`."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from functools import cached_property

from fastapi import Request
from sqlalchemy import Connection, Engine

from api.identity import Identity, Principal
from router.commands import CommandHandler
from router.domain.jurisdiction import Jurisdiction
from router.domain.routing import Router
from router.intake import MAX_RECORD_BYTES, Intake
from router.photos import Photos
from router.review_desk import ReviewDesk
from schemas.topics import Topics


@dataclass(frozen=True)
class Services:
    engine: Engine
    jurisdiction: Jurisdiction
    commands: CommandHandler
    reviews: ReviewDesk
    identity: Identity
    clock: Callable[[], datetime]
    photos: Photos
    topics: Topics
    secure_cookies: bool = False  # True behind HTTPS
    max_record_bytes: int = MAX_RECORD_BYTES  # one feed record posted to /api/v1/incidents, as on Kafka
    router: Router | None = None  # one already built for the jurisdiction (~1 s to build), else built on first use

    @classmethod
    def build(cls, engine: Engine, jurisdiction: Jurisdiction, topics: Topics, identity: Identity,
              clock: Callable[[], datetime], photos: Photos, secure_cookies: bool = False,
              max_record_bytes: int = MAX_RECORD_BYTES, router: Router | None = None) -> Services:
        """The services of one API process: commands and review decisions on `engine`, events on `topics`."""
        return cls(engine, jurisdiction, CommandHandler(jurisdiction, engine.begin, topics),
                   ReviewDesk(jurisdiction, engine.begin, topics), identity, clock, photos, topics,
                   secure_cookies, max_record_bytes, router)

    @cached_property
    def intake(self) -> Intake:
        """The worker's intake, for feeds that post over HTTP; built on first use."""
        return Intake(self.router or Router(self.jurisdiction), self.engine.begin, self.topics, self.max_record_bytes)

    def transaction(self) -> AbstractContextManager[Connection]:
        return self.engine.begin()

    def read(self) -> AbstractContextManager[Connection]:
        return self.engine.connect()

    def unit_name(self, code: str) -> str:
        return self.jurisdiction.unit_name(code)

    @property
    def zone(self) -> tzinfo:
        """The bundle's time zone: local months, and the times people read (CSV exports)."""
        return self.jurisdiction.loop.calendar.timezone if self.jurisdiction.loop else UTC


def services(request: Request) -> Services:
    return request.app.state.services


def principal_of(request: Request) -> Principal | None:
    return getattr(request.state, "principal", None)
