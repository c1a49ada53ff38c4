"""`fengqiao replay` publishes a file to the feed topic on a real broker."""

from __future__ import annotations

import json
import uuid

import pytest

from tests.integration.support import consume_all
from workers.replay import replay

pytestmark = pytest.mark.integration


def test_replay_publishes_every_line_keyed_and_unchanged(broker, tmp_path):
    topic = f"t{uuid.uuid4().hex[:8]}.incidents.v1"
    lines = [json.dumps({"source_id": f"R{i}", "summary": "路灯坏了"}, ensure_ascii=False).encode()
             for i in range(50)] + [b"{not json"]
    path = tmp_path / "feed.jsonl"
    path.write_bytes(b"\n".join(lines) + b"\n")

    sent = replay(path, broker.bootstrap, topic, rate=500, progress=False)

    records = consume_all(broker.bootstrap, topic, idle_s=1.0)
    assert sent == 51
    assert sorted(r.value for r in records) == sorted(lines)
    assert {r.key for r in records} == {f"R{i}".encode() for i in range(50)} | {None}
