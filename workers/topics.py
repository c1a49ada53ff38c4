"""Create the topics a deployment needs (kafka-python admin); existing ones are left alone."""

from __future__ import annotations

import contextlib
from collections.abc import Mapping

from kafka.admin import KafkaAdminClient, NewTopic
from kafka.errors import TopicAlreadyExistsError

from router.domain.jurisdiction import Jurisdiction
from schemas.topics import Topics
from workers.kafka_security import PLAINTEXT


def topic_names(topics: Topics, jurisdiction: Jurisdiction) -> list[str]:
    """The fixed topics plus one order topic per command centre, district centre included."""
    centres = {t.centre.code for t in jurisdiction.towns} | {jurisdiction.district_centre.code}
    return [*topics.fixed(), *(topics.centre_orders(code) for code in sorted(centres))]


def ensure_topics(bootstrap: str, names: list[str], partitions: int, replication: int,
                  security: Mapping[str, object] = PLAINTEXT) -> list[str]:
    """Create missing topics (connecting with `security`, from workers/kafka_security.py); returns the names created."""
    # A short bootstrap: a broker that is not up yet is reported in seconds, and the caller retries.
    admin = KafkaAdminClient(bootstrap_servers=bootstrap, client_id="fengqiao-admin", bootstrap_timeout_ms=5_000,
                             **security)
    try:
        existing = set(admin.list_topics())
        missing = [n for n in names if n not in existing]
        for name in missing:
            with contextlib.suppress(TopicAlreadyExistsError):
                admin.create_topics([NewTopic(name, partitions, replication)])
        return missing
    finally:
        admin.close()
