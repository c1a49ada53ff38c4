"""`python -m tests.chaos --seed 1 [--seconds 120] [--size 3000] [--workers 2]`: one run per seed, one
table per run; exits non-zero when any run has an anomaly."""

from __future__ import annotations

import argparse
import json
import logging
import os
import random
import shutil
import sys
import time
from contextlib import nullcontext
from datetime import timedelta
from pathlib import Path

from sqlalchemy import func, select

from router.bundle import load_bundle
from router.store.database import make_engine
from router.store.tables import dead_letters, incidents, outbox, sla_timers
from tests.chaos.checker import Findings, GroundTruth, check
from tests.chaos.cluster import PARTITIONS, Cluster, ExternalBroker
from tests.chaos.evidence import read_evidence
from tests.chaos.faults import inject
from tests.chaos.feed import chaos_feed
from tests.chaos.schedule import BROKER_PAUSE, EVERY_KIND, draw_schedule
from tests.chaos.table import render
from tests.chaos.traffic import Traffic
from tests.integration.support import (
    REPO,
    TEST_START,
    fresh_database,
    moved_clock,
    produce,
    run_clock,
    short_sla_bundle,
    wait_for,
)
from workers.broker import EmbeddedBroker
from workers.topics import ensure_topics, topic_names

SPEED = 20  # clock seconds per real second: every timer of the short bundle falls due within 24 s
GRACE_S = 15  # real seconds the sweep may take to fire a due timer before it counts as never fired
BACKLOG_SHARE = 0.5  # of the feed, produced before any worker starts: the two-worker backlog drain
TAIL_S = 10  # feed sent after the last fault ends
SETTLE_S = 180  # longest wait, after the last fault, for every record, timer and event


def run(seed: int, seconds: float, size: int, workers: int, run_dir: Path, bootstrap: str | None = None) -> Findings:
    """One seeded run on a broker of its own (Tansu), or on the Kafka cluster at `bootstrap`."""
    shutil.rmtree(run_dir, ignore_errors=True)
    run_dir.mkdir(parents=True)
    bundle_dir = short_sla_bundle(run_dir / "bundle", acknowledge_minutes=2, report=4, report_unit="minutes",
                                  resolve=6, resolve_unit="minutes")
    bundle = load_bundle(bundle_dir)
    clock_env = moved_clock(SPEED)
    clock = run_clock(clock_env)
    feed = chaos_feed(bundle, seed, size, TEST_START - timedelta(hours=1))
    truth = GroundTruth.of(feed)
    backlog = int(len(feed) * BACKLOG_SHARE)
    schedule = draw_schedule(seed, seconds, workers,
                             EVERY_KIND if bootstrap is None else tuple(k for k in EVERY_KIND if k != BROKER_PAUSE))
    rng = random.Random(seed)

    own_broker = EmbeddedBroker(log_path=run_dir / "tansu.log") if bootstrap is None else None
    with fresh_database("chaos") as url, own_broker or nullcontext(ExternalBroker(bootstrap)) as broker:
        cluster = Cluster.create(run_dir, url, broker, workers,
                                 {"FENGQIAO_JURISDICTION": str(bundle_dir), **clock_env})
        engine = make_engine(url)
        try:
            ensure_topics(broker.bootstrap, topic_names(cluster.topics, bundle), PARTITIONS, 1)
            produce(broker.bootstrap, cluster.topics.incidents, [(s.key, s.value) for s in feed[:backlog]])
            for slot in cluster.slots:
                cluster.start(slot.index)
            cluster.wait_ready()
            cluster.start_api()
            # The feed outlasts the last fault, so the recovery from it is seen.
            span = max([seconds, *(f.at_s + f.duration_s + TAIL_S for f in schedule)])
            traffic = Traffic(broker.bootstrap, cluster.topics, engine, clock, feed[backlog:], span, seed,
                              api_url=f"http://127.0.0.1:{cluster.api_port}").start()
            began, injected = time.monotonic(), []
            for fault in schedule:
                time.sleep(max(0.0, began + fault.at_s - time.monotonic()))
                cluster.revive_the_fallen()
                injected.append(inject(fault, cluster, traffic, engine, clock, rng))
                print(f"  seed {seed}: {injected[-1].kind} ({injected[-1].detail})", flush=True)
            traffic.finish()
            _settle(engine, truth)
            cluster.revive_the_fallen()
        finally:
            cluster.shut_down()
        evidence = read_evidence(url, broker.bootstrap, cluster.topics)
        engine.dispose()
    exits = cluster.exits + [f"HTTP command {key} never answered" for key in traffic.unanswered]
    findings = check(evidence, truth, bundle.loop.merge, clock.now(), traffic.sent,
                     timedelta(seconds=GRACE_S * SPEED), exits, cluster.logs)
    print(render(seed, findings, evidence, truth, injected, traffic.sent, clock))
    for line in findings.examples():
        print(f"  {line}")
    (run_dir / "findings.json").write_text(json.dumps(findings.anomalies, ensure_ascii=False, indent=1))
    return findings


def _settle(engine, truth: GroundTruth) -> None:
    """Until every record is decided, no timer is pending and the outbox is empty; what is still
    missing after SETTLE_S is the checker's to report, not a reason to stop here."""

    def count(query) -> int:
        with engine.connect() as conn:
            return conn.scalar(query) or 0

    decided = select(func.count()).select_from(incidents)
    lettered = select(func.count()).select_from(dead_letters)
    pending = select(func.count()).select_from(sla_timers).where(sla_timers.c.status == "pending")
    unpublished = select(func.count()).select_from(outbox).where(outbox.c.published_at.is_(None))
    deadline = time.monotonic() + SETTLE_S
    for done, what in ((lambda: count(decided) + count(lettered) >= len(truth.incidents) + len(truth.dead_letters),
                        "every record decided"),
                       (lambda: count(pending) == 0, "no timer pending"),
                       (lambda: count(unpublished) == 0, "the outbox drained")):
        try:
            wait_for(done, max(1.0, deadline - time.monotonic()), what)
        except AssertionError as timeout:
            print(f"  {timeout}", flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.chaos", description=__doc__)
    parser.add_argument("--seed", type=int, nargs="+", default=[1], help="one run per seed")
    parser.add_argument("--seconds", type=float, default=120, help="length of the fault phase")
    parser.add_argument("--size", type=int, default=3000, help="generated feed records (repeats come on top)")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--run-dir", type=Path, default=REPO / "var" / "chaos", help="logs of each run")
    parser.add_argument("--bootstrap", default=os.environ.get("FENGQIAO_CHAOS_BOOTSTRAP") or None,
                        help="a real Kafka cluster instead of a Tansu of its own (no broker pause then)")
    args = parser.parse_args(argv)
    for name in ("kafka", "aiokafka", "faust"):
        logging.getLogger(name).setLevel(logging.CRITICAL)
    results = [run(seed, args.seconds, args.size, args.workers, args.run_dir / f"seed-{seed}", args.bootstrap).clean
               for seed in args.seed]
    return 0 if all(results) else 1


if __name__ == "__main__":
    sys.exit(main())
