"""What the CLI says when an ordinary mistake or an unreachable service stops a command: one or two
lines and an exit code (sysexits), never a traceback unless `--debug` is given."""

from __future__ import annotations

import errno
from dataclasses import dataclass

import httpx
from kafka.errors import KafkaError
from sqlalchemy.exc import DBAPIError

from workers.settings import SettingMissing

# sysexits.h: the caller can tell a missing file from a service that is down from a bad setting.
EX_NOINPUT, EX_UNAVAILABLE, EX_CONFIG = 66, 69, 78


@dataclass(frozen=True, slots=True)
class Failure:
    message: str
    hint: str | None
    exit_code: int


def explain(error: BaseException) -> Failure | None:
    """The failure to show for `error`, or None for an unexpected one (a bug: show its traceback)."""
    if isinstance(error, OSError) and error.errno in (errno.ENOENT, errno.EISDIR, errno.EACCES):
        return Failure(f"cannot read {error.filename}: {error.strerror}", None, EX_NOINPUT)
    if isinstance(error, SettingMissing):
        return Failure(str(error), error.hint, EX_CONFIG)
    if isinstance(error, httpx.TransportError):
        where = error.request.url.copy_with(path="/", query=None) if _has_request(error) else "the API"
        return Failure(f"cannot reach the API at {where}: {_first_line(error)}",
                       "start it with `fengqiao api` (or `make run`), or point --api at it", EX_UNAVAILABLE)
    if isinstance(error, KafkaError):
        return Failure(f"cannot reach the Kafka broker: {_first_line(error)}",
                       "check FENGQIAO_BOOTSTRAP_SERVERS, or start `make run` for the embedded broker", EX_UNAVAILABLE)
    if isinstance(error, DBAPIError):
        reason = _first_line(error.orig or error)
        if "no such table" in reason or "does not exist" in reason:
            return Failure(f"the database has no Fengqiao schema yet ({reason})",
                           "run `fengqiao db upgrade`, or start the worker once", EX_UNAVAILABLE)
        return Failure(f"cannot use the database: {reason}", "check FENGQIAO_DATABASE_URL and that it is running",
                       EX_UNAVAILABLE)
    return None


def _has_request(error: httpx.TransportError) -> bool:
    try:
        error.request  # noqa: B018 - raises RuntimeError when the error was raised without one
    except RuntimeError:
        return False
    return True


def _first_line(error: BaseException) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__
