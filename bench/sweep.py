"""Sweep figures on PostgreSQL (`make bench`): claiming due timers among 1,000,000 pending ones.

Prints the time to claim and fire 500 due timers, and an idle tick, each next to a baseline
measured in the same run on the same table: a plain indexed primary-key lookup. Targets
(issue: closed loop): claim 500 <= 20 ms, idle tick <= 2 ms. Figures, not a test.
"""

from __future__ import annotations

import argparse
import statistics
import time
from datetime import UTC, datetime, timedelta

from sqlalchemy import select, text

from router.store import orders
from router.store.database import make_engine
from router.store.migrate import upgrade
from router.store.tables import sla_timers
from router.sweep import Sweep
from schemas.topics import Topics
from tests.integration.support import fresh_database


def _ms(samples: list[float]) -> str:
    q = statistics.quantiles(samples, n=100) if len(samples) > 1 else samples * 99
    return f"median {statistics.median(samples):7.2f} ms   p95 {q[94]:7.2f} ms   max {max(samples):7.2f} ms"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--pending", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=20)
    args = parser.parse_args()

    with fresh_database("fengqiao_bench") as url:
        _measure(args, url)


def _measure(args: argparse.Namespace, url: str) -> None:
    engine = make_engine(url)
    try:
        upgrade(engine)
        now = datetime(2026, 11, 28, 12, tzinfo=UTC)
        started = time.perf_counter()
        with engine.begin() as conn:
            # Future timers spread over 30 days, one order each: the backlog the sweep must not scan.
            conn.execute(text("""
                INSERT INTO work_orders (order_id, incident_id, town_code, centre_code, matter_type, priority, state,
                                         summary, address, opened_at, generation, returns, reports)
                SELECT 'WO' || g, 'I' || g, '330109004', '330109004', '噪音扰民', 'normal', 'dispatched', '', '',
                       :now, 0, 0, 1 FROM generate_series(1, :n) AS g"""), {"now": now, "n": args.pending})
            conn.execute(text("""
                INSERT INTO sla_timers (order_id, generation, stage, kind, due_at, unit_code, status)
                SELECT 'WO' || g, 0, 'acknowledge', 'breach', :now + (g || ' seconds')::interval * 2.5,
                       '330109004', 'pending' FROM generate_series(1, :n) AS g"""), {"now": now, "n": args.pending})
            conn.execute(text("ANALYZE"))
        print(f"pending timers         {args.pending:>10,}   (loaded in {time.perf_counter() - started:.1f} s)")

        sweep = Sweep(engine, Topics("bench."), batch=500)
        claims, ticks, idles, lookups = [], [], [], []
        clock = now
        for _ in range(args.rounds):
            clock += timedelta(seconds=1250)  # 500 timers fall due every 1,250 s of this schedule
            with engine.connect() as conn, conn.begin() as transaction:
                t0 = time.perf_counter()
                claimed = orders.claim_due_timers(conn, clock, 500)
                claims.append((time.perf_counter() - t0) * 1000)
                transaction.rollback()
            assert len(claimed) == 500
            t0 = time.perf_counter()
            result = sweep.tick(clock)
            ticks.append((time.perf_counter() - t0) * 1000)
            assert result.fired == 500, result
            t0 = time.perf_counter()
            idle = sweep.tick(clock)
            idles.append((time.perf_counter() - t0) * 1000)
            assert idle.claimed == 0
            with engine.connect() as conn:
                t0 = time.perf_counter()
                conn.execute(select(sla_timers.c.id).where(sla_timers.c.id == 123_456)).all()
                lookups.append((time.perf_counter() - t0) * 1000)
        print(f"baseline: pk lookup    {_ms(lookups)}")
        print(f"claim 500 due          {_ms(claims)}   target <= 20 ms: "
              f"{'MET' if statistics.median(claims) <= 20 else 'MISSED'}")
        print(f"tick: claim + fire 500 {_ms(ticks)}   (audit rows and 1,000 outbox events in the same commit)")
        print(f"idle tick              {_ms(idles)}   target <= 2 ms: "
              f"{'MET' if statistics.median(idles) <= 2 else 'MISSED'}")
    finally:
        engine.dispose()


if __name__ == "__main__":
    main()
