"""End-to-end saturation (`make bench`): the highest rate one worker, and two workers in one consumer
group, keep up with, next to a bare baseline measured in the same run on the same broker and database.

Method: a backlog drain. Each run gets a fresh PostgreSQL database (same server) and its own topics
(4 partitions) and group on one Tansu broker. `--records` FeedGenerator records are produced first;
then the members start. The rate is counted from the first decision committed to the database to
the last (the database sampled every 0.2 s, 0.05 s for the faster baseline), so start-up and the
group join stay outside the window; an assignment beyond each member's first (a rebalance inside
the window) is reported. That rate is the ceiling; a paced feed of as many records at
`--paced-share` of it then checks whether the workers decide as fast as records come. The baseline
(`bench/baseline.py`) is the same path without routing: consume, decode (JSON and pydantic
IncidentV1), one COPY per batch, produce, commit; same batch size and window. Last, py-spy samples
one worker through a drain of its own (`bench/spy.py`).
Figures, not a test. Target (issue "Two workers, one truth"): two workers are not slower than one.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

import psycopg
from kafka import KafkaProducer
from prometheus_client.parser import text_string_to_metric_families

from bench import baseline, spy
from bench.cpu import CpuSnapshot, child_pids, cores_used, snapshot
from router.bundle import load_bundle
from router.store.database import make_engine
from router.store.migrate import upgrade
from tests.integration.support import REPO, TEST_START, XIAOSHAN, fresh_database, produce, wait_for
from workers.broker import EmbeddedBroker, free_port
from workers.feedgen import DEAD_LETTER, FeedGenerator, Sample
from workers.topics import ensure_topics

PARTITIONS = 4
# The PostgreSQL backends serving the run's database (the sampler's own left out), their pids for CPU
# accounting, how many wait on an advisory lock and how many hold one (the 并单 lock, its only user).
_BACKENDS = ("SELECT coalesce(array_agg(pid), '{}'), count(*) FILTER (WHERE wait_event_type = 'Lock' AND "
             "wait_event = 'advisory'), (SELECT count(DISTINCT l.pid) FROM pg_locks l JOIN pg_database d ON "
             "d.oid = l.database WHERE d.datname = current_database() AND l.locktype = 'advisory' AND l.granted) "
             "FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()")
_DECIDED = {"worker": "SELECT (SELECT count(*) FROM incidents) + (SELECT count(*) FROM dead_letters), "
                      "(SELECT count(*) FROM outbox WHERE published_at IS NULL)",
            "baseline": f"SELECT count(*), 0 FROM {baseline.TABLE}"}


@dataclass
class Member:
    """One consumer-group member under test, in its own process: a worker, or a baseline member."""

    process: subprocess.Popen
    log_path: Path
    web_port: int | None = None  # a worker's /metrics

    def metric(self, sample: str, **labels: str) -> float:
        """A worker's metric samples named `sample` (e.g. `..._total`, `..._count`) matching `labels`, summed."""
        text = urllib.request.urlopen(f"http://127.0.0.1:{self.web_port}/metrics", timeout=2).read().decode()
        return sum(s.value for family in text_string_to_metric_families(text) for s in family.samples
                   if s.name == sample and all(s.labels.get(k) == v for k, v in labels.items()))

    def assignments(self) -> int:
        """Partition assignments this member has received so far."""
        if self.web_port is None:
            lines = self.log_path.read_text(errors="replace").splitlines()
            return sum(line.startswith(baseline.ASSIGNED) for line in lines)
        return int(self.metric("fengqiao_rebalances_total"))

    def retries(self) -> int:
        """Intake batches retried after a transient (database) error; 0 for the baseline."""
        return 0 if self.web_port is None else int(self.metric("fengqiao_transient_retries_total", stage="intake"))

    def batches(self) -> tuple[int, float]:
        """A worker's batches so far and the seconds spent routing and committing them (its thread's time)."""
        return (int(self.metric("fengqiao_intake_batch_seconds_count")),
                self.metric("fengqiao_intake_batch_seconds_sum"))

    def stop(self) -> int | None:
        """SIGTERM, then SIGKILL after 30 s; the exit code."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        return self.process.returncode


class Sampler(threading.Thread):
    """Every `interval_s`: a CPU snapshot (`pids` and the database's backends, as `postgres`) and
    (decided, unpublished, lock waiters, lock holders) from the run's database."""

    def __init__(self, url: str, kind: str, pids: dict[str, list[int]], interval_s: float) -> None:
        super().__init__(daemon=True)
        self.conninfo = url.replace("postgresql+psycopg://", "postgresql://")
        self.query, self.pids, self.interval_s = _DECIDED[kind], pids, interval_s
        self.samples: list[tuple[CpuSnapshot, tuple[int, int, int, int]]] = []
        self.stopped = threading.Event()

    def run(self) -> None:
        with psycopg.connect(self.conninfo, autocommit=True) as conn:
            while not self.stopped.is_set():
                decided, unpublished = conn.execute(self.query).fetchone()
                backends, waiting, holding = conn.execute(_BACKENDS).fetchone()
                cpu = snapshot({**self.pids, "postgres": backends})
                self.samples.append((cpu, (int(decided), int(unpublished), int(waiting), int(holding))))
                self.stopped.wait(self.interval_s)

    def finish(self) -> None:
        self.stopped.set()
        self.join()

    def first(self, predicate: Callable[[int, int], bool], after: int = 0) -> int | None:
        """The index of the first sample (from `after` on) whose (decided, unpublished) meets `predicate`."""
        return next((i for i in range(after, len(self.samples)) if predicate(*self.samples[i][1][:2])), None)

    def decided_at(self, moment: float) -> int:
        """Records decided by the last sample taken at or before `moment`."""
        return max((d for cpu, (d, *_) in self.samples if cpu.at <= moment), default=0)


@dataclass
class Run:
    """What one drain measured: `members` processes of `kind` from their first decision to their last."""

    kind: str  # "worker" | "baseline"
    members: int
    label: str
    records: int = 0
    cores: dict[str, float] = field(default_factory=dict)
    rate: float = 0.0
    window_s: float = 0.0
    produce_s: float = 0.0
    outbox_after_s: float | None = None  # worker: last event published this long after the last decision
    lock_waiters: float = 0.0  # sessions waiting on the 并单 advisory lock, on average over the window
    lock_holders: float = 0.0  # sessions holding it, on average: with one worker, the share of its time locked
    rebalances: int = 0  # assignments inside the window
    retries: int = 0
    batches: int = 0  # worker: batches committed, all members
    batch_s: float = 0.0  # worker: seconds spent in them (routing and the transaction), all members
    exits: list[int | None] = field(default_factory=list)


class Bench:
    """The broker and the settings every run shares."""

    def __init__(self, args: argparse.Namespace, work: Path, broker: EmbeddedBroker) -> None:
        self.args, self.work, self.broker = args, work, broker
        self.broker_pids = child_pids("tansu")

    @staticmethod
    def expected(samples: Sequence[Sample], kind: str) -> int:
        """Rows the run's database holds once every record is decided: one per record for the baseline;
        for the worker one per incident id, and one per distinct invalid record (a repeat is a no-op)."""
        if kind == "baseline":
            return len(samples)
        invalid = {s.value for s in samples if s.expected.outcome == DEAD_LETTER}
        return sum(s.expected.outcome != DEAD_LETTER for s in samples) + len(invalid)

    def prepare(self, kind: str, url: str, prefix: str) -> None:
        """Schema and input topic, before any member starts (so members never race to create them)."""
        if kind == "worker":
            engine = make_engine(url)
            upgrade(engine)
            engine.dispose()
        else:
            baseline.create_table(url.replace("postgresql+psycopg://", "postgresql://"))
        ensure_topics(self.broker.bootstrap, [f"{prefix}incidents.v1"], PARTITIONS, 1)

    def launch(self, kind: str, n: int, url: str, prefix: str) -> list[Member]:
        """Start `n` members of one group on `prefix`'s topics."""
        members = []
        for i in range(n):
            log = self.work / f"{prefix}{kind}-{i}.log"
            port = None
            if kind == "worker":
                port = free_port()
                env = {**os.environ, "FENGQIAO_BOOTSTRAP_SERVERS": self.broker.bootstrap,
                       "FENGQIAO_DATABASE_URL": url, "FENGQIAO_TOPIC_PREFIX": prefix,
                       "FENGQIAO_GROUP_ID": f"{prefix}router", "FENGQIAO_TOPIC_PARTITIONS": str(PARTITIONS),
                       "FENGQIAO_DATA_DIR": str(self.work / f"{prefix}data-{i}"), "FENGQIAO_WEB_PORT": str(port),
                       "FENGQIAO_BATCH_SIZE": str(self.args.batch_size), "FENGQIAO_JURISDICTION": str(XIAOSHAN),
                       "FENGQIAO_LOG_LEVEL": self.args.log_level}
                command = [sys.executable, "-m", "workers", "worker"]
            else:
                env = dict(os.environ)
                command = [sys.executable, "-m", "bench.baseline", "--bootstrap", self.broker.bootstrap,
                           "--topic", f"{prefix}incidents.v1", "--output-topic", f"{prefix}bare.v1",
                           "--group", f"{prefix}bare", "--batch-size", str(self.args.batch_size),
                           "--conninfo", url.replace("postgresql+psycopg://", "postgresql://")]
            process = subprocess.Popen(command, env=env, cwd=REPO, stdout=log.open("wb"), stderr=subprocess.STDOUT)
            members.append(Member(process, log, port))
        return members

    @staticmethod
    def settle(members: list[Member]) -> None:
        """Wait until every member holds partitions: the generation that gave the last one its first
        assignment has them all."""

        def joined() -> bool:
            for m in members:
                if m.process.poll() is not None:
                    raise SystemExit(f"a member exited with {m.process.returncode}:\n"
                                     f"{m.log_path.read_text(errors='replace')[-3000:]}")
            return all(m.assignments() >= 1 for m in members)

        wait_for(joined, 120, f"{len(members)} member(s) to join their group", interval_s=0.2)

    def drain(self, kind: str, n: int, samples: Sequence[Sample], label: str, profile: Path | None = None) -> Run:
        """Produce `samples`, start `n` members, and time them from their first decision to their last."""
        prefix = f"sat{uuid.uuid4().hex[:6]}."
        expected = self.expected(samples, kind)
        run = Run(kind, n, label, expected)
        with fresh_database("fengqiao_sat") as url:
            self.prepare(kind, url, prefix)
            started = time.monotonic()
            produce(self.broker.bootstrap, f"{prefix}incidents.v1", [(s.key, s.value) for s in samples])
            run.produce_s = time.monotonic() - started
            members = self.launch(kind, n, url, prefix)
            pids = {"members": [m.process.pid for m in members], "tansu": self.broker_pids, "bench": [os.getpid()],
                    "py-spy": []}
            sampler = Sampler(url, kind, pids, 0.2 if kind == "worker" else 0.05)
            sampler.start()
            recording = None
            try:
                self.settle(members)
                if profile:  # from the moment it holds partitions: start-up and bundle loading are not the work
                    recording = spy.Recording(members[0].process.pid, profile).start()
                    pids["py-spy"].append(recording.pid)
                wait_for(lambda: sampler.first(lambda d, u: d >= expected and u == 0) is not None, 600,
                         f"{kind} to decide {expected:,} records and publish their events", interval_s=0.2)
                if kind == "worker":
                    run.retries = sum(m.retries() for m in members)
                    run.batches, run.batch_s = _batches(members)
                run.rebalances = sum(m.assignments() for m in members) - n
            finally:
                sampler.finish()
                if recording:
                    recording.stop()
                run.exits = [m.stop() for m in members]
        first = sampler.first(lambda d, _: d > 0)
        last = sampler.first(lambda d, _: d >= expected)
        published = sampler.first(lambda d, u: d >= expected and u == 0, after=last)
        (cpu0, (decided0, *_)), (cpu1, _) = sampler.samples[first], sampler.samples[last]
        run.window_s = cpu1.at - cpu0.at
        run.rate = (expected - decided0) / run.window_s
        run.cores = cores_used(cpu0, cpu1)
        window = sampler.samples[first:last + 1]
        run.lock_waiters = sum(waiting for _, (_, _, waiting, _) in window) / len(window)
        run.lock_holders = sum(holding for _, (*_, holding) in window) / len(window)
        if kind == "worker":
            run.outbox_after_s = sampler.samples[published][0].at - cpu1.at
        return run

    def paced(self, n: int, rate: float, generator: FeedGenerator) -> str:
        """Feed `n` settled workers as many records as a drain has, at `rate`/s: do they decide as fast as
        they come? (The same count, so the database grows as large as in the drain: the 并单 candidate
        query costs more with more open orders.)"""
        samples = generator.batch(self.args.records, TEST_START + timedelta(days=1))
        seconds = len(samples) / rate
        expected = self.expected(samples, "worker")
        prefix = f"sat{uuid.uuid4().hex[:6]}."
        with fresh_database("fengqiao_sat") as url:
            self.prepare("worker", url, prefix)
            members = self.launch("worker", n, url, prefix)
            try:
                self.settle(members)
                time.sleep(1.0)
                pids = {"members": [m.process.pid for m in members], "tansu": self.broker_pids,
                        "bench": [os.getpid()]}
                sampler = Sampler(url, "worker", pids, 0.2)
                sampler.start()
                started = time.monotonic()
                sent_log = self._feed(f"{prefix}incidents.v1", samples, rate)
                feed_end = time.monotonic()
                caught = None
                while caught is None and time.monotonic() - feed_end < 60:
                    time.sleep(0.2)
                    caught = sampler.first(lambda d, _: d >= expected)
                sampler.finish()
                retries = sum(m.retries() for m in members)
                batches, batch_s = _batches(members)
            finally:
                for m in members:
                    m.stop()
        half = started + seconds / 2
        second_half = (sampler.decided_at(feed_end) - sampler.decided_at(half)) / (feed_end - half)
        lags = [(cpu.at, _sent_by(sent_log, cpu.at) - d) for cpu, (d, *_) in sampler.samples if cpu.at <= feed_end]
        most_behind = max((lag for _, lag in lags), default=0)
        behind = max(0, expected - sampler.decided_at(feed_end))
        after = sampler.samples[caught][0].at - feed_end if caught is not None else None
        in_feed = [(cpu, v) for cpu, v in sampler.samples if started <= cpu.at <= feed_end]
        cores = cores_used(in_feed[0][0], in_feed[-1][0])
        kept = second_half >= 0.97 * rate and after is not None and after <= 5
        return (f"paced, {n} worker{'s' * (n > 1)}: {len(samples):,} records at {rate:,.0f}/s for {seconds:.0f} s; "
                f"decided {second_half:,.0f}/s over its second half; at most {most_behind:,} behind, "
                f"{behind:,} at its end, " + (f"caught up {after:.1f} s later" if after is not None else
                                               "NOT caught up within 60 s")
                + f"; {batches:,} batches of {expected / batches:,.0f} records, {batch_s / batches:.3f} s each"
                f"; retries {retries}; cores: members {cores['members']:.2f}, feeder {cores['bench']:.2f}, "
                f"machine {cores['machine']:.2f} -> kept up: {'YES' if kept else 'NO'}")

    def _feed(self, topic: str, samples: Sequence[Sample], rate: float) -> list[tuple[float, int]]:
        """Send `samples` at `rate`/s in 50 ms ticks; (when, records sent by then), one per tick."""
        producer = KafkaProducer(bootstrap_servers=self.broker.bootstrap, linger_ms=20, max_request_size=2_000_000)
        sent_log: list[tuple[float, int]] = []
        sent = 0
        started = time.monotonic()
        while sent < len(samples):
            due = min(len(samples), int((time.monotonic() - started) * rate))
            for sample in samples[sent:due]:
                producer.send(topic, key=sample.key, value=sample.value)
            sent = max(sent, due)
            sent_log.append((time.monotonic(), sent))
            time.sleep(0.05)
        producer.flush()
        producer.close()
        return sent_log


def _batches(members: Sequence[Member]) -> tuple[int, float]:
    counts = [m.batches() for m in members]
    return sum(n for n, _ in counts), sum(t for _, t in counts)


def _sent_by(sent_log: list[tuple[float, int]], moment: float) -> int:
    return max((count for at, count in sent_log if at <= moment), default=0)


def _row(run: Run, base: Run | None) -> str:
    c = run.cores
    ratio = f"{run.rate / base.rate:>6.2f}x" if base else "      -"
    outbox = f"{run.outbox_after_s:>5.1f} s" if run.outbox_after_s is not None else "      -"
    busy = (f"{run.records / run.batches:>6,.0f} {run.batch_s / run.window_s / run.members:>5.0%}"
            if run.batches else f"{'-':>6} {'-':>5}")
    exits = "" if all(code in (0, -signal.SIGTERM) for code in run.exits) else f"  EXITS {run.exits}"
    return (f"{run.label:<24}{run.rate:>9,.0f}/s {run.window_s:>6.1f} s {ratio}  {c['members']:>5.2f} "
            f"{c['tansu']:>5.2f} {c['postgres']:>5.2f} {c['rest']:>5.2f} {c['machine']:>5.2f}  {outbox} "
            f"{run.lock_holders:>5.2f} {run.lock_waiters:>5.2f} {run.rebalances:>5} {run.retries:>5}  {busy}{exits}")


def _interpret(one: Run, two: Run, base1: Run, base2: Run) -> list[str]:
    """What the figures say: the scaling, per-record CPU costs, and what they predict with more cores."""
    cores = os.cpu_count() or 1
    worker_ms = one.cores["members"] / one.rate * 1000
    support_ms = (one.cores["tansu"] + one.cores["postgres"]) / one.rate * 1000
    bound = cores / (worker_ms + support_ms) * 1000
    verdict = "NOT slower" if two.rate >= one.rate else "SLOWER"
    lines = [
        f"two workers / one worker  {two.rate / one.rate:.2f}x  (baseline two/one {base2.rate / base1.rate:.2f}x): "
        f"two workers are {verdict} than one",
        f"one record costs {worker_ms:.2f} ms of worker CPU and {support_ms:.2f} ms of broker + PostgreSQL CPU "
        f"(one-worker drain): at that cost {cores} cores carry roughly {bound:,.0f}/s; "
        f"two workers reached {two.rate:,.0f}/s with {two.cores['machine']:.2f} of {cores} cores busy.",
    ]
    if one.lock_holders > 0.05:
        lines.append(f"one worker holds the 并单 lock {one.lock_holders:.0%} of its time (reading the open orders "
                     f"to its commit); with two, {two.lock_holders:.2f} sessions held and {two.lock_waiters:.2f} "
                     f"waited on average: batches sharing a (town, matter type) wait for each other, so with more "
                     f"workers this section, not the cores, sets the ceiling — ~{one.rate / one.lock_holders:,.0f}/s "
                     f"if it ran strictly one at a time (one-worker rate / share held), more as batches overlap less.")
    if one.cores["members"] >= 0.8:
        lines.append(f"one worker is bound by its own core ({one.cores['members']:.2f} busy, one process, one GIL): "
                     f"on a larger machine, with a core per worker and ~{support_ms / worker_ms:.1f} core per worker "
                     f"for broker and PostgreSQL, k workers would approach k x {one.rate:,.0f}/s but for the 并单 "
                     f"lock's ceiling above, and PostgreSQL's.")
    else:
        lines.append(f"one worker kept only {one.cores['members']:.2f} core busy: it also waits (database, broker, "
                     f"batch window), so more cores alone would raise one worker's rate little.")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--records", type=int, default=20_000, help="backlog size of each drain")
    parser.add_argument("--batch-size", type=int, default=500, help="worker and baseline batch (FENGQIAO_BATCH_SIZE)")
    parser.add_argument("--log-level", default="INFO", help="the workers' FENGQIAO_LOG_LEVEL (default: the product's)")
    parser.add_argument("--paced-share", type=float, default=0.9, help="paced feed as a share of the drain rate")
    parser.add_argument("--paced", action=argparse.BooleanOptionalAction, default=True,
                        help="after the drains, feed --records at --paced-share of each drain rate")
    parser.add_argument("--profile-records", type=int, default=10_000, help="0: no py-spy profile")
    args = parser.parse_args()

    generator = FeedGenerator(load_bundle(XIAOSHAN), seed=5, invalid_share=0.01, id_prefix="SAT")
    samples = generator.batch(args.records, TEST_START)
    work = Path(tempfile.mkdtemp(prefix="fengqiao-saturation-"))
    broker = EmbeddedBroker(log_path=work / "tansu.log").start()
    try:
        bench = Bench(args, work, broker)
        before = snapshot({})
        time.sleep(2.0)
        background = cores_used(before, snapshot({}))["machine"]
        print(f"saturation: backlog drains of {len(samples):,} FeedGenerator records (1 % invalid) on {PARTITIONS} "
              f"partitions, batch {args.batch_size} / 0.2 s, session 6 s, worker log level {args.log_level}; one Tansu "
              f"broker, one PostgreSQL server (a fresh database per run); {os.cpu_count()} cores, "
              f"{background:.2f} of them busy before the runs" + (" (NOT IDLE: figures disturbed)" if background > 0.2
                                                                 else ""), flush=True)
        print(f"{'':<24}{'rate':>11} {'window':>8} {'vs base':>7}  cores: members tansu    pg  rest machine  "
              f"outbox lockh lockw rebal retries  batch intake")
        runs = {}
        for key, kind, n, label in (("base1", "baseline", 1, "baseline, 1 member"),
                                    ("base2", "baseline", 2, "baseline, 2 members"),
                                    ("one", "worker", 1, "fengqiao, 1 worker"),
                                    ("two", "worker", 2, "fengqiao, 2 workers")):
            runs[key] = bench.drain(kind, n, samples, label)
            base = runs["base1" if n == 1 else "base2"] if kind == "worker" else None
            print(_row(runs[key], base), flush=True)
        print(f"  rate: records decided per second from the first decision to the last (each backlog was produced "
              f"beforehand, in {runs['one'].produce_s:.1f} s); vs base: the same-run baseline with as many members\n"
              "  cores: busy on average in that window; pg: the run's PostgreSQL backends; rest: all else on the "
              "machine (the bench's sampler, PostgreSQL's own processes, anything not ours)\n"
              "  outbox: last event published after the last decision; lockh, lockw: sessions holding, waiting on "
              "the 并单 advisory lock, on average; rebal: assignments inside the window\n"
              "  batch: mean records per batch; intake: share of each worker's time spent routing and committing "
              "batches (the rest: Faust's per-event work, the relay, waiting)")
        for line in _interpret(runs["one"], runs["two"], runs["base1"], runs["base2"]):
            print(line, flush=True)
        if (others := max(run.cores["rest"] for run in runs.values())) > 0.3:
            print(f"WARNING: up to {others:.2f} core went to other work on this machine during the drains (rest): "
                  f"the figures are disturbed; run again on a quiet machine", flush=True)
        if args.paced:
            for n, key in ((1, "one"), (2, "two")):
                print(bench.paced(n, runs[key].rate * args.paced_share, generator), flush=True)
        if args.profile_records:
            profiled = bench.drain("worker", 1, samples[:args.profile_records], "profiled", profile=work / "w.spy")
            print(f"where one worker's time goes: py-spy at 100 Hz through a drain of {args.profile_records:,} "
                  f"({profiled.rate:,.0f}/s under the profiler, which took {profiled.cores['py-spy']:.2f} core)")
            for line in spy.report(spy.summarise(work / "w.spy")):
                print(line)
    finally:
        broker.stop()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
