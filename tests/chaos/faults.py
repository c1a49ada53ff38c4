"""Carrying out one scheduled fault on the cluster, and noting when it began and ended."""

from __future__ import annotations

import random
import time
from collections.abc import Callable

from sqlalchemy import Engine, func, select

from router.store.tables import sla_timers
from tests.chaos.cluster import Cluster
from tests.chaos.schedule import (
    API_KILL,
    BROKER_PAUSE,
    CLEAN_STOP,
    DATABASE_OUTAGE,
    KILL,
    LEADER_KILL,
    START_WHILE_DATABASE_DOWN,
    Fault,
    InjectedFault,
)
from tests.chaos.traffic import Traffic
from workers.clock import MovedClock

LEADER_PROBE_S = 1.5


def inject(fault: Fault, cluster: Cluster, traffic: Traffic, engine: Engine, clock: MovedClock,
           rng: random.Random) -> InjectedFault:
    """Inject `fault` and undo it after its duration; returns once the cluster is whole again."""
    started = time.monotonic()
    detail = _ACTIONS[fault.kind](fault, cluster, traffic, engine, clock, rng)
    return InjectedFault(fault.kind, started, time.monotonic(), detail)


def _kill(fault: Fault, cluster: Cluster, *_: object) -> str:
    cluster.kill(fault.worker)
    time.sleep(fault.duration_s)
    cluster.start(fault.worker)
    return f"worker {fault.worker}, restarted after {fault.duration_s} s"


def _kill_leader(fault: Fault, cluster: Cluster, traffic: Traffic, engine: Engine, clock: MovedClock,
                 rng: random.Random) -> str:
    """The worker whose sweep fired most in the probe (only the group leader sweeps), killed while
    timers are due."""
    before = cluster.sweeps_fired()
    time.sleep(LEADER_PROBE_S)
    after = cluster.sweeps_fired()
    grown = {i: after[i] - before.get(i, 0) for i in after}
    leader = max(grown, key=lambda i: (grown[i], after[i])) if grown else fault.worker
    with engine.connect() as conn:
        due = conn.scalar(select(func.count()).select_from(sla_timers).where(
            sla_timers.c.status == "pending", sla_timers.c.due_at <= clock.now()))
    cluster.kill(leader)
    time.sleep(fault.duration_s)
    cluster.start(leader)
    return f"worker {leader} (fired {grown.get(leader, 0):.0f} in {LEADER_PROBE_S} s), {due} timers due"


def _clean_stop(fault: Fault, cluster: Cluster, *_: object) -> str:
    cluster.stop(fault.worker)
    time.sleep(fault.duration_s)
    cluster.start(fault.worker)
    return f"worker {fault.worker}, SIGTERM, started again after {fault.duration_s} s"


def _database_outage(fault: Fault, cluster: Cluster, *_: object) -> str:
    cluster.proxy.cut()
    time.sleep(fault.duration_s)
    cluster.proxy.restore()
    return f"{fault.duration_s} s"


def _start_while_database_down(fault: Fault, cluster: Cluster, *_: object) -> str:
    cluster.proxy.cut()
    cluster.kill(fault.worker)
    cluster.start(fault.worker)
    time.sleep(fault.duration_s)
    cluster.proxy.restore()
    return f"worker {fault.worker} started into a {fault.duration_s} s outage"


def _broker_pause(fault: Fault, cluster: Cluster, *_: object) -> str:
    cluster.pause_broker()
    time.sleep(fault.duration_s)
    cluster.resume_broker()
    return f"SIGSTOP for {fault.duration_s} s"


def _kill_api(fault: Fault, cluster: Cluster, traffic: Traffic, engine: Engine, clock: MovedClock,
              rng: random.Random) -> str:
    """SIGKILL the API just after a 签收 went out to it; the sender retries the same idempotency key."""
    traffic.command_over_http()
    time.sleep(rng.uniform(0, 0.3))
    cluster.kill_api()
    time.sleep(fault.duration_s)
    cluster.start_api()
    return f"restarted after {fault.duration_s} s"


_ACTIONS: dict[str, Callable[..., str]] = {
    KILL: _kill, LEADER_KILL: _kill_leader, CLEAN_STOP: _clean_stop, DATABASE_OUTAGE: _database_outage,
    START_WHILE_DATABASE_DOWN: _start_while_database_down, BROKER_PAUSE: _broker_pause, API_KILL: _kill_api,
}
