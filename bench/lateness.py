"""Sweep lateness while the router ingests 500 incidents/s (`make bench`): a real worker on Tansu
and PostgreSQL, minute-long SLA clocks, a feed at a fixed rate.

Prints the ingest rate achieved, and the p50/p99/max lateness (fired_at - due_at) of every SLA
timer that fell due during and after the feed: the 签收 clock is one minute, so each order's
two warnings, breach and three escalation steps all fall due within the run (the report and
resolve clocks are hours long and stay pending, as they would). Target (issue: closed loop): p99 <= 2 s. The
baseline is the sweep's own tick interval (1 s): lateness below it is the floor. A figure.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from datetime import UTC, datetime
from pathlib import Path

import psycopg
from kafka import KafkaProducer
from sqlalchemy import func, select

from router.bundle import load_bundle
from router.store.database import make_engine
from router.store.tables import incidents, sla_timers
from workers.broker import EmbeddedBroker, free_port
from workers.feedgen import FeedGenerator
from workers.settings import Settings

ADMIN = os.environ.get("FENGQIAO_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
REPO = Path(__file__).resolve().parent.parent


def _wait_until_serving(port: int, timeout_s: float = 60) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=2).close()
            return
        except OSError:
            time.sleep(0.5)
    raise SystemExit(f"the worker did not serve /metrics within {timeout_s} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rate", type=float, default=500)
    parser.add_argument("--seconds", type=int, default=40)
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="fengqiao-lateness-"))
    bundle = work / "bundle"
    shutil.copytree(Settings().jurisdiction, bundle)
    (bundle / "sla.csv").write_text(
        "matter_type,priority,acknowledge_minutes,report,report_unit,resolve,resolve_unit,clock_start,warn_at,source\n"
        "*,*,1,2,hours,3,working_days,dispatch,0.5|0.8,bench\n", encoding="utf-8")
    (bundle / "escalation.csv").write_text(
        "step,kind,after_minutes,target,name\n1,remind,0,centre,催办\n2,supervise,1,town_leader,督办\n"
        "3,notify,2,district,通报\n", encoding="utf-8")
    name = f"fengqiao_bench_{uuid.uuid4().hex[:8]}"
    admin = ADMIN.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    url = ADMIN.rsplit("/", 1)[0] + f"/{name}"
    broker = EmbeddedBroker(log_path=work / "tansu.log").start()
    env = {**os.environ, "FENGQIAO_BOOTSTRAP_SERVERS": broker.bootstrap, "FENGQIAO_DATABASE_URL": url,
           "FENGQIAO_JURISDICTION": str(bundle), "FENGQIAO_DATA_DIR": str(work / "data"),
           "FENGQIAO_WEB_PORT": str(free_port()), "FENGQIAO_LOG_LEVEL": "WARNING"}
    worker = subprocess.Popen([sys.executable, "-m", "workers", "worker"], env=env, cwd=REPO,
                              stdout=(work / "worker.log").open("wb"), stderr=subprocess.STDOUT)
    engine = make_engine(url)
    try:
        generator = FeedGenerator(load_bundle(bundle), seed=9, invalid_share=0.01, id_prefix="LAT")
        producer = KafkaProducer(bootstrap_servers=broker.bootstrap, linger_ms=20)
        _wait_until_serving(int(env["FENGQIAO_WEB_PORT"]))
        time.sleep(5)  # and has joined its group (Tansu holds JoinGroup for half the session timeout)
        started = time.monotonic()
        sent = 0
        while (elapsed := time.monotonic() - started) < args.seconds:
            due = int(elapsed * args.rate) - sent
            for sample in generator.batch(due, datetime.now(UTC)) if due > 0 else ():
                producer.send("incidents.v1", key=sample.key, value=sample.value)
            sent += max(due, 0)
            time.sleep(0.05)
        producer.flush()
        feed_end = time.monotonic()
        with engine.connect() as conn:
            during = conn.scalar(select(func.count()).select_from(incidents)) or 0

        def routed() -> int:
            with engine.connect() as conn:
                return conn.scalar(select(func.count()).select_from(incidents)) or 0

        while routed() < sent * 0.95 and time.monotonic() - feed_end < 120:
            time.sleep(1)
        ingest_rate = routed() / (time.monotonic() - started)  # over the feed and its catch-up
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:
            with engine.connect() as conn:
                pending = conn.scalar(select(func.count()).select_from(sla_timers)
                                      .where(sla_timers.c.status == "pending", sla_timers.c.stage == "acknowledge"))
            if pending == 0:
                break
            time.sleep(2)
        with engine.connect() as conn:
            rows = conn.execute(select(sla_timers.c.due_at, sla_timers.c.fired_at)
                                .where(sla_timers.c.status == "fired")).all()
        late = sorted((fired - due).total_seconds() for due, fired in rows)
        q = statistics.quantiles(late, n=100)
        print(f"feed                   {sent:,} incidents at {args.rate:g}/s for {args.seconds} s")
        print(f"router ingest          {ingest_rate:,.0f} incidents/s routed and committed over feed and catch-up; "
              f"{sent - during:,} behind when the feed stopped")
        print(f"timers fired           {len(late):,}")
        print("baseline: tick         1.000 s (lateness below one tick is the floor)")
        print(f"sweep lateness         p50 {q[49]:.3f} s   p99 {q[98]:.3f} s   max {late[-1]:.3f} s   "
              f"target p99 <= 2 s: {'MET' if q[98] <= 2 else 'MISSED'}")
    finally:
        worker.send_signal(signal.SIGTERM)
        try:
            worker.wait(timeout=30)
        except subprocess.TimeoutExpired:
            worker.kill()
        engine.dispose()
        broker.stop()
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
