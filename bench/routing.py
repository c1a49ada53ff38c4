"""Offline routing rate on generated records: `make bench`.

Prints records/s on one core and per-record latency percentiles for the full path
(decode, validate, classify, resolve, decision to wire JSON), next to a baseline measured
in the same run on the same records: decoding and validating alone; and the demo feed
generator's rate in samples/s. Figures, not a test.
Target (issue: routing): >= 20,000 records/s and p99 <= 1 ms per record.
"""

from __future__ import annotations

import argparse
import gc
import statistics
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

from router.bundle import load_bundle
from router.domain.routing import Router
from router.wire import InvalidRecord, read_incident
from workers.feedgen import MAX_RECORD_BYTES, FeedGenerator
from workers.offline import route_lines

BUNDLE = Path(__file__).resolve().parent.parent / "jurisdictions" / "xiaoshan"


def _timed(outputs: Iterator[object]) -> tuple[float, list[float]]:
    """Drain a one-output-per-record stream; a record's latency is the time since the previous output."""
    latencies = []
    clock = time.perf_counter_ns
    gc.disable()
    started = previous = clock()
    for _ in outputs:
        now = clock()
        latencies.append((now - previous) / 1e6)
        previous = now
    elapsed = (clock() - started) / 1e9
    gc.enable()
    return len(latencies) / elapsed, latencies


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--records", type=int, default=100_000)
    args = parser.parse_args()

    jurisdiction = load_bundle(BUNDLE)
    router = Router(jurisdiction)
    started = time.perf_counter()
    samples = FeedGenerator(jurisdiction, seed=42).batch(args.records, datetime(2026, 1, 1, tzinfo=UTC))
    generation_rate = len(samples) / (time.perf_counter() - started)
    values = [s.value for s in samples]
    decided_at = datetime.now(UTC)

    def decode_only(values: list[bytes]) -> Iterator[object]:
        for value in values:
            try:
                yield read_incident(value, MAX_RECORD_BYTES, jurisdiction)
            except InvalidRecord as error:
                yield error

    list(route_lines(values[:1000], router, decided_at, MAX_RECORD_BYTES))  # warm automata and pydantic
    base_rate, base_lat = _timed(decode_only(values))
    rate, lat = _timed(route_lines(values, router, decided_at, MAX_RECORD_BYTES))
    q = statistics.quantiles(lat, n=1000)
    bq = statistics.quantiles(base_lat, n=1000)
    print(f"records                {len(values):>10,}")
    print(f"feed generator          {generation_rate:>10,.0f} samples/s (FeedGenerator.batch)")
    print(f"baseline: decode+validate {base_rate:>10,.0f} rec/s   p50 {bq[499]:.3f} ms   p99 {bq[989]:.3f} ms")
    print(f"fengqiao route (full path) {rate:>10,.0f} rec/s   p50 {q[499]:.3f} ms   p99 {q[989]:.3f} ms"
          f"   p99.9 {q[998]:.3f} ms   max {max(lat):.3f} ms")
    print(f"routing cost over baseline  {base_rate / rate:.2f}x")
    print(f"target: >= 20,000 rec/s {'MET' if rate >= 20_000 else 'MISSED'};"
          f" p99 <= 1 ms {'MET' if q[989] <= 1.0 else 'MISSED'}")


if __name__ == "__main__":
    main()
