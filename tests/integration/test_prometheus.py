"""A real Prometheus (Debian's package) scrapes a live worker and a live API: every metric an alert
rule or a dashboard panel names is in what it scraped from the job that declares it; and the
worker's log holds no caller's phone."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import urllib.parse
import urllib.request
from contextlib import closing
from datetime import UTC, datetime
from pathlib import Path

import pytest
import yaml

from router.bundle import load_bundle
from tests.conftest import leaked_phone
from tests.deploy_metrics import DEPLOY, referenced_metrics
from tests.integration.api_support import ApiUnderTest
from tests.integration.support import XIAOSHAN, produce, wait_for
from workers.broker import free_port
from workers.feedgen import FeedGenerator
from workers.settings import Settings

pytestmark = pytest.mark.integration


def _get(url: str) -> dict:
    with urllib.request.urlopen(url, timeout=5) as response:
        return json.loads(response.read())


@pytest.fixture
def prometheus(tmp_path: Path):
    binary = shutil.which("prometheus") or "/usr/bin/prometheus"
    if not Path(binary).exists():
        pytest.fail("prometheus is missing: `make test` installs it (apt-get install prometheus)")
    started: list[subprocess.Popen] = []

    def start(targets: dict[str, str]) -> str:
        """Prometheus scraping each job's `host:port`, with the rules of deploy/prometheus/alerts.yml."""
        config = tmp_path / "prometheus.yml"
        config.write_text(yaml.safe_dump({
            "global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
            "rule_files": [str(DEPLOY / "prometheus" / "alerts.yml")],
            "scrape_configs": [{"job_name": job, "static_configs": [{"targets": [target]}]}
                               for job, target in targets.items()],
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


def _stream_observed(api: ApiUnderTest) -> tuple[float, float]:
    """The count and sum the API's histogram holds for the SSE route."""
    text = urllib.request.urlopen(f"{api.url}/metrics", timeout=5).read().decode()
    found = dict(re.findall(r'^fengqiao_api_request_seconds_(count|sum)\{route="/api/v1/stream"\} (\S+)$', text, re.M))
    return float(found.get("count", 0)), float(found.get("sum", 0))


def _requests_in_flight(api: ApiUnderTest) -> int:
    """Requests the API's uvicorn server is still handling (the SSE stream's among them until it ends)."""
    return len(api.server._server.server_state.tasks)


def exercise_the_api(api: ApiUnderTest) -> None:
    """Requests that create the series the API's rules and panels name: logins ok and failed, a read,
    a cross-town 404, an unknown path and the SSE stream."""
    order = api.open_order()  # in 新塘 (xintang)
    xintang, beigan, anonymous = api.client("xintang-op"), api.client("beigan-op"), api.client()
    with closing(xintang), closing(beigan), closing(anonymous):
        assert xintang.get("/api/v1/orders").status_code == 200
        assert xintang.get(f"/api/v1/orders/{order}").status_code == 200
        assert beigan.get(f"/api/v1/orders/{order}").status_code == 404  # another town's order
        assert beigan.get("/api/v1/no-such-route").status_code == 404
        assert anonymous.get("/api/v1/orders").status_code == 401
        refused = anonymous.post("/api/v1/session", json={"username": "beigan-op", "password": "wrong-guess"})
        assert refused.status_code == 401
        # The middleware observes the time to the response's start: the stream is counted once it opens,
        # as the time to open it, not its life (why FengqiaoApiSlow may leave it out without losing it).
        with xintang.stream("GET", "/api/v1/stream") as stream:
            assert stream.status_code == 200
            next(line for line in stream.iter_lines() if line.startswith("event:"))
            observed = _stream_observed(api)
            assert observed[0] == 1, observed  # already counted while the stream is still open
        wait_for(lambda: _requests_in_flight(api) == 0, 30, "the API to end the closed stream")
        assert _stream_observed(api) == observed, "the stream's end must not be observed again"


def test_prometheus_scrapes_every_metric_the_rules_and_dashboards_name(broker, pg_url, make_worker, api, prometheus,
                                                                       tmp_path):
    generator = FeedGenerator(load_bundle(Settings().jurisdiction), seed=7, invalid_share=0.05, id_prefix="PROM")
    samples = generator.batch(60, datetime(2026, 11, 28, 9, 0, tzinfo=UTC))
    phones = {json.loads(s.value).get("caller", {}).get("phone") for s in samples if s.expected.outcome != "dead_letter"}
    phones.discard(None)
    assert phones, "the generated feed should carry callers' phone numbers"

    # A district webhook to a closed port: its series exist from the start, and its failures are counted.
    bundle = tmp_path / "bundle"
    shutil.copytree(XIAOSHAN, bundle)
    (bundle / "notify.csv").write_text("unit_code,name,url,events,secret_env\n"
                                       "330109,zzd,${GATEWAY_URL},new_order,\n", encoding="utf-8")
    worker = make_worker(pg_url, FENGQIAO_JURISDICTION=str(bundle),
                         GATEWAY_URL=f"http://127.0.0.1:{free_port()}/notify").start()
    worker.wait_ready()
    topics = Settings(topic_prefix=worker.prefix).topics
    produce(broker.bootstrap, topics.incidents, [(s.key, s.value) for s in samples])
    wait_for(lambda: worker.metric("fengqiao_incidents_total") >= len(samples), 120, "the feed routed")
    wait_for(lambda: worker.metric("fengqiao_webhook_failed_total", unit="330109") > 0, 60, "a webhook attempt")
    exercise_the_api(api)

    server = prometheus({"fengqiao-worker": f"127.0.0.1:{worker.web_port}",
                         "fengqiao-api": api.url.removeprefix("http://")})
    wanted = referenced_metrics()
    assert {"fengqiao_open_orders", "fengqiao_sla_events_total", "fengqiao_consumer_lag", "up"} <= wanted
    from_api = {name for name in wanted if name.startswith("fengqiao_api_")}
    assert {"fengqiao_api_requests_total", "fengqiao_api_request_seconds_bucket", "fengqiao_api_denials_total",
            "fengqiao_api_logins_total"} <= from_api
    expected = {"fengqiao-api": from_api | {"up"}, "fengqiao-worker": wanted - from_api}

    def scraped(job: str) -> set[str]:
        query = urllib.parse.urlencode({"match[]": f'{{job="{job}"}}'})
        return set(_get(f"{server}/api/v1/label/__name__/values?{query}")["data"])

    def missing() -> dict[str, list[str]]:
        return {job: sorted(names - scraped(job)) for job, names in expected.items() if names - scraped(job)}

    wait_for(lambda: not missing() or f"missing {missing()}", 90,
             "Prometheus to scrape every metric the rules and dashboards name from the worker and the API",
             interval_s=1)
    for job in expected:
        up = _get(f"{server}/api/v1/query?" + urllib.parse.urlencode({"query": f'up{{job="{job}"}}'}))
        assert [r["value"][1] for r in up["data"]["result"]] == ["1"], (job, up)
    # The label sets the API's alerts select were scraped, the primed and the requested alike.
    for selector in ('fengqiao_api_logins_total{outcome="failed"}', 'fengqiao_api_logins_total{outcome="ok"}',
                     'fengqiao_api_denials_total{status="404"}', 'fengqiao_api_denials_total{status="403"}',
                     'fengqiao_api_requests_total{route="/api/v1/orders/{order_id}",status="404"}',
                     'fengqiao_api_request_seconds_bucket{route="/api/v1/stream"}'):
        result = _get(f"{server}/api/v1/query?" + urllib.parse.urlencode({"query": selector}))["data"]["result"]
        assert result, f"{selector} was not scraped"
    rules = _get(f"{server}/api/v1/rules")["data"]["groups"]
    assert {group["name"] for group in rules} == {"fengqiao", "fengqiao-api", "fengqiao-webhooks"}
    assert all(rule["health"] == "ok" for group in rules for rule in group["rules"]), rules

    # Personal data: the worker logged every routed incident, and no caller's phone number.
    routed = {json.loads(s.value)["source_id"] for s in samples if s.expected.outcome != "dead_letter"}

    def unlogged() -> set[str]:
        text = worker.log_path.read_text(errors="replace")
        return {i for i in routed if f'"incident_id": "{i}"' not in text}

    wait_for(lambda: not unlogged() or f"not logged: {sorted(unlogged())[:5]}", 30,
             "the worker to log every routed incident")
    log = worker.log_path.read_text(errors="replace")
    assert '"event": "routed"' in log
    assert not leaked_phone(log), "a phone number reached the worker's log"
    assert not [p for p in phones if p in log]
