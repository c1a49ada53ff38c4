"""Table definitions: the system of record for routed incidents, work orders and the outbox."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Date,
    DateTime,
    Float,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    TypeDecorator,
    UniqueConstraint,
    text,
)

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_name)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "pk": "pk_%(table_name)s",
    }
)



class UtcDateTime(TypeDecorator):
    """Aware datetimes in, aware UTC datetimes out, on every dialect.

    SQLite keeps no offset: without this, a +08:00 time would come back eight hours off, and
    the sweep's `due_at <= now` would compare local with UTC text.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: object) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r}: every stored time needs its zone")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: object) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


# SQLite only auto-increments an INTEGER PRIMARY KEY.
_SERIAL = BigInteger().with_variant(Integer(), "sqlite")
_TS = UtcDateTime()

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
    Column("order_id", String(32), comment="the work order it opened or was merged into (并单)"),
    Column("bundle_version", String(64), nullable=False),
    Column("decision", JSON, nullable=False),
    Column("record", JSON, nullable=False, comment="The incident as received; holds personal data."),
    Column("routed_at", _TS, nullable=False),
    Index("ix_incidents_received_at", "received_at", "town_code"),
    Index("ix_incidents_order_id", "order_id"),
)

work_orders = Table(
    "work_orders",
    metadata,
    Column("order_id", String(32), primary_key=True, comment="工单编号"),
    Column("incident_id", String(64), nullable=False, unique=True),
    Column("town_code", String(12), nullable=False, index=True),
    Column("centre_code", String(32), nullable=False, index=True),
    Column("district_run", Boolean, nullable=False, server_default=text("false"),
           comment="区中心代管: the town is not onboarded; the district centre works it, charged to it"),
    Column("matter_type", String(32), nullable=False),
    Column("priority", String(8), nullable=False),
    Column("state", String(24), nullable=False, comment="lifecycle state; dispatched (待签收) on opening"),
    Column("summary", Text, nullable=False),
    Column("address", Text, nullable=False),
    Column("opened_at", _TS, nullable=False),
    Column("generation", Integer, nullable=False, server_default="0", comment="bumped when it changes hands"),
    Column("report_due", _TS, comment="current 反馈 deadline"),
    Column("acknowledge_due", _TS, comment="current 签收 deadline (the clock running while dispatched)"),
    Column("returns", Integer, nullable=False, server_default="0", comment="退单 count"),
    Column("previous_state", String(24), comment="where reject_return / refuse_extension / unpark go back to"),
    Column("pending_extension_s", Integer, comment="延期 requested, seconds"),
    Column("village_code", String(12), comment="the gazetteer entry that placed it, for 并单"),
    Column("lon", Float),
    Column("lat", Float),
    Column("reports", Integer, nullable=False, server_default="1", comment="incidents merged into it, itself included"),
    Column("received_at", _TS, comment="when its first report reached the 110 centre (并单 window)"),
    Column("updated_at", _TS),
    Index("ix_work_orders_matter", "town_code", "matter_type", "received_at"),
    Index("ix_work_orders_village", "town_code", "village_code"),
)

order_events = Table(
    "order_events",
    metadata,
    Column("id", _SERIAL, primary_key=True, autoincrement=True),
    Column("event_id", String(36), nullable=False, unique=True),
    Column("order_id", String(32), nullable=False, index=True),
    Column("kind", String(40), nullable=False, comment="an action, rejected, or sla.<stage>.<kind>"),
    Column("accepted", Boolean, nullable=False),
    Column("from_state", String(24)),
    Column("to_state", String(24)),
    Column("generation", Integer, nullable=False),
    Column("actor_user", String(64)),
    Column("actor_role", String(32)),
    Column("actor_unit", String(32)),
    Column("at", _TS, nullable=False),
    Column("details", JSON, nullable=False),
    comment="Append-only audit of every command, accepted or rejected, and every SLA effect.",
)

sla_timers = Table(
    "sla_timers",
    metadata,
    Column("id", _SERIAL, primary_key=True, autoincrement=True),
    Column("order_id", String(32), nullable=False),
    Column("generation", Integer, nullable=False),
    Column("stage", String(16), nullable=False),
    Column("kind", String(32), nullable=False),
    Column("due_at", _TS, nullable=False),
    Column("unit_code", String(32), nullable=False, comment="the unit charged if it fires"),
    Column("status", String(12), nullable=False, comment="pending | fired | cancelled"),
    Column("fired_at", _TS),
    UniqueConstraint("order_id", "generation", "stage", "kind", "due_at", name="uq_sla_timers_effect"),
    # The sweep's hot path: a small partial index over pending timers only.
    Index("ix_sla_timers_pending_due", "due_at", postgresql_where=text("status = 'pending'"),
          sqlite_where=text("status = 'pending'")),
    Index("ix_sla_timers_order", "order_id", "status"),
)

commands = Table(
    "commands",
    metadata,
    Column("idempotency_key", String(128), primary_key=True),
    Column("order_id", String(32), nullable=False),
    Column("accepted", Boolean, nullable=False),
    Column("at", _TS, nullable=False),
)

