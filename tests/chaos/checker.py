"""The independent checker: judges what a run left in the database and on the topics against the feed
generator's ground truth, the commands the harness sent and the run's clock.

It shares no code with the engine's decisions except the bundle's merge rule (`same_matter`), which
defines what 并单 means; everything else is counted from rows and events.
"""

from __future__ import annotations

import hashlib
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from itertools import combinations
from pathlib import Path

from router.domain.lifecycle import MERGEABLE
from router.domain.loop import MergeRules, Place, same_matter
from tests.chaos.evidence import Evidence
from tests.conftest import leaked_phone
from workers.feedgen import DEAD_LETTER, REVIEW, WORK_ORDER, Expected, Sample

LOST = "lost"
DUPLICATED = "duplicated"
DEAD_LETTERS = "dead letters"
MISROUTED = "misrouted"
MISSED_MERGES = "missed merges"
TIMERS = "timer anomalies"
COMMANDS = "command anomalies"
OUTBOX = "outbox backlog"
EXITS = "worker exits"
LEAKS = "log leaks"
CATEGORIES = (LOST, DUPLICATED, DEAD_LETTERS, MISROUTED, MISSED_MERGES, TIMERS, COMMANDS, OUTBOX, EXITS, LEAKS)

_MERGEABLE = frozenset(s.value for s in MERGEABLE)
_EXAMPLES = 5


@dataclass(frozen=True, slots=True)
class GroundTruth:
    """Where every record of the feed must end: valid incidents by id, invalid records by fingerprint."""

    incidents: Mapping[str, Expected]
    dead_letters: frozenset[str]

    @classmethod
    def of(cls, samples: Iterable[Sample]) -> GroundTruth:
        valid, invalid = {}, set()
        for sample in samples:
            if sample.expected.outcome == DEAD_LETTER:
                invalid.add(hashlib.sha256(sample.value).hexdigest())
            else:
                valid[sample.source_id] = sample.expected
        return cls(valid, frozenset(invalid))


@dataclass(frozen=True, slots=True)
class SentCommand:
    """A command the harness sent (maybe more than once), by the idempotency key the engine stores."""

    key: str
    order_id: str
    action: str


@dataclass
class Findings:
    """Anomalies by category, each a short description naming ids only (never caller data)."""

    anomalies: dict[str, list[str]] = field(default_factory=lambda: {c: [] for c in CATEGORIES})

    def add(self, category: str, what: str) -> None:
        self.anomalies[category].append(what)

    def count(self, category: str) -> int:
        return len(self.anomalies[category])

    @property
    def clean(self) -> bool:
        return not any(self.anomalies.values())

    def examples(self) -> list[str]:
        """A few descriptions of each category that has anomalies."""
        return [f"{category}: {what}" for category, found in self.anomalies.items() for what in found[:_EXAMPLES]]


def check(evidence: Evidence, truth: GroundTruth, merge: MergeRules, now: datetime,
          sent: Sequence[SentCommand] = (), grace: timedelta = timedelta(0), worker_exits: Sequence[str] = (),
          logs: Sequence[Path] = ()) -> Findings:
    """Every check over one run; `now` is the run's clock when the evidence was read, and a timer due
    more than `grace` before it must have fired."""
    findings = Findings()
    _each_incident_once(evidence, truth, findings)
    _each_dead_letter_once(evidence, truth, findings)
    _routed_as_expected(evidence, truth, findings)
    _repeats_merged(evidence, merge, findings)
    _timers_once_on_time(evidence, now - grace, findings)
    _commands_once(evidence, sent, findings)
    if evidence.unpublished:
        findings.add(OUTBOX, f"{evidence.unpublished} events never published")
    for exit_ in worker_exits:
        findings.add(EXITS, exit_)
    for log in logs:
        if log.exists() and leaked_phone(log.read_text(errors="replace")):
            findings.add(LEAKS, f"a phone number in {log}")
    return findings


def _each_incident_once(evidence: Evidence, truth: GroundTruth, findings: Findings) -> None:
    """A ledger row and exactly one outcome on the topics (police forward, order opened or merged, review)."""
    outcomes = evidence.outcomes_on_topics()
    for incident_id in sorted(truth.incidents):
        published = outcomes.get(incident_id, [])
        if incident_id not in evidence.ledger:
            findings.add(LOST, f"{incident_id}: no ledger row")
        elif not published:
            findings.add(LOST, f"{incident_id}: no outcome on any topic")
        elif len(published) > 1:
            findings.add(DUPLICATED, f"{incident_id}: {len(published)} outcome events")


def _each_dead_letter_once(evidence: Evidence, truth: GroundTruth, findings: Findings) -> None:
    on_topic = Counter(e.body.get("fingerprint") for e in evidence.dead_letter_events)
    for fingerprint in sorted(truth.dead_letters):
        if fingerprint not in evidence.dead_letters:
            findings.add(DEAD_LETTERS, f"{fingerprint[:12]}: not kept in the database")
        if on_topic[fingerprint] != 1:
            findings.add(DEAD_LETTERS, f"{fingerprint[:12]}: {on_topic[fingerprint]} dead-letter events")
    for fingerprint in sorted(set(evidence.dead_letters) - truth.dead_letters):
        findings.add(DEAD_LETTERS, f"{fingerprint[:12]}: dead-lettered, but the feed sent no such invalid record")


def _routed_as_expected(evidence: Evidence, truth: GroundTruth, findings: Findings) -> None:
    for incident_id, expected in sorted(truth.incidents.items()):
        row = evidence.ledger.get(incident_id)
        if row is None:
            continue  # lost, counted there
        got = _as_routed(row["outcome"], row["town_code"], row["centre_code"], evidence.review_reasons.get(incident_id))
        want = _as_routed(expected.outcome, expected.town_code, expected.centre_code, expected.reason)
        if got != want:
            findings.add(MISROUTED, f"{incident_id}: {got}, expected {want}")


