"""structlog set-up: JSON lines (pretty on a terminal), with personal data masked.

The domain never logs. Callers must not pass caller fields anyway; the masking processor
is the second line of defence: keys that name personal data are dropped and anything
that looks like a mainland phone number is masked in every value.
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path

import structlog

from router.domain.privacy import mask_phones
from router.store.database import create_private

_PERSONAL_KEYS = {"caller", "caller_name", "caller_phone", "phone", "name_of_caller"}


def mask_personal_data(_logger: object, _method: str, event: dict) -> dict:
    for key in list(event):
        if key in _PERSONAL_KEYS:
            event[key] = "[masked]"
        elif isinstance(event[key], str):
            event[key] = mask_phones(event[key])
    return event


def configure(level: str = "INFO", *, json: bool | None = None, file: Path | None = None) -> None:
    """Configure structlog and the stdlib root logger once, at the entry point: to stderr, or as JSON
    lines appended to `file` (`make run` keeps the terminal for its banner and status line)."""
    if file:
        create_private(file)  # it holds the demo accounts' live tokens
    stream = file.open("a", encoding="utf-8", buffering=1) if file else sys.stderr
    json = not stream.isatty() if json is None else json
    renderer = structlog.processors.JSONRenderer(ensure_ascii=False) if json else structlog.dev.ConsoleRenderer()
    shared = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        mask_personal_data,
    ]
    structlog.configure(
        processors=[*shared, structlog.processors.format_exc_info, renderer],
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelName(level.upper())),
        logger_factory=structlog.PrintLoggerFactory(stream),
        cache_logger_on_first_use=True,
    )
    logging.basicConfig(level=level.upper(), stream=stream, format="%(levelname)s %(name)s %(message)s",
                        force=True)
    # Faust and aiokafka log every message at DEBUG/INFO; that costs CPU and says nothing.
    for noisy in ("aiokafka", "faust", "mode", "kafka"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