holdings = Table(
    "holdings",
    metadata,
    Column("id", _SERIAL, primary_key=True, autoincrement=True),
    Column("order_id", String(32), nullable=False, index=True),
    Column("unit_code", String(32), nullable=False),
    Column("from_at", _TS, nullable=False),
    Column("to_at", _TS),
    Index("ix_holdings_from_at", "from_at", "unit_code"),
    comment="Who held an order when: delays are charged segment by segment.",
)

order_reports = Table(
    "order_reports",
    metadata,
    Column("incident_id", String(64), primary_key=True),
    Column("order_id", String(32), nullable=False, index=True),
    Column("caller", JSON, comment="Personal data: for the callback (回访) only."),
    Column("received_at", _TS, nullable=False),
    Column("attached_at", _TS, nullable=False),
    comment="Every incident behind an order (并单): each caller keeps the right to feedback.",
)

key_disputes = Table(
    "key_disputes",
    metadata,
    Column("order_id", String(32), primary_key=True),
    Column("town_code", String(12), nullable=False, index=True),
    Column("matter_type", String(32), nullable=False),
    Column("reports", Integer, nullable=False),
    Column("flagged_at", _TS, nullable=False),
    Column("resolution_due", _TS, nullable=False),
    Column("responsible_leader", String(64)),
    Column("responsible_unit", String(64)),
    Column("responsible_person", String(64)),
    comment="重点矛盾纠纷: recurring disputes with a responsible leader, unit, person and deadline.",
)

hotspot_campaigns = Table(
    "hotspot_campaigns",
    metadata,
    Column("place", String(200), primary_key=True, comment="router.domain.hotspots.place_key"),
    Column("matter_type", String(32), primary_key=True),
    Column("town_code", String(12), nullable=False),
    Column("responsible_unit", String(64), nullable=False),
    Column("review_on", Date, nullable=False),
    Column("note", Text),
    Column("started_at", _TS, nullable=False),
    Column("started_by", String(64), nullable=False),
    comment="专项整治: a high-incidence area the district put under targeted work, and who answers for it.",
)

dispute_listings = Table(
    "dispute_listings",
    metadata,
    Column("month", String(7), primary_key=True, comment="YYYY-MM of the list"),
    Column("order_id", String(32), primary_key=True),
    Column("town_code", String(12), nullable=False, index=True),
    Column("carried_over", Boolean, nullable=False, comment="on the previous month's list, unresolved"),
    Column("responsible_leader", String(64)),
    Column("responsible_unit", String(64)),
    Column("responsible_person", String(64)),
    Column("resolution_due", _TS, nullable=False),
    Column("issued_at", _TS, nullable=False),
    Column("issued_by", String(64), nullable=False),
    comment="重点矛盾纠纷清单: the disputes the district issued for a month, each with 包案 assignments.",
)

review_items = Table(
    "review_items",
    metadata,
    Column("review_id", String(32), primary_key=True),
    Column("incident_id", String(64), nullable=False, unique=True),
    Column("centre_code", String(32), nullable=False),
    Column("reason", String(32), nullable=False),
    Column("candidates", JSON, nullable=False),
    Column("state", String(16), nullable=False, comment="open | placed | merged | police (router.review_desk)"),
    Column("queued_at", _TS, nullable=False),
    Column("decided_at", _TS),
    Column("decided_by", String(64), comment="the dispatcher's login"),
    Column("town_code", String(12), comment="the town it was placed in (placed, merged)"),
    Column("order_id", String(32), comment="the order it opened or was merged into"),
    Column("note", Text),
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
    Column("redriven_at", _TS, comment="sent back to its topic; cleared if it is dead-lettered again"),
    Column("redriven_by", String(64)),
    Column("redrives", Integer, nullable=False, server_default="0"),
)

outbox = Table(
    "outbox",
    metadata,
    Column("id", _SERIAL, primary_key=True, autoincrement=True),
    Column("event_id", String(36), nullable=False, unique=True),
    Column("topic", String(255), nullable=False),
    Column("copy_topic", String(255), comment="also published here: a command centre's own topic"),
    Column("key", LargeBinary),
    Column("value", LargeBinary, nullable=False),
    Column("copy_value", LargeBinary, comment="the record for copy_topic when it differs from value"),
    Column("headers", JSON, nullable=False),
    Column("created_at", _TS, nullable=False),
    Column("claimed_until", _TS, comment="Lease of the relay that is publishing it."),
    Column("published_at", _TS),
    Index("ix_outbox_pending", "published_at", "id"),
)

