"""Identifiers derived from what happened, so a retried transaction writes the same ones.

One namespace for every event id and order/review number: a redelivered incident opens the
same order (`WO…`) and repeats the same event ids, which consumers de-duplicate.
"""

from __future__ import annotations

import uuid

_NAMESPACE = uuid.UUID("6f1c2a8e-3b7d-5f00-9c1e-000000110110")


def fact_id(*parts: object) -> uuid.UUID:
    """The event id of a fact named by `parts` (e.g. "police", incident id)."""
    return uuid.uuid5(_NAMESPACE, ":".join(str(p) for p in parts))


def number(prefix: str, *parts: object) -> str:
    """A short human-readable number such as a work-order number (工单编号): prefix + 14 hex digits."""
    return prefix + fact_id(*parts).hex[:14].upper()
