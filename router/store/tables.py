"""Table definitions: the system of record for routed incidents, work orders and the outbox."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    DateTime,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
)

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_name)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "pk": "pk_%(table_name)s",
    }
)

# SQLite only auto-increments an INTEGER PRIMARY KEY.
_SERIAL = BigInteger().with_variant(Integer(), "sqlite")
_TS = DateTime(timezone=True)

incidents = Table(
    "incidents",
    metadata,
    Column("incident_id", String(64), primary_key=True, comment="The feed's source_id (警情编号)."),
    Column("source_system", String(32), nullable=False),
    Column("received_at", _TS, nullable=False),
    Column("outcome", String(16), nullable=False, comment="police | work_order | review"),
    Column("verdict", String(16), nullable=False),
    Column("matter_type", String(32)),
    Column("town_code", String(12)),
    Column("centre_code", String(32)),
    Column("bundle_version", String(64), nullable=False),
    Column("decision", JSON, nullable=False),
    Column("record", JSON, nullable=False, comment="The incident as received; holds personal data."),
    Column("routed_at", _TS, nullable=False),
)

work_orders = Table(
    "work_orders",
    metadata,
    Column("order_id", String(32), primary_key=True, comment="工单编号"),
    Column("incident_id", String(64), nullable=False, unique=True),
    Column("town_code", String(12), nullable=False, index=True),
    Column("centre_code", String(32), nullable=False, index=True),
    Column("matter_type", String(32), nullable=False),
    Column("priority", String(8), nullable=False),
    Column("state", String(24), nullable=False, comment="dispatched (待签收) on opening"),
    Column("summary", Text, nullable=False),
    Column("address", Text, nullable=False),
    Column("opened_at", _TS, nullable=False),
)

review_items = Table(
    "review_items",
    metadata,
    Column("review_id", String(32), primary_key=True),
    Column("incident_id", String(64), nullable=False, unique=True),
    Column("centre_code", String(32), nullable=False),
    Column("reason", String(32), nullable=False),
    Column("candidates", JSON, nullable=False),
    Column("state", String(16), nullable=False, comment="open until a dispatcher decides"),
    Column("queued_at", _TS, nullable=False),
)

dead_letters = Table(
    "dead_letters",
    metadata,
    Column("fingerprint", String(64), primary_key=True, comment="SHA-256 of the original bytes"),
    Column("reason", String(24), nullable=False),
    Column("detail", Text, nullable=False),
    Column("source_topic", String(255), nullable=False),
    Column("partition", Integer),
    Column("offset", BigInteger),
    Column("size", Integer, nullable=False),
    Column("payload", LargeBinary, nullable=False),
    Column("dead_lettered_at", _TS, nullable=False),
)

outbox = Table(
    "outbox",
    metadata,
    Column("id", _SERIAL, primary_key=True, autoincrement=True),
    Column("event_id", String(36), nullable=False, unique=True),
    Column("topic", String(255), nullable=False),
    Column("key", LargeBinary),
    Column("value", LargeBinary, nullable=False),
    Column("headers", JSON, nullable=False),
    Column("created_at", _TS, nullable=False),
    Column("claimed_until", _TS, comment="Lease of the relay that is publishing it."),
    Column("published_at", _TS),
    Index("ix_outbox_pending", "published_at", "id"),
)
