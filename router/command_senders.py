"""Who sent a command on `workorders.commands.v1`: the integration account behind the record, or nobody.

A command is applied only as the account that sent it, never as the actor its payload names. On a
cluster without SASL or mTLS (the embedded Tansu broker has neither) a town system proves who it is
with one of its integration tokens in the `fengqiao-token` record header, checked against the
accounts store (only the token's SHA-256 is stored). A Kafka principal from SASL or mTLS would map
to an account the same way: another `SenderIdentity`, with the command handler unchanged.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from sqlalchemy import Connection

from router.dead_letters import FeedRecord
from router.domain.credentials import TOKEN_PREFIX, secret_digest
from router.domain.lifecycle import Actor, Role
from router.store import accounts

TOKEN_HEADER = "fengqiao-token"


@dataclass(frozen=True, slots=True)
class Unidentified:
    """No account stands behind the record; `why` is for the audit and never holds the token."""

    why: str


class SenderIdentity(Protocol):
    def identify(self, conn: Connection, record: FeedRecord, now: datetime) -> Actor | Unidentified:
        """The enabled integration account that sent `record` (its credentials valid at `now`), as the actor
        its command runs as."""
        ...


class TokenSenders:
    """Senders known by an integration token in the `fengqiao-token` header."""

    def identify(self, conn: Connection, record: FeedRecord, now: datetime) -> Actor | Unidentified:
        values = [value for name, value in record.headers if name == TOKEN_HEADER]
        if not values:
            return Unidentified(f"no {TOKEN_HEADER} header")
        if len(values) > 1:
            return Unidentified(f"more than one {TOKEN_HEADER} header")
        token = values[0].decode("ascii", errors="replace")
        if not token.startswith(TOKEN_PREFIX):
            return Unidentified(f"the {TOKEN_HEADER} header holds no Fengqiao token")
        row = accounts.token_user(conn, secret_digest(token), now)
        if row is None:
            return Unidentified("unknown, revoked or expired token, or a disabled account")
        if row["role"] != Role.INTEGRATION.value:
            return Unidentified(f"account {row['user_id']} is not an integration account")
        return Actor(row["user_id"], Role.INTEGRATION, row["unit_code"])
