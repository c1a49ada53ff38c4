"""The API under test: a real uvicorn server on PostgreSQL, the demo users, and orders opened by the
real intake, so HTTP and browser tests see exactly what a deployment serves."""

from __future__ import annotations

import functools
import json
import tempfile
import threading
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from itertools import count
from pathlib import Path

import httpx
from argon2 import PasswordHasher
from sqlalchemy import Engine

from api.app import create_app
from api.demo import DEMO_PASSWORD, DemoUser, ensure_demo_users
from api.identity import Identity, LoginPolicy
from api.limits import HttpLimits
from api.login_limits import PasswordChecks
from api.services import Services
from router.bundle import load_bundle
from router.dead_letters import FeedRecord
from router.domain.jurisdiction import Jurisdiction
from router.domain.routing import Router
from router.ids import number
from router.intake import Intake
from router.photos import PhotoLimits, Photos
from router.store.database import make_engine
from router.store.migrate import upgrade
from router.store.photo_files import DirectoryFiles
from schemas.topics import Topics
from tests.integration.support import REPO, TEST_START
from workers.api_server import BackgroundServer, Connections
from workers.broker import free_port

BUNDLE = REPO / "jurisdictions" / "xiaoshan"
# Real argon2id at a low cost: every start hashes the demo accounts' passwords, and the cost is a deployment
# setting. Tests of what the production cost does (bounded checks under load) pass PRODUCTION_HASHER.
TEST_HASHER = PasswordHasher(time_cost=1, memory_cost=8 * 1024, parallelism=1)
PRODUCTION_HASHER = PasswordHasher()
# The production limits, except the idle timeout: tests move the clock hours on (to deadlines) between requests.
TEST_POLICY = LoginPolicy(idle_timeout=LoginPolicy().session_ttl)


@functools.cache
def router_for(bundle: Path) -> Router:
    """One Router per bundle for the whole test run: bundles are read-only and a Router is stateless, and
    building one takes a second (the country's places)."""
    return Router(load_bundle(bundle))


@dataclass
class MovableClock:
    """A clock that stands still at `start` until the test moves it forward (to reach a deadline)."""

    start: datetime = TEST_START
    offset: timedelta = timedelta(0)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __call__(self) -> datetime:
        with self._lock:
            return self.start + self.offset

    def advance(self, by: timedelta) -> None:
        with self._lock:
            self.offset += by


@dataclass
class ApiUnderTest:
    url: str
    engine: Engine
    jurisdiction: Jurisdiction
    jurisdiction_path: Path
    services: Services
    users: dict[str, DemoUser]
    clock: MovableClock
    server: BackgroundServer
    photo_dir: tempfile.TemporaryDirectory
    _ids: count = field(default_factory=lambda: count(1))

    @property
    def router(self) -> Router:
        return router_for(self.jurisdiction_path)

    @classmethod
    def start(cls, database_url: str, poll_s: float = 0.5, policy: LoginPolicy = TEST_POLICY,
              connections: Connections | None = None, limits: HttpLimits | None = None,
              bundle: Path = BUNDLE, hasher: PasswordHasher = TEST_HASHER) -> ApiUnderTest:
        engine = make_engine(database_url)
        upgrade(engine)
        router = router_for(bundle)
        jurisdiction = router.jurisdiction
        clock = MovableClock()
        identity = Identity(engine.begin, policy, PasswordChecks(policy.concurrent_checks, policy.check_wait, hasher))
        photo_dir = tempfile.TemporaryDirectory(prefix="fengqiao-photos-")
        photos = Photos(DirectoryFiles(Path(photo_dir.name)), engine.begin, PhotoLimits())
        services = Services.build(engine, jurisdiction, Topics(), identity, clock, photos, router=router)
        users = {u.user_id: u for u in ensure_demo_users(engine, identity, jurisdiction, clock())}
        port = free_port()
        app = create_app(services, poll_s=poll_s, limits=limits)
        server = BackgroundServer(app, "127.0.0.1", port, connections).start()
        return cls(f"http://127.0.0.1:{port}", engine, jurisdiction, bundle, services, users, clock, server,
                   photo_dir)

    def stop(self) -> None:
        self.server.stop()
        self.engine.dispose()
        self.photo_dir.cleanup()

    def open_order(self, summary: str = "楼上装修噪音扰民，持续到深夜", address: str = "萧山区新塘街道",
                   caller: dict | None = None, **extra: object) -> str:
        """Route one incident through the real intake; the work order it opens (or merges into)."""
        incident = {"source_id": f"T{next(self._ids):06d}-{id(self) % 10_000}", "received_at": self.clock().isoformat(),
                    "channel": "phone", "summary": summary, "address": address,
                    "caller": caller or {"name": "王小明", "phone": "13912345678"}, **extra}
        result = Intake(self.router, self.engine.begin, Topics(), 65_536).handle(
            [FeedRecord(json.dumps(incident, ensure_ascii=False).encode())], self.clock())
        order_id = result.routed[0].order_id
        assert order_id, f"the incident did not open a work order: {result.routed[0]}"
        return order_id

    def queue_review(self, source_id: str, summary: str = "楼上邻居装修噪音太大，晚上还在施工") -> str:
        """Route one non-police incident that names no place: the id of the review item (待定位) it waits in."""
        incident = {"source_id": source_id, "received_at": self.clock().isoformat(), "channel": "phone",
                    "summary": summary, "address": "", "caller": {"name": "王小明", "phone": "13912345678"}}
        [routed] = Intake(self.router, self.engine.begin, Topics(), 65_536).handle(
            [FeedRecord(json.dumps(incident, ensure_ascii=False).encode())], self.clock()).routed
        assert routed.outcome == "review", routed
        return str(number("RV", "review", source_id))

    def client(self, user_id: str | None = None, password: str = DEMO_PASSWORD) -> httpx.Client:
        """An HTTP client signed in as `user_id` (a session cookie), or anonymous."""
        client = httpx.Client(base_url=self.url, timeout=10)
        if user_id:
            response = client.post("/api/v1/session", json={"username": user_id, "password": password})
            assert response.status_code == 200, response.text
        return client

    def token_client(self, user_id: str) -> httpx.Client:
        """An HTTP client with a fresh bearer token for `user_id` (integration accounts)."""
        token = self.services.identity.issue_token(user_id, "test", self.clock())
        return httpx.Client(base_url=self.url, timeout=10, headers={"Authorization": f"Bearer {token}"})

    def town_of(self, user_id: str) -> str:
        return self.users[user_id].unit_code
