"""The saturation bench's bare baseline: consume → decode → one batched insert → produce, nothing else.

One member of a consumer group, run as its own process like a worker (`python -m bench.baseline
--help`). It takes up to `--batch-size` records (waiting at most `--window-s`, as the worker's
`take_events` does), decodes each one as the worker does (JSON and pydantic `IncidentV1`, through
`router.wire.read_incident`, against the bundle's unit codes), writes one row per record into
`bare_decisions` with one COPY in one transaction, produces each record's bytes to the output
topic, waits for the acks and commits the offsets. That is the worker's path with routing, the
ledger, work orders, the outbox and its relay taken out. Prints `assigned N` at every partition
assignment; runs until SIGTERM.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal

import psycopg
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRebalanceListener, TopicPartition

from router.bundle import load_bundle
from router.domain.jurisdiction import Jurisdiction
from router.wire import InvalidRecord, read_incident
from workers.feedgen import MAX_RECORD_BYTES

TABLE = "bare_decisions"
ASSIGNED = "assigned"


def create_table(conninfo: str) -> None:
    """Create the baseline's table (before its members start, so they never race to create it)."""
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute(f'CREATE TABLE {TABLE} (partition int NOT NULL, "offset" bigint NOT NULL, '
                     "incident_id text, record jsonb)")


class _Announce(ConsumerRebalanceListener):
    """Prints each assignment, so the bench knows when the group has settled."""

    async def on_partitions_revoked(self, revoked: set[TopicPartition]) -> None:
        return None

    async def on_partitions_assigned(self, assigned: set[TopicPartition]) -> None:
        print(f"{ASSIGNED} {len(assigned)}", flush=True)


async def run(args: argparse.Namespace) -> None:
    jurisdiction = load_bundle(args.jurisdiction)  # the unit codes' rule, as the worker's decoding holds them to it
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    consumer = AIOKafkaConsumer(bootstrap_servers=args.bootstrap, group_id=args.group, enable_auto_commit=False,
                                auto_offset_reset="earliest", session_timeout_ms=int(args.session_timeout_s * 1000),
                                heartbeat_interval_ms=int(args.session_timeout_s * 1000 / 3))
    consumer.subscribe([args.topic], listener=_Announce())
    producer = AIOKafkaProducer(bootstrap_servers=args.bootstrap, acks="all", linger_ms=5,
                                max_request_size=2_000_000)
    await consumer.start()
    await producer.start()
    conn = await psycopg.AsyncConnection.connect(args.conninfo)
    try:
        while not stop.is_set():
            fetched = await consumer.getmany(timeout_ms=int(args.window_s * 1000), max_records=args.batch_size)
            records = [record for partition in fetched.values() for record in partition]
            if records:
                await _handle(records, conn, producer, args.output_topic, jurisdiction)
                await consumer.commit()
    finally:
        await conn.close()
        await producer.stop()
        await consumer.stop()


async def _handle(records: list, conn: psycopg.AsyncConnection, producer: AIOKafkaProducer, output: str,
                  jurisdiction: Jurisdiction) -> None:
    """One batch: decode, one COPY in one transaction, one output record each, every ack awaited."""
    rows = []
    for record in records:
        try:
            incident = read_incident(record.value, MAX_RECORD_BYTES, jurisdiction)
            rows.append((record.partition, record.offset, incident.source_id, incident.model_dump_json(by_alias=True)))
        except InvalidRecord:
            rows.append((record.partition, record.offset, None, None))
    async with conn.transaction(), conn.cursor() as cursor, \
            cursor.copy(f'COPY {TABLE} (partition, "offset", incident_id, record) FROM STDIN') as copy:
        for row in rows:
            await copy.write_row(row)
    sent = [await producer.send(output, key=record.key, value=record.value) for record in records]
    await asyncio.gather(*sent)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--bootstrap", required=True)
    parser.add_argument("--topic", required=True)
    parser.add_argument("--output-topic", required=True)
    parser.add_argument("--group", required=True)
    parser.add_argument("--conninfo", required=True, help="libpq connection string of the database")
    parser.add_argument("--batch-size", type=int, default=500)
    parser.add_argument("--window-s", type=float, default=0.2)
    parser.add_argument("--session-timeout-s", type=float, default=6.0)
    parser.add_argument("--jurisdiction", default="jurisdictions/xiaoshan", help="the bundle directory")
    args = parser.parse_args()
    for noisy in ("aiokafka", "kafka"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    asyncio.run(run(args))


if __name__ == "__main__":
    main()
