"""Work-order commands (签收, 反馈, 退单, 改派, 延期 ...): from town systems and from the HTTP API alike.

Each command is applied in its own transaction: the order row is locked, the state machine
decides, and the order, its clocks, its holding segments, the audit row and the outbox
events change together. A repeated idempotency key is a no-op; an illegal command changes
nothing and is answered with a `workorder.command_rejected` event naming the reason.

A command from Kafka runs as the integration account that sent it (`router/command_senders.py`),
never as the actor its payload names: a record no account stands behind is dead-lettered
(`unauthenticated`) and answered, and one whose payload names another actor is refused on the order
(`actor_mismatch`). Its idempotency key lives in the sender's own namespace, `kafka:<unit>:<key>`,
apart from the API's `api:<unit>:<key>`. Every audit row says where the command came from (`source`).
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from sqlalchemy import Connection, update

from router.command_senders import SenderIdentity, TokenSenders, Unidentified
from router.dead_letters import FeedRecord, fingerprint_of, stage_dead_letters
from router.domain.jurisdiction import Jurisdiction
from router.domain.lifecycle import (
    FINISHED,
    Accepted,
    Action,
    Actor,
    Command,
    Order,
    Role,
    State,
    decide,
)
from router.domain.notify import NotifyEvent
from router.domain.sla import Stage, breach_due, clocks_after
from router.ids import fact_id
from router.loop_events import record_fact, stage_event
from router.notifications import Notifier
from router.store import accounts, ledger, notifications, orders, photos
from router.store.tables import order_reports, work_orders
from router.wire import InvalidRecord, read_record
from schemas.command import ActorV1, WorkOrderCommandV1, WorkOrderEventV1
from schemas.deadletter import DeadLetterReason
from schemas.topics import Topics


@dataclass(frozen=True, slots=True)
class CommandOutcome:
    """What became of a command: accepted, rejected (with the reason) or a duplicate."""

    status: str  # accepted | rejected | duplicate | dead_letter
    order_id: str
    state: str | None = None
    reason: str | None = None
    code: str | None = None


KEY_LENGTH = 128  # the commands table's key column


def _claimed(wire: WorkOrderCommandV1, source: str) -> dict[str, str]:
    """What the audit keeps of where a command came from and of the sender's own claims."""
    return {"source": source, **({"claimed_at": wire.at.isoformat()} if wire.at else {})}


def _actor_v1(actor: Actor) -> ActorV1:
    return ActorV1(user_id=actor.user_id, role=actor.role.value, unit_code=actor.unit_code)


def kafka_key(unit_code: str, key: str) -> str:
    """The sender's key in its unit's Kafka namespace; one too long for the column keeps its SHA-256 instead."""
    namespaced = f"kafka:{unit_code}:{key}"
    if len(namespaced) <= KEY_LENGTH:
        return namespaced
    return f"kafka:{unit_code}:sha256:{hashlib.sha256(key.encode()).hexdigest()}"


