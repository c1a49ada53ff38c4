"""The default Kafka security (PLAINTEXT) through the one builder, against Tansu: topics made by the admin
client and a record sent by the producer the CLI tools use. (Tansu has no TLS or SASL: those are checked
as configuration in tests/unit/test_kafka_security.py.)"""

from __future__ import annotations

import uuid

import pytest
from kafka import KafkaProducer

from tests.integration.support import consume_all
from workers.kafka_security import client_kwargs
from workers.settings import Settings
from workers.topics import ensure_topics

pytestmark = pytest.mark.integration


def test_plaintext_clients_built_from_the_settings_reach_tansu(broker):
    s = Settings(_env_file=None, bootstrap_servers=broker.bootstrap)
    topic = f"sec-{uuid.uuid4().hex[:8]}"
    assert ensure_topics(s.kafka_servers, [topic], 1, 1, client_kwargs(s)) == [topic]
    producer = KafkaProducer(bootstrap_servers=s.kafka_servers, **client_kwargs(s))
    producer.send(topic, value=b"plain").get(timeout=30)
    producer.close()
    assert [r.value for r in consume_all(broker.bootstrap, topic)] == [b"plain"]
