"""Start-up that waits for what a process needs: a worker or API started before its database or
broker is reachable retries with back-off and one clear log line per attempt, instead of exiting.
While it waits it serves nothing, so a readiness probe says not ready."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import TypeVar

import structlog
from kafka.errors import KafkaError
from sqlalchemy import Engine
from sqlalchemy.exc import OperationalError

from router.store.migrate import upgrade
from workers.topics import ensure_topics

log = structlog.get_logger("fengqiao")

T = TypeVar("T")

FIRST_WAIT_S, LONGEST_WAIT_S = 0.5, 4.0  # a dependency back within seconds is used within seconds


def until_reachable(event: str, attempt: Callable[[], T], errors: tuple[type[Exception], ...],
                    sleep: Callable[[float], None] = time.sleep, **where: str) -> T:
    """`attempt()` again after each of `errors`, waiting 0.5 s, 1 s, 2 s, then 4 s between tries;
    each failure is logged as `event` with the reason's first line and `where`."""
    wait = FIRST_WAIT_S
    while True:
        try:
            return attempt()
        except errors as error:
            cause = getattr(error, "orig", None) or error
            reason = (str(cause).strip().splitlines() or [type(cause).__name__])[0]
            log.warning(event, retry_in_s=wait, reason=reason, **where)
            sleep(wait)
            wait = min(wait * 2, LONGEST_WAIT_S)


def upgrade_when_reachable(engine: Engine) -> None:
    """Migrate the database once it answers (`database_unreachable` while it does not)."""
    until_reachable("database_unreachable", lambda: upgrade(engine), (OperationalError,),
                    database=engine.url.render_as_string(hide_password=True))


def topics_when_reachable(bootstrap: str, names: list[str], partitions: int, replication: int,
                          security: Mapping[str, object]) -> list[str]:
    """Create the missing topics once the broker answers (`broker_unreachable` while it does not)."""
    return until_reachable("broker_unreachable",
                           lambda: ensure_topics(bootstrap, names, partitions, replication, security),
                           (KafkaError,), bootstrap=bootstrap)
