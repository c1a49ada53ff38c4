"""The run's feed: the generator's records (invalid ones included) and, as a town really sees them,
repeated reports of the same matter from other callers — what 并单 must merge into one order."""

from __future__ import annotations

import json
import random
from datetime import datetime, timedelta

from router.domain.jurisdiction import Jurisdiction
from workers.feedgen import WORK_ORDER, FeedGenerator, Sample


def chaos_feed(jurisdiction: Jurisdiction, seed: int, size: int, start: datetime,
               repeat_share: float = 0.2) -> list[Sample]:
    """`size` generated records received a second apart from `start`, then repeats of `repeat_share` of
    the work orders among them, each received minutes after its first report and shuffled in."""
    rng = random.Random(seed)
    samples = FeedGenerator(jurisdiction, seed=seed, id_prefix=f"CH{seed}").batch(size, start)
    orders = [s for s in samples if s.expected.outcome == WORK_ORDER]
    repeats = [_repeat(s, n, timedelta(minutes=rng.uniform(1, 90)))
               for n, s in enumerate(rng.sample(orders, int(len(orders) * repeat_share)))]
    feed = samples + repeats
    rng.shuffle(feed)
    return feed


def _repeat(first: Sample, n: int, later: timedelta) -> Sample:
    """Another caller's report of `first`'s matter: same words and place, its own id and time."""
    record = json.loads(first.value)
    source_id = f"{first.source_id}-R{n}"
    record["source_id"] = source_id
    record["received_at"] = (datetime.fromisoformat(record["received_at"]) + later).isoformat()
    return Sample(source_id.encode(), json.dumps(record, ensure_ascii=False).encode(), source_id, first.expected)
