"""One table per run: what was injected and fed, what the checker found, how fast the run recovered."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence
from statistics import median

from tests.chaos.checker import CATEGORIES, Findings, GroundTruth, SentCommand
from tests.chaos.evidence import Evidence
from tests.chaos.schedule import InjectedFault
from workers.clock import MovedClock
from workers.text_table import aligned

PEAK_WINDOW_S = 5.0


def decision_times(evidence: Evidence, clock: MovedClock) -> list[float]:
    """Monotonic instants of every decision (a ledger row or a dead letter), from the run's moved clock."""
    shown = [row["routed_at"] for row in evidence.ledger.values()] + list(evidence.dead_letters.values())
    return sorted(clock.instant(at) for at in shown)


def render(seed: int, findings: Findings, evidence: Evidence, truth: GroundTruth, faults: Sequence[InjectedFault],
           sent: Sequence[SentCommand], clock: MovedClock) -> str:
    times = decision_times(evidence, clock)
    kinds = Counter(f.kind for f in faults)
    fired = sum(1 for t in evidence.timers if t["status"] == "fired")
    rows = [
        ("seed", str(seed)),
        ("faults injected", f"{len(faults)} (" + ", ".join(f"{k} {n}" for k, n in sorted(kinds.items())) + ")"),
        ("fed", f"{len(truth.incidents)} incidents + {len(truth.dead_letters)} invalid records"),
        ("decided", f"{len(evidence.ledger)} ledger rows + {len(evidence.dead_letters)} dead letters, "
                    f"{len(evidence.orders)} orders, {sum(o['reports'] - 1 for o in evidence.orders)} reports merged "
                    "into them (并单)"),
        ("commands sent", f"{len({c.key for c in sent})} idempotency keys, each sent twice"),
        ("SLA timers fired", str(fired)),
        *((category, str(findings.count(category))) for category in CATEGORIES),
        *_recovery(faults, times),
        ("throughput", _throughput(times)),
        ("verdict", "PASS" if findings.clean else "FAIL"),
    ]
    return "\n".join(aligned([("", ""), *rows])[1:])


def _recovery(faults: Sequence[InjectedFault], times: list[float]) -> list[tuple[str, str]]:
    """Per fault kind: seconds from the fault's end to the next decision, median and worst."""
    waits: dict[str, list[float]] = defaultdict(list)
    never: Counter[str] = Counter()
    for fault in faults:
        after = next((t for t in times if t >= fault.ended), None)
        if after is None:
            never[fault.kind] += 1
        else:
            waits[fault.kind].append(after - fault.ended)
    rows = []
    for kind in sorted({f.kind for f in faults}):
        found = waits[kind]
        text = f"median {median(found):.1f} s, worst {max(found):.1f} s" if found else "no decision after it"
        if found and never[kind]:
            text += f", {never[kind]} without a decision after"
        rows.append((f"recovery: {kind}", text))
    return rows


def _throughput(times: list[float]) -> str:
    if len(times) < 2:
        return "n/a"
    span = (times[-1] - times[0]) or 1.0
    peak, start = 0, 0
    for end, at in enumerate(times):
        while at - times[start] > PEAK_WINDOW_S:
            start += 1
        peak = max(peak, end - start + 1)
    return f"{len(times) / span:.1f} decisions/s over the run, peak {peak / PEAK_WINDOW_S:.0f}/s"
