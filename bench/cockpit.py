"""Cockpit figures on PostgreSQL (`make bench`): a district's year — 200,000 incidents, 60,000 orders —
and each cockpit view (all it reads, its 24-month trend too) timed beside a plain count(*) of the same
dispatches in the same run.

The generated rows are shaped like the engine's (an order, its holding, 签收/反馈/办结 audit rows, some
fired breaches); the figures are not checked here (tests/integration/test_cockpit.py does). Figures, not a test.
"""

from __future__ import annotations

import argparse
import time
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import text

from router.store import cockpit
from router.store.database import make_engine
from router.store.migrate import upgrade
from tests.integration.support import fresh_database

CST = ZoneInfo("Asia/Shanghai")
TOWNS = tuple(f"330109{n:03d}" for n in (1, 2, 3, 4, 5, 6, 12, 13, 14, 15, 100, 101, 102, 103, 104, 105, 106, 107,
                                          108, 113, 115, 120))


def _load(engine, orders: int, incidents: int, start: datetime) -> None:
    year_s = 365 * 86400
    with engine.begin() as conn:
        params = {"n": orders, "start": start, "towns": list(TOWNS), "year": year_s}
        conn.execute(text("""
            INSERT INTO work_orders (order_id, incident_id, town_code, centre_code, matter_type, priority, state,
                                     summary, address, opened_at, generation, returns, reports, village_code)
            SELECT 'WO' || g, 'I' || g, t, t, '噪音扰民', 'normal',
                   CASE WHEN g % 10 = 0 THEN 'dispatched' ELSE 'closed' END, '', '地址' || (g % 5000),
                   :start + ((g::bigint * 7919) % :year || ' seconds')::interval, 0, 0, 1,
                   t || lpad((g % 20)::text, 3, '0')
            FROM generate_series(1, :n) AS g,
                 LATERAL (SELECT (CAST(:towns AS text[]))[1 + g % 22] AS t) AS town"""), params)
        conn.execute(text("""INSERT INTO holdings (order_id, unit_code, from_at)
                             SELECT order_id, town_code, opened_at FROM work_orders"""))
        for kind, minutes, share in (("acknowledge", 10, 1), ("report", 600, 1), ("approve_report", 700, 1),
                                     ("record_callback", 2000, 2)):
            conn.execute(text("""
                INSERT INTO order_events (event_id, order_id, kind, accepted, to_state, generation, at, details)
                SELECT md5(order_id || :kind), order_id, :kind, true,
                       CASE WHEN :kind = 'record_callback' THEN 'closed' ELSE NULL END, 0,
                       opened_at + (:minutes || ' minutes')::interval, '{}'
                FROM work_orders WHERE state = 'closed' AND hashtext(order_id) % :share = 0"""),
                         {"kind": kind, "minutes": minutes, "share": share})
        conn.execute(text("""
            INSERT INTO sla_timers (order_id, generation, stage, kind, due_at, unit_code, status, fired_at)
            SELECT order_id, 0, 'acknowledge', 'breach', opened_at + interval '30 minutes', town_code, 'fired',
                   opened_at + interval '30 minutes' FROM work_orders WHERE state = 'dispatched'"""))
        conn.execute(text("""
            INSERT INTO incidents (incident_id, source_system, received_at, outcome, verdict, town_code, order_id,
                                   bundle_version, decision, record, routed_at)
            SELECT 'I' || g, 'bench', :start + ((g::bigint * 104729) % :year || ' seconds')::interval,
                   CASE WHEN g <= :orders THEN 'work_order' ELSE 'police' END, 'non_police',
                   (CAST(:towns AS text[]))[1 + g % 22],
                   CASE WHEN g <= :orders THEN 'WO' || g END, 'bench', '{}', '{}', :start
            FROM generate_series(1, :n) AS g"""), {**params, "n": incidents, "orders": orders})
        conn.execute(text("ANALYZE"))


def _timed(label: str, run, rounds: int) -> None:
    samples = []
    for _ in range(rounds):
        t0 = time.perf_counter()
        run()
        samples.append((time.perf_counter() - t0) * 1000)
    samples.sort()
    print(f"{label:34} median {samples[len(samples) // 2]:8.1f} ms   max {samples[-1]:8.1f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--orders", type=int, default=60_000)
    parser.add_argument("--incidents", type=int, default=200_000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    with fresh_database("fengqiao_bench_cockpit") as url:
        engine = make_engine(url)
        try:
            upgrade(engine)
            started = time.perf_counter()
            _load(engine, args.orders, args.incidents, datetime(2026, 1, 1, tzinfo=CST))
            took = time.perf_counter() - started
            print(f"orders {args.orders:,}, incidents {args.incidents:,} (loaded in {took:.1f} s)")
            now = datetime(2026, 12, 31, 12, tzinfo=CST)
            this_month = date(2026, 12, 1)
            year = cockpit.Scope(date(2026, 1, 1), this_month, CST, TOWNS)
            month = cockpit.Scope(this_month, this_month, CST, TOWNS)
            town = cockpit.Scope(date(2026, 1, 1), this_month, CST, (TOWNS[0],))
            village = cockpit.Scope(date(2026, 1, 1), this_month, CST, (TOWNS[0],), f"{TOWNS[0]}001")

            def view(scope: cockpit.Scope, code: str, level: str):
                return lambda: cockpit.view_figures(conn, scope, code, level, this_month, now)

            with engine.connect() as conn:
                _timed("baseline count(*) of the holdings", lambda: conn.execute(text(
                    "SELECT count(*) FROM holdings WHERE from_at >= '2026-01-01'")).scalar(), args.rounds)
                _timed("district view: this month", view(month, "330109", "district"), args.rounds)
                _timed("district view: the year", view(year, "330109", "district"), args.rounds)
                _timed("town view: the year per village", view(town, TOWNS[0], "town"), args.rounds)
                _timed("village view: the year", view(village, f"{TOWNS[0]}001", "village"), args.rounds)
        finally:
            engine.dispose()


if __name__ == "__main__":
    main()
