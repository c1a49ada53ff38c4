"""The fault schedule, drawn from a seed: which fault, when, for how long, and to which worker."""

from __future__ import annotations

import random
from dataclasses import dataclass

KILL = "kill"  # SIGKILL a worker, restart it 1–5 s later
LEADER_KILL = "leader_kill"  # SIGKILL the worker whose SLA sweep is firing, while timers are due
CLEAN_STOP = "clean_stop"  # SIGTERM a worker, start it again
DATABASE_OUTAGE = "database_outage"  # the proxy cuts every database connection and refuses new ones
START_WHILE_DATABASE_DOWN = "start_while_database_down"  # a worker killed and started again during an outage
BROKER_PAUSE = "broker_pause"  # SIGSTOP the Tansu process, SIGCONT ~10 s later
API_KILL = "api_kill"  # SIGKILL the HTTP API while a command is being retried, restart it

EVERY_KIND = (KILL, LEADER_KILL, CLEAN_STOP, DATABASE_OUTAGE, START_WHILE_DATABASE_DOWN, BROKER_PAUSE, API_KILL)
_DURATION_S = {KILL: (1, 5), LEADER_KILL: (1, 5), CLEAN_STOP: (1, 3), DATABASE_OUTAGE: (5, 12),
               START_WHILE_DATABASE_DOWN: (6, 10), BROKER_PAUSE: (9, 11), API_KILL: (1, 3)}
# The first database outage lasts 30 s: the return after it is the one the issue measures (first
# decision within 5 s of the database's return); later ones are short cuts.
_FIRST_DURATION_S = {DATABASE_OUTAGE: 30.0}
_GAP_S = (4.0, 9.0)  # quiet time after a fault ends, for the run to recover and be measured


@dataclass(frozen=True, slots=True)
class Fault:
    kind: str
    at_s: float  # seconds into the fault phase
    duration_s: float  # how long it lasts: the outage or pause, or the wait before a restart
    worker: int  # which worker slot, for the kinds that hit one (a leader kill finds its own)


def draw_schedule(seed: int, seconds: float, workers: int, kinds: tuple[str, ...] = EVERY_KIND) -> list[Fault]:
    """Each of `kinds` once, in a seeded order, then further kills and outages until `seconds`."""
    rng = random.Random(seed)
    kinds = list(kinds)
    rng.shuffle(kinds)
    schedule, at = [], rng.uniform(*_GAP_S)
    while at < seconds:
        first = bool(kinds)
        kind = kinds.pop(0) if kinds else rng.choice((KILL, KILL, LEADER_KILL, DATABASE_OUTAGE, CLEAN_STOP))
        duration = round(rng.uniform(*_DURATION_S[kind]), 1)
        if first and kind in _FIRST_DURATION_S:
            duration = _FIRST_DURATION_S[kind]
        schedule.append(Fault(kind, round(at, 1), duration, rng.randrange(workers)))
        at += duration + rng.uniform(*_GAP_S)
    return schedule


@dataclass(frozen=True, slots=True)
class InjectedFault:
    """A fault as it happened: the monotonic instants of its start and end, and what it hit."""

    kind: str
    started: float  # time.monotonic()
    ended: float
    detail: str