class CommandHandler:
    def __init__(
        self,
        jurisdiction: Jurisdiction,
        transaction: Callable[[], AbstractContextManager[Connection]],
        topics: Topics,
        senders: SenderIdentity | None = None,
    ) -> None:
        if jurisdiction.loop is None:
            raise ValueError(f"jurisdiction {jurisdiction.name} has no closed-loop rules (sla.csv etc.)")
        self._j = jurisdiction
        self._loop = jurisdiction.loop
        self._transaction = transaction
        self._topics = topics
        self._notifier = Notifier(jurisdiction)
        self._senders = senders or TokenSenders()

    def handle_records(self, records: Sequence[FeedRecord], now: datetime, max_bytes: int) -> list[CommandOutcome]:
        """Commands as consumed from `workorders.commands.v1`, each run as the account that sent it;
        unreadable ones, and those no account sent, are dead-lettered once."""
        outcomes = []
        for record in records:
            try:
                wire = read_record(record.value, WorkOrderCommandV1, max_bytes)
            except InvalidRecord as error:
                outcomes.append(self._dead_letter(record, error, now))
                continue
            outcomes.append(self._from_sender(record, wire, now))
        return outcomes

    def _from_sender(self, record: FeedRecord, wire: WorkOrderCommandV1, at: datetime) -> CommandOutcome:
        """One Kafka command as its sender, identified in the command's own transaction."""
        with self._transaction() as conn:
            sender = self._senders.identify(conn, record, at)
            if isinstance(sender, Unidentified):
                outcome = self._refuse_unidentified(conn, record, wire, sender.why, at)
                _audit_delivery(conn, record, wire.action, None, outcome, at)
                return outcome
            claimed = wire.actor
            wire = wire.model_copy(update={"idempotency_key": kafka_key(sender.unit_code, wire.idempotency_key),
                                           "actor": _actor_v1(sender)})
            refusal = None
            if claimed is not None and claimed != wire.actor:
                refusal = (f"the command names actor {claimed.user_id} ({claimed.role}, {claimed.unit_code}) "
                           f"but was sent by {sender.user_id}", "actor_mismatch")
            outcome = self._run(conn, wire, sender, at, "kafka", refusal)
            _audit_delivery(conn, record, wire.action, sender, outcome, at)
            return outcome

    def _refuse_unidentified(self, conn: Connection, record: FeedRecord, wire: WorkOrderCommandV1, why: str,
                             at: datetime) -> CommandOutcome:
        """Never applied: kept as a dead letter (the audit of who tried) and answered on the events topic."""
        error = InvalidRecord(DeadLetterReason.UNAUTHENTICATED, f"no integration account sent it: {why}")
        if self._stage_dead_letter(conn, record, error, at):
            event_id = fact_id("unauthenticated", fingerprint_of(record))
            self._answer_without_order(conn, wire.model_copy(update={"actor": None}), event_id, error.detail,
                                       "unauthenticated", at, "kafka")
        return CommandOutcome("dead_letter", wire.order_id, reason=error.detail, code="unauthenticated")

    def _dead_letter(self, record: FeedRecord, error: InvalidRecord, now: datetime) -> CommandOutcome:
        with self._transaction() as conn:
            self._stage_dead_letter(conn, record, error, now)
        return CommandOutcome("dead_letter", "", reason=error.detail, code=error.reason.value)

    def _stage_dead_letter(self, conn: Connection, record: FeedRecord, error: InvalidRecord, at: datetime) -> bool:
        """Keep `record` as a dead letter; False when the same bytes are one already."""
        rows: dict[str, list[dict]] = {}
        [first] = stage_dead_letters(conn, rows, [(record, error)], self._topics.command_dead_letters, at)
        ledger.add_rows(conn, rows)
        return first

    def handle(self, wire: WorkOrderCommandV1, received_at: datetime) -> CommandOutcome:
        """Apply one command at `received_at`; raises only on database errors (retry: the idempotency key
        makes it safe).

        Deadlines are judged by Fengqiao's clock, never the sender's: a backdated `at` would win an
        extension after the deadline. The sender's `at` is kept in the audit details as `claimed_at`.
        """
        if wire.actor is None:
            raise ValueError("a command handed in directly names its actor (the API's signed-in user)")
        actor = Actor(wire.actor.user_id, Role(wire.actor.role), wire.actor.unit_code)
        with self._transaction() as conn:
            return self._run(conn, wire, actor, received_at, "api")

    def _run(self, conn: Connection, wire: WorkOrderCommandV1, actor: Actor, at: datetime, source: str,
             refusal: tuple[str, str] | None = None) -> CommandOutcome:
        """Apply `wire` as `actor` in the caller's transaction, or refuse it with `refusal` (reason, code)."""
        earlier = orders.earlier_command(conn, wire.idempotency_key, str(fact_id("command", wire.idempotency_key)))
        if earlier is not None:
            order_id, action, unit = earlier
            if order_id == wire.order_id and action in (None, wire.action) and unit in (None, actor.unit_code):
                return CommandOutcome("duplicate", wire.order_id)
            return self._reject_reused_key(conn, wire, at, source)
        row = orders.order_for_update(conn, wire.order_id)
        if row is None:
            return self._reject_unknown(conn, wire, at, source)
        order = orders.to_order(row)
        details = _claimed(wire, source)
        if refusal is not None:
            return self._reject(conn, wire, order, actor, at, *refusal, details)
        result = decide(order, self._command(conn, wire, actor, at), self._loop.lifecycle)
        if not isinstance(result, Accepted):
            r = result.rejection
            return self._reject(conn, wire, order, actor, at, r.reason, r.code.value, details)
        self._apply(conn, wire, row, order, result, at, details)
        return CommandOutcome("accepted", wire.order_id, state=result.order.state.value)

    def _command(self, conn: Connection, wire: WorkOrderCommandV1, actor: Actor, at: datetime) -> Command:
        """The core's command, with what the shell found of the targets it names (the core decides)."""
        town, merge_into = wire.target_town, wire.merge_into
        known = town is None or town in self._j.town_by_code
        merge_state = None
        if merge_into and merge_into != wire.order_id:
            target = orders.orders_by_id(conn, [merge_into]).get(merge_into)
            known = known and target is not None
            merge_state = State(target["state"]) if target is not None else None
        attached = photos.referenced(wire.attachments)
        return Command(
            action=Action(wire.action),
            actor=actor,
            at=at,
            reason_code=wire.reason_code,
            text=wire.text,
            target_town=town,
            target_centre=self._j.centre_for(town).code if town in self._j.town_by_code else None,
            target_district_run=town in self._j.town_by_code and not self._j.town_by_code[town].onboarded,
            extension=timedelta(hours=wire.extension_hours) if wire.extension_hours else None,
            merge_into=merge_into,
            satisfied=wire.satisfied,
            target_known=known,
            merge_target_state=merge_state,
            photos_known=photos.of_order(conn, wire.order_id, attached) == attached,
        )

    def _apply(self, conn: Connection, wire: WorkOrderCommandV1, row, before: Order, result: Accepted,
               at: datetime, details: dict[str, str]) -> None:
        after, transition = result.order, result.event
        policy = self._loop.sla.policy_for(row["matter_type"], row["priority"])
        clocks = clocks_after(transition.action, after, at, policy, self._loop.calendar)
        after = replace(after, report_due=clocks.report_due)
        # A clock replaced with none (签收 done) leaves its last deadline; only the running one is read.
        acknowledge_due = breach_due(clocks, Stage.ACKNOWLEDGE) or row["acknowledge_due"]
        orders.save_order(conn, after.order_id, {**orders.order_values(after, at), "acknowledge_due": acknowledge_due})
        orders.replace_timers(conn, after.order_id, [s.value for s in clocks.replace],
                              orders.timer_rows(t for timers in clocks.replace.values() for t in timers))
        if after.charged_unit != before.charged_unit:
            orders.hand_over(conn, after.order_id, after.charged_unit, at)
        if after.town_code != before.town_code:
            self._notify_new_holder(conn, wire, row, after, at)
        if after.state in FINISHED:
            orders.release(conn, after.order_id, at)
        if transition.action is Action.MERGE and transition.detail("merge_into"):
            self._merge_reports(conn, after.order_id, str(transition.detail("merge_into")))
        orders.remember_command(conn, wire.idempotency_key, after.order_id, True, at)
        record_fact(conn, self._topics, after, event_id=fact_id("command", wire.idempotency_key),
               event_type=f"workorder.{transition.action.value}", kind=transition.action.value, at=at,
               from_state=transition.from_state.value, actor=transition.actor,
               details={**dict(transition.details), **details},
               action=transition.action.value, idempotency_key=wire.idempotency_key, report_due=after.report_due,
               attachments=wire.attachments)

    def _notify_new_holder(self, conn: Connection, wire: WorkOrderCommandV1, row, after: Order, at: datetime) -> None:
        """改派, 转派: the order is new to the town it now belongs to."""
        if not self._notifier.wanted:
            return
        rows: dict[str, list[dict]] = {}
        self._notifier.stage(rows, fact_id("command", wire.idempotency_key), NotifyEvent.NEW_ORDER,
                             {**row, "town_code": after.town_code, "centre_code": after.centre_code}, at,
                             notifications.caller_names(conn, [after.order_id]).get(after.order_id, ()))
        ledger.add_rows(conn, rows)

    @staticmethod
    def _merge_reports(conn: Connection, order_id: str, into: str) -> None:
        """并单: the callers of the merged order keep their right to feedback on the surviving one."""
        moved = conn.execute(update(order_reports).where(order_reports.c.order_id == order_id)
                             .values(order_id=into)).rowcount
        conn.execute(update(work_orders).where(work_orders.c.order_id == into)
                     .values(reports=work_orders.c.reports + moved))

    def _reject_unknown(self, conn: Connection, wire: WorkOrderCommandV1, at: datetime, source: str) -> CommandOutcome:
        """No such order: nothing to audit it on, but the sender still hears why (events topic only)."""
        reason = f"no work order {wire.order_id}"
        orders.remember_command(conn, wire.idempotency_key, wire.order_id, False, at)
        self._answer_without_order(conn, wire, fact_id("command", wire.idempotency_key), reason, "unknown_order", at,
                                   source)
        return CommandOutcome("rejected", wire.order_id, reason=reason, code="unknown_order")

    def _reject_reused_key(self, conn: Connection, wire: WorkOrderCommandV1, at: datetime,
                           source: str) -> CommandOutcome:
        """A key already used for another order, action or unit: refused, never taken for a duplicate.

        The key's own event is taken, so the answer has an id of its own, derived from what was sent.
        """
        reason = f"idempotency key {wire.idempotency_key} was already used for another command"
        event_id = fact_id("reused-key", f"{wire.idempotency_key}|{wire.order_id}|{wire.action}|{wire.actor.unit_code}")
        if not ledger.known_events(conn, [str(event_id)]):
            self._answer_without_order(conn, wire, event_id, reason, "idempotency_key_reused", at, source)
        return CommandOutcome("rejected", wire.order_id, reason=reason, code="idempotency_key_reused")

    def _answer_without_order(self, conn: Connection, wire: WorkOrderCommandV1, event_id: uuid.UUID, reason: str,
                              code: str, at: datetime, source: str) -> None:
        event = WorkOrderEventV1(
            event_id=event_id, event_type="workorder.command_rejected", occurred_at=at, order_id=wire.order_id,
            town_code=None, centre_code=None, state=None, generation=None, action=wire.action, accepted=False,
            reason=reason, actor=wire.actor, idempotency_key=wire.idempotency_key,
            details={"code": code, "source": source},
        )
        rows: dict[str, list[dict]] = {}
        stage_event(rows, self._topics, event)
        ledger.add_rows(conn, rows)

    def _reject(self, conn: Connection, wire: WorkOrderCommandV1, order: Order, actor: Actor, at: datetime,
                reason: str, code: str, details: dict[str, str]) -> CommandOutcome:
        orders.remember_command(conn, wire.idempotency_key, order.order_id, False, at)
        record_fact(conn, self._topics, order, event_id=fact_id("command", wire.idempotency_key),
               event_type="workorder.command_rejected", kind=wire.action, at=at, accepted=False,
               from_state=order.state.value, actor=actor, details={"code": code, **details},
               action=wire.action, reason=reason, idempotency_key=wire.idempotency_key)
        return CommandOutcome("rejected", order.order_id, state=order.state.value, reason=reason, code=code)


_ACCESS_OUTCOME = {"accepted": "allowed", "duplicate": "allowed", "rejected": "rejected", "dead_letter": "denied"}


def _audit_delivery(conn: Connection, record: FeedRecord, action: str, sender: Actor | None, outcome: CommandOutcome,
                    at: datetime) -> None:
    """The access log's row for a command read from Kafka, as the API writes one per request: who sent it
    (none when no account did), what it asked, what became of it, and where it was read (no HTTP status)."""
    accounts.audit(conn, at=at, user_id=sender.user_id if sender else None,
                   role=sender.role.value if sender else None, unit_code=sender.unit_code if sender else None,
                   action=f"kafka.{action}"[:48], order_id=outcome.order_id[:32] or None,
                   outcome=_ACCESS_OUTCOME[outcome.status], status=0,
                   detail=" ".join(filter(None, (f"{record.topic}/{record.partition}@{record.offset}", outcome.code))),
                   source_ip=None)
