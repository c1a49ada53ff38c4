"""A real Prometheus (Debian's package) scrapes a live worker: every metric an alert rule or a
dashboard panel names is in what it scraped; and the worker's log holds no caller's phone."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import time
import urllib.parse
import urllib.request
from datetime import UTC, datetime
from pathlib import Path

import pytest
import yaml

from router.bundle import load_bundle
from tests.integration.support import REPO, produce, wait_for
from workers.broker import free_port
from workers.feedgen import FeedGenerator
from workers.settings import Settings

pytestmark = pytest.mark.integration

DEPLOY = REPO / "deploy"
METRIC = re.compile(r"\b(fengqiao_[a-z0-9_]+|up)\b")
PHONE = re.compile(r"(?<!\d)1[3-9]\d{9}(?!\d)")


def referenced_metrics() -> set[str]:
    """Metric names in deploy/prometheus/alerts.yml rules and deploy/grafana dashboard panels."""
    names: set[str] = set()
    for group in yaml.safe_load((DEPLOY / "prometheus" / "alerts.yml").read_text())["groups"]:
        for rule in group["rules"]:
            names |= set(METRIC.findall(rule["expr"]))
    for path in (DEPLOY / "grafana").rglob("*.json"):
        for panel in json.loads(path.read_text())["panels"]:
            for target in panel.get("targets", []):
                names |= set(METRIC.findall(target["expr"]))
    return names


def _get(url: str) -> dict:
    with urllib.request.urlopen(url, timeout=5) as response:
        return json.loads(response.read())


@pytest.fixture
def prometheus(tmp_path: Path):
    binary = shutil.which("prometheus") or "/usr/bin/prometheus"
    if not Path(binary).exists():
        pytest.fail("prometheus is missing: `make test` installs it (apt-get install prometheus)")
    started: list[subprocess.Popen] = []

    def start(target_port: int) -> str:
        config = tmp_path / "prometheus.yml"
        config.write_text(yaml.safe_dump({
            "global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
            "rule_files": [str(DEPLOY / "prometheus" / "alerts.yml")],
            "scrape_configs": [{"job_name": "fengqiao-worker",
                                "static_configs": [{"targets": [f"127.0.0.1:{target_port}"]}]}],
        }))
        port = free_port()
        log = (tmp_path / "prometheus.log").open("ab")
        started.append(subprocess.Popen(
            [binary, f"--config.file={config}", f"--storage.tsdb.path={tmp_path / 'tsdb'}",
             f"--web.listen-address=127.0.0.1:{port}"], stdout=log, stderr=subprocess.STDOUT))
        return f"http://127.0.0.1:{port}"

    yield start
    for process in started:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def test_prometheus_scrapes_every_metric_the_rules_and_dashboards_name(broker, pg_url, make_worker, prometheus,
                                                                       tmp_path):
    generator = FeedGenerator(load_bundle(Settings().jurisdiction), seed=7, invalid_share=0.05, id_prefix="PROM")
    samples = generator.batch(60, datetime(2026, 11, 28, 9, 0, tzinfo=UTC))
    phones = {json.loads(s.value).get("caller", {}).get("phone") for s in samples if s.expected.outcome != "dead_letter"}
    phones.discard(None)
    assert phones, "the generated feed should carry callers' phone numbers"

    worker = make_worker(pg_url).start()
    worker.wait_ready()
    topics = Settings(topic_prefix=worker.prefix).topics
    produce(broker.bootstrap, topics.incidents, [(s.key, s.value) for s in samples])
    wait_for(lambda: worker.metric("fengqiao_incidents_total") >= len(samples), 120, "the feed routed")

    api = prometheus(worker.web_port)
    wanted = referenced_metrics()
    assert {"fengqiao_open_orders", "fengqiao_sla_events_total", "fengqiao_consumer_lag", "up"} <= wanted

    def scraped() -> set[str]:
        return set(_get(f"{api}/api/v1/label/__name__/values")["data"])

    wait_for(lambda: wanted <= scraped() or f"missing {sorted(wanted - scraped())}", 90,
             "Prometheus to scrape every metric the rules and dashboards name", interval_s=1)
    up = _get(f"{api}/api/v1/query?" + urllib.parse.urlencode({"query": 'up{job="fengqiao-worker"}'}))
    assert [r["value"][1] for r in up["data"]["result"]] == ["1"]
    rules = _get(f"{api}/api/v1/rules")["data"]["groups"]
    assert all(rule["health"] == "ok" for group in rules for rule in group["rules"]), rules

    # Personal data: the worker logged every routed incident, and no caller's phone number.
    time.sleep(0.5)
    log = worker.log_path.read_text(errors="replace")
    assert '"event": "routed"' in log
    assert not PHONE.findall(log), sorted(set(PHONE.findall(log)))[:5]
    assert not [p for p in phones if p in log]