def _as_routed(outcome: str, town_code: str | None, centre_code: str | None, reason: str | None) -> tuple:
    """What the ground truth fixes of an outcome: the town and centre of an order, the centre and reason
    of a review; a police forward is only that."""
    if outcome == WORK_ORDER:
        return outcome, town_code, centre_code
    if outcome == REVIEW:
        return outcome, centre_code, reason
    return (outcome,)


def _repeats_merged(evidence: Evidence, merge: MergeRules, findings: Findings) -> None:
    """并单: no two orders of the same matter at the same place within the window, unless the earlier
    one had stopped taking reports (reported, closed, withdrawn, merged) before the later one opened."""
    closed_at: dict[str, datetime] = {}
    for row in evidence.audit:
        if row["accepted"] and row["to_state"] not in _MERGEABLE:
            closed_at[row["order_id"]] = min(row["at"], closed_at.get(row["order_id"], row["at"]))
    by_matter: dict[tuple[str, str], list[dict]] = defaultdict(list)
    for order in evidence.orders:
        by_matter[order["town_code"], order["matter_type"]].append(order)
    for group in by_matter.values():
        for first, second in combinations(sorted(group, key=lambda o: (o["opened_at"], o["order_id"])), 2):
            still_open = first["order_id"] not in closed_at or closed_at[first["order_id"]] > second["opened_at"]
            if still_open and same_matter(_place(first), _place(second), merge):
                findings.add(MISSED_MERGES, f"{second['order_id']} (incident {second['incident_id']}) repeats "
                                            f"{first['order_id']} (incident {first['incident_id']})")


def _place(order: dict) -> Place:
    return Place(order["town_code"], order["matter_type"], order["received_at"], order["village_code"],
                 order["address"], order["lon"], order["lat"])


def _timers_once_on_time(evidence: Evidence, due_by: datetime, findings: Findings) -> None:
    """Each timer fired once (one audit row, one event), never before it was due, never when its stage
    was done before it fell due (签收 stops the 签收 clock), and none still pending long after it fell due."""
    fired = Counter((t["order_id"], t["generation"], f"sla.{t['stage']}.{t['kind']}")
                    for t in evidence.timers if t["status"] == "fired")
    effects = [row for row in evidence.audit if row["kind"].startswith("sla.")]
    audited = Counter((row["order_id"], row["generation"], row["kind"]) for row in effects)
    for key in sorted(set(fired) | set(audited)):
        if audited[key] > fired[key]:
            findings.add(TIMERS, f"{key[0]} {key[2]}: fired {audited[key]} times, {fired[key]} timer(s)")
        elif audited[key] < fired[key]:
            findings.add(TIMERS, f"{key[0]} {key[2]}: {fired[key]} timer(s) marked fired, {audited[key]} effect(s)")
    published = Counter((e.body["order_id"], e.body["generation"], e.body["stage"], e.body["sla_kind"],
                         e.body["due_at"]) for e in evidence.order_events if e.body.get("event_type") == "workorder.sla")
    for key, n in sorted(published.items()):
        if n > 1:
            findings.add(TIMERS, f"{key[0]} {key[2]}.{key[3]} due {key[4]}: {n} events")
    for timer in evidence.timers:
        if timer["status"] == "fired" and timer["fired_at"] < timer["due_at"]:
            findings.add(TIMERS, f"{timer['order_id']} {timer['stage']}.{timer['kind']}: fired "
                                 f"{(timer['due_at'] - timer['fired_at']).total_seconds():.0f} s early")
        if timer["status"] == "pending" and timer["due_at"] < due_by:
            findings.add(TIMERS, f"{timer['order_id']} {timer['stage']}.{timer['kind']}: due "
                                 f"{timer['due_at'].isoformat()}, never fired")
    acknowledged = {(row["order_id"], row["generation"]): row["at"] for row in evidence.audit
                    if row["kind"] == "acknowledge" and row["accepted"]}
    for timer in evidence.timers:
        done = acknowledged.get((timer["order_id"], timer["generation"]))
        if timer["stage"] == "acknowledge" and timer["status"] == "fired" and done is not None \
                and done < timer["due_at"]:
            findings.add(TIMERS, f"{timer['order_id']} acknowledge.{timer['kind']}: 签收 at {done.isoformat()}, "
                                 f"before it was due ({timer['due_at'].isoformat()}), yet fired at "
                                 f"{timer['fired_at'].isoformat()}")


def _commands_once(evidence: Evidence, sent: Sequence[SentCommand], findings: Findings) -> None:
    """Each command applied once however often it was sent: one stored key, one answer on the topic,
    and at most one accepted effect of each action per order."""
    answers: Counter[str] = Counter(e.body.get("idempotency_key") for e in evidence.order_events)
    for command in {c.key: c for c in sent}.values():
        if command.key not in evidence.command_keys:
            findings.add(COMMANDS, f"{command.key}: never applied")
        if answers[command.key] != 1:
            findings.add(COMMANDS, f"{command.key}: {answers[command.key]} answers on the events topic")
    actions = {c.action for c in sent}
    effects = Counter((row["order_id"], row["kind"]) for row in evidence.audit
                      if row["accepted"] and row["kind"] in actions)
    for (order_id, action), n in sorted(effects.items()):
        if n > 1:
            findings.add(COMMANDS, f"{order_id}: {action} applied {n} times")
