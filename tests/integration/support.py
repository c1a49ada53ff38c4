"""Helpers for integration tests (and the benches): produce to, read back from, and wait on the real
broker; a throwaway PostgreSQL database; the Xiaoshan bundle with short SLA clocks."""

from __future__ import annotations

import os
import shutil
import time
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import psycopg
from kafka import KafkaConsumer, KafkaProducer, TopicPartition
from sqlalchemy import Engine

from api.identity import Identity, LoginPolicy
from router.command_senders import TOKEN_HEADER
from router.domain.lifecycle import Role
from router.store import accounts
from workers.clock import MovedClock, monotonic_s

REPO = Path(__file__).resolve().parents[2]
# The PostgreSQL the integration tests (and the benches) create their databases in, as SQLAlchemy
# spells it, and the same server as psycopg spells it, for administrative statements.
PG_URL = os.environ.get("FENGQIAO_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
PG_ADMIN_URL = PG_URL.replace("postgresql+psycopg://", "postgresql://")
XIAOSHAN = REPO / "jurisdictions" / "xiaoshan"

# What the engine under test is told it is: a working Wednesday morning in Xiaoshan (10:00 Asia/Shanghai),
# so working-day deadlines do not depend on the weekday or the hour the suite runs at.
TEST_START = datetime(2026, 11, 25, 2, 0, tzinfo=UTC)


def moved_clock(speed: float = 1.0) -> dict[str, str]:
    """The environment that gives worker processes a clock showing TEST_START now and running `speed`
    times faster. Its epoch is a reading of the machine's monotonic clock, which every process (also one
    restarted after a SIGKILL) counts elapsed time from, so they agree; no wall clock is read."""
    return {"FENGQIAO_CLOCK_SPEED": str(speed), "FENGQIAO_CLOCK_EPOCH": repr(monotonic_s()),
            "FENGQIAO_CLOCK_ORIGIN": TEST_START.isoformat()}


def run_clock(env: Mapping[str, str]) -> MovedClock:
    """The clock `moved_clock`'s environment gives the workers, for the test to read the same time."""
    return MovedClock(float(env["FENGQIAO_CLOCK_SPEED"]), float(env["FENGQIAO_CLOCK_EPOCH"]),
                      datetime.fromisoformat(env["FENGQIAO_CLOCK_ORIGIN"]))


@contextmanager
def fresh_database(prefix: str = "fengqiao") -> Iterator[str]:
    """The URL of a new empty PostgreSQL database, dropped when the block ends, however it ends."""
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    base, _, _ = PG_URL.rpartition("/")
    try:
        yield f"{base}/{name}"
    finally:
        with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def short_sla_bundle(target_dir: Path, *, acknowledge_minutes: int, report: int, report_unit: str, resolve: int,
                     resolve_unit: str) -> Path:
    """A copy of the Xiaoshan bundle at `target_dir` whose one SLA row has the given clocks (warnings at
    half and four fifths) and whose escalation steps follow the breach at 0, 1 and 2 minutes."""
    shutil.copytree(XIAOSHAN, target_dir)
    (target_dir / "sla.csv").write_text(
        "matter_type,priority,acknowledge_minutes,report,report_unit,resolve,resolve_unit,clock_start,warn_at,source\n"
        f"*,*,{acknowledge_minutes},{report},{report_unit},{resolve},{resolve_unit},dispatch,0.5|0.8,short clocks\n",
        encoding="utf-8")
    (target_dir / "escalation.csv").write_text(
        "step,kind,after_minutes,target,name\n1,remind,0,centre,催办\n2,supervise,1,town_leader,督办\n"
        "3,notify,2,district,通报\n", encoding="utf-8")
    return target_dir


def produce(bootstrap: str, topic: str, records: list[tuple[bytes | None, bytes]],
            headers: list[tuple[str, bytes]] | None = None) -> None:
    """Send `records` (key, value), each with `headers` (a town system's token on the commands topic)."""
    producer = KafkaProducer(bootstrap_servers=bootstrap, acks="all", linger_ms=5, max_request_size=2_000_000)
    for key, value in records:
        producer.send(topic, key=key, value=value, headers=headers)
    producer.flush()
    producer.close()


def integration_token(engine: Engine, user_id: str, unit_code: str, now: datetime) -> str:
    """A new token of the integration account `user_id` of `unit_code` (a town system), created on first use."""
    identity = Identity(engine.begin, LoginPolicy())
    with engine.connect() as conn:
        exists = accounts.user(conn, user_id) is not None
    if not exists:
        identity.add_user(user_id, "town system", Role.INTEGRATION, unit_code, None, now)
    return identity.issue_token(user_id, "test", now)


def token_header(token: str) -> list[tuple[str, bytes]]:
    return [(TOKEN_HEADER, token.encode())]


def consume_all(bootstrap: str, topic: str, idle_s: float = 2.0) -> list:
    """Every record on `topic` from the beginning, read until nothing new arrives for `idle_s`."""
    consumer = KafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False, auto_offset_reset="earliest")
    tps = [TopicPartition(topic, p) for p in sorted(consumer.partitions_for_topic(topic) or ())]
    consumer.assign(tps)
    consumer.seek_to_beginning(*tps)
    records, last_new = [], time.monotonic()
    while time.monotonic() - last_new < idle_s:
        batch = consumer.poll(timeout_ms=200)
        for partition_records in batch.values():
            records.extend(partition_records)
            last_new = time.monotonic()
    consumer.close()
    return records


def wait_for(predicate, timeout_s: float, what: str, interval_s: float = 0.5):
    deadline = time.monotonic() + timeout_s
    last = None
    while time.monotonic() < deadline:
        try:
            last = predicate()
        except Exception as error:  # the worker may not be serving yet
            last = error
        if last is True:
            return
        time.sleep(interval_s)
    raise AssertionError(f"timed out after {timeout_s} s waiting for {what}; last: {last!r}")


def incident_of(body: dict) -> str | None:
    """The incident an output event places: opened an order, repeated one (并单), or awaits review."""
    if body.get("event_type") in ("workorder.dispatched", "review.queued"):
        return body["incident"]["source_id"]
    if body.get("event_type") == "workorder.report_merged":
        return body["details"]["incident_id"]
    return None