notifications = Table(
    "notifications",
    metadata,
    Column("id", _SERIAL, primary_key=True, autoincrement=True),
    Column("notification_id", String(36), nullable=False, unique=True,
           comment="The Idempotency-Key: one per fact and webhook, repeated on every retry."),
    Column("webhook", String(80), nullable=False, comment="unit_code/name of its notify.csv row"),
    Column("event", String(16), nullable=False, comment="new_order | warning | breach | escalation"),
    Column("order_id", String(32), nullable=False),
    Column("body", LargeBinary, nullable=False, comment="notification.v1 JSON as signed and sent; callers masked"),
    Column("created_at", _TS, nullable=False),
    Column("status", String(12), nullable=False, comment="pending | delivered | given_up"),
    Column("attempts", Integer, nullable=False),
    Column("next_attempt_at", _TS, nullable=False),
    Column("claimed_until", _TS, comment="Lease of the worker delivering it."),
    Column("settled_at", _TS, comment="When it was delivered or given up."),
    Column("last_error", String(200), comment="HTTP status or error class of the last failed attempt"),
    # The delivery loop's hot path: pending rows by when they are due.
    Index("ix_notifications_pending_due", "next_attempt_at", postgresql_where=text("status = 'pending'"),
          sqlite_where=text("status = 'pending'")),
    comment="Webhook notifications, written with the fact they tell; delivered at least once.",
)

users = Table(
    "users",
    metadata,
    Column("user_id", String(64), primary_key=True, comment="login name"),
    Column("display_name", String(64), nullable=False),
    Column("role", String(32), nullable=False, comment="a lifecycle Role"),
    Column("unit_code", String(32), nullable=False, comment="its town code, or the district centre's code"),
    Column("password_hash", String(255), comment="argon2id; none for integration accounts (tokens only)"),
    # The lockout's, unused since 0008 (login back-off lives in the API's memory): kept one release so that
    # replicas of the previous one still run during a rolling upgrade (docs/deploy.md), dropped in the next.
    Column("failed_logins", Integer, nullable=False, server_default="0"),
    Column("locked_until", _TS),
    Column("disabled", Boolean, nullable=False, server_default=text("false")),
    Column("created_at", _TS, nullable=False),
    Column("login_name", String(64), nullable=False, unique=True,
           comment="user_id normalised (NFKC, case-folded, trimmed): one account per form"),
    Column("password_change_required", Boolean, nullable=False, server_default=text("false"),
           comment="set by a reset: the account may only change its password"),
)

login_sessions = Table(
    "login_sessions",
    metadata,
    Column("session_hash", String(64), primary_key=True, comment="SHA-256 of the cookie: a leaked table opens nothing"),
    Column("user_id", String(64), nullable=False, index=True),
    Column("created_at", _TS, nullable=False),
    Column("expires_at", _TS, nullable=False),
    Column("idle_until", _TS, comment="ends unless used by then; each use moves it on (none: set at next use)"),
)

api_tokens = Table(
    "api_tokens",
    metadata,
    Column("token_hash", String(64), primary_key=True, comment="SHA-256 of the bearer token"),
    Column("user_id", String(64), nullable=False, index=True),
    Column("name", String(64), nullable=False),
    Column("created_at", _TS, nullable=False),
    Column("revoked_at", _TS),
    Column("expires_at", _TS, nullable=False),
)

access_log = Table(
    "access_log",
    metadata,
    Column("id", _SERIAL, primary_key=True, autoincrement=True),
    Column("at", _TS, nullable=False),
    Column("user_id", String(64), comment="none when nobody was authenticated"),
    Column("role", String(32)),
    Column("unit_code", String(32)),
    Column("action", String(48), nullable=False, comment="login, orders.list, orders.acknowledge ..."),
    Column("order_id", String(32)),
    Column("outcome", String(16), nullable=False, comment="allowed | denied | rejected | failed"),
    Column("status", Integer, nullable=False, comment="the HTTP status answered"),
    Column("detail", Text),
    Column("source_ip", String(45), comment="the client's address as the API saw it; none for the CLI"),
    Column("prev_hash", String(64), comment="row_hash of the row before; none for the first row"),
    Column("row_hash", String(64), nullable=False, comment="SHA-256 of prev_hash and this row's content"),
    Index("ix_access_log_at", "at"),
    comment="Append-only audit of every API action and every denial (越权 attempts included).",
)

audit_chain_heads = Table(
    "audit_chain_heads",
    metadata,
    Column("chain", String(32), primary_key=True, comment="the chained table: access_log"),
    Column("last_id", _SERIAL, comment="id of the chain's last row; none while it is empty"),
    Column("row_hash", String(64), comment="row_hash of that row"),
    comment="The head of each audit hash chain: locked by every append, so rows cut from the end show.",
)

photos = Table(
    "photos",
    metadata,
    Column("photo_id", String(32), primary_key=True, comment="PH + 16 random hex digits: not guessable"),
    Column("order_id", String(32), nullable=False, index=True),
    Column("content_type", String(16), nullable=False, comment="image/jpeg | image/png, from the content"),
    Column("size", Integer, nullable=False, comment="bytes as stored, metadata stripped"),
    Column("width", Integer, nullable=False),
    Column("height", Integer, nullable=False),
    Column("sha256", String(64), nullable=False, comment="of the stored bytes"),
    Column("uploaded_by", String(64), nullable=False),
    Column("uploaded_at", _TS, nullable=False),
    comment="现场照片: evidence photos of an order; the files are in the photo store (files or S3).",
)
