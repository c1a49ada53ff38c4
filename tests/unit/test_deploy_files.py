"""The files in deploy/ parse, pass only settings that exist, run only commands that exist,
name only metrics the worker or the API declares, and their alert rules pass their `promtool` tests."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml
from typer.main import get_command

from api.metrics import ApiMetrics
from tests.deploy_metrics import DASHBOARDS, DEPLOY, RULES, referenced_metrics
from workers.cli import app as cli_app
from workers.metrics import RouterMetrics
from workers.settings import Settings

REPO = Path(__file__).resolve().parents[2]
SETTINGS = {f"FENGQIAO_{name.upper()}" for name in Settings.model_fields}


def promtool() -> str:
    path = shutil.which("promtool")
    if path is None:
        pytest.fail("promtool is missing: `make test` installs it (apt-get install prometheus)")
    return path


def exposed_families() -> set[str]:
    """Sample names the worker or the API can expose (counters as _total, histograms as _bucket/_sum/_count)."""
    names = {"up"}
    for family in [*RouterMetrics.create().registry.collect(), *ApiMetrics.create().registry.collect()]:
        if family.type == "counter":
            names |= {f"{family.name}_total", f"{family.name}_created"}
        elif family.type == "histogram":
            names |= {f"{family.name}_{s}" for s in ("bucket", "sum", "count", "created")}
        else:
            names.add(family.name)
    return names


def cli_commands() -> set[tuple[str, ...]]:
    """Every `fengqiao ...` command path, e.g. ("worker",) and ("db", "upgrade")."""
    root = get_command(cli_app)
    paths: set[tuple[str, ...]] = set()
    for name, command in root.commands.items():
        sub = getattr(command, "commands", None)
        if sub:
            paths |= {(name, child) for child in sub}
        else:
            paths.add((name,))
    return paths


def assert_command(args: list[str]) -> None:
    words = tuple(a for a in args if not a.startswith("-"))
    assert words[:1] in cli_commands() or words[:2] in cli_commands(), f"`fengqiao {' '.join(args)}` does not exist"


def yaml_files() -> list[Path]:
    return sorted(p for p in DEPLOY.rglob("*") if p.suffix in (".yml", ".yaml"))


@pytest.mark.parametrize("path", yaml_files(), ids=lambda p: str(p.relative_to(DEPLOY)))
def test_every_yaml_file_parses(path: Path):
    assert [doc for doc in yaml.safe_load_all(path.read_text()) if doc is not None]


@pytest.mark.parametrize("path", DASHBOARDS, ids=lambda p: p.name)
def test_dashboards_parse_and_every_panel_queries_something(path: Path):
    dashboard = json.loads(path.read_text())
    assert dashboard["uid"] and dashboard["title"] and dashboard["panels"]
    for panel in dashboard["panels"]:
        assert panel["targets"] and all(t["expr"] for t in panel["targets"]), panel["title"]
    assert {p.stem for p in DASHBOARDS} == {"district-overview", "town-sla", "pipeline-health", "api"}


def test_rules_and_panels_name_only_metrics_the_worker_declares():
    unknown = referenced_metrics() - exposed_families()
    assert not unknown, f"not declared in workers/metrics.py or api/metrics.py: {sorted(unknown)}"


def test_the_api_is_monitored_like_the_worker():
    """Its alerts and dashboard query every API metric, and the labels that need an event exist at 0 from the start."""
    assert {"fengqiao_api_requests_total", "fengqiao_api_request_seconds_bucket", "fengqiao_api_denials_total",
            "fengqiao_api_logins_total", "up"} <= referenced_metrics()
    primed = {(s.name, *s.labels.values()) for f in ApiMetrics.create().registry.collect() for s in f.samples}
    assert {("fengqiao_api_logins_total", "ok"), ("fengqiao_api_logins_total", "failed"),
            ("fengqiao_api_denials_total", "401"), ("fengqiao_api_denials_total", "403"),
            ("fengqiao_api_denials_total", "404")} <= primed


def test_every_metric_is_documented():
    doc = (REPO / "docs" / "metrics.md").read_text()
    families = [*RouterMetrics.create().registry.collect(), *ApiMetrics.create().registry.collect()]
    missing = [f.name for f in families if f"`{f.name}" not in doc]
    assert not missing, f"not in docs/metrics.md: {missing}"


def test_alert_rules_are_valid():
    result = subprocess.run([promtool(), "check", "rules", *map(str, RULES)], capture_output=True, text=True,
                            check=False)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("path", sorted((DEPLOY / "prometheus" / "tests").glob("*.yml")), ids=lambda p: p.name)
def test_alert_rules_pass_their_promtool_tests(path: Path):
    result = subprocess.run([promtool(), "test", "rules", path.name], cwd=path.parent, capture_output=True,
                            text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_alert_the_issue_asks_for_has_a_promtool_test():
    rules = yaml.safe_load((DEPLOY / "prometheus" / "alerts.yml").read_text())
    alerts = {r["alert"] for g in rules["groups"] for r in g["rules"]}
    tested = set()
    for path in (DEPLOY / "prometheus" / "tests").glob("*.yml"):
        for case in yaml.safe_load(path.read_text())["tests"]:
            tested |= {t["alertname"] for t in case.get("alert_rule_test", [])}
    assert alerts == tested
    assert {"FengqiaoBreachSurge", "FengqiaoAcknowledgeBacklog", "FengqiaoDeadLetterGrowth", "FengqiaoOutboxBacklog",
            "FengqiaoConsumerLag", "FengqiaoSweepLate", "FengqiaoWorkerDown", "FengqiaoReviewWaiting"} <= alerts
    assert {"FengqiaoApiDown", "FengqiaoApiErrors", "FengqiaoApiSlow", "FengqiaoLoginFailureBurst",
            "FengqiaoCrossTownProbing"} <= alerts


def test_dockerfile_is_slim_non_root_and_sets_only_real_settings():
    lines = [line.strip() for line in (DEPLOY / "Dockerfile").read_text().splitlines()]
    froms = [line.split()[1] for line in lines if line.startswith("FROM ")]
    assert froms and all("slim" in image for image in froms)
    users = [line.split()[1] for line in lines if line.startswith("USER ")]
    assert users and users[-1].split(":")[0] not in ("root", "0")
    assert any("pip install" in line and line.rstrip(" \\").endswith(" .") for line in lines)
    env = set(re.findall(r"\b(FENGQIAO_[A-Z0-9_]+)=", (DEPLOY / "Dockerfile").read_text()))
    assert env and env <= SETTINGS, env - SETTINGS
    entry = next(line for line in lines if line.startswith("ENTRYPOINT"))
    assert json.loads(entry.split(None, 1)[1]) == ["fengqiao"]
    assert_command(json.loads(next(line for line in lines if line.startswith("CMD")).split(None, 1)[1]))


def test_compose_has_the_whole_deployment_and_real_settings_and_commands():
    compose = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
    services = compose["services"]
    assert {"kafka", "postgres", "worker-1", "worker-2", "api", "prometheus", "alertmanager", "grafana"} <= set(services)
    assert "controller" in services["kafka"]["environment"]["KAFKA_PROCESS_ROLES"]  # KRaft, no ZooKeeper
    assert not any("zookeeper" in name for name in services)
    fengqiao = {name: s for name, s in services.items() if str(s.get("image", "")).startswith("fengqiao")}
    assert sum(1 for s in fengqiao.values() if s["command"] == ["worker"]) == 2
    for name, service in fengqiao.items():
        assert_command(service["command"])
        keys = {k for k in service["environment"] if k.startswith("FENGQIAO_")}
        assert keys <= SETTINGS, (name, keys - SETTINGS)
        assert service["environment"]["FENGQIAO_WEB_HOST"] == "0.0.0.0"
    for service in services.values():
        for volume in service.get("volumes", []):
            source = volume.split(":")[0]
            if source.startswith("."):
                assert (DEPLOY / source).exists(), source


def _database_user(url: str) -> str:
    return url.split("://", 1)[1].split(":", 1)[0]


def test_compose_migrates_as_the_owner_and_runs_everything_else_as_the_runtime_role_it_grants():
    services = yaml.safe_load((DEPLOY / "compose.yaml").read_text())["services"]
    fengqiao = {name: s for name, s in services.items() if str(s.get("image", "")).startswith("fengqiao")}
    migrate = fengqiao.pop("migrate")
    runtime = migrate["command"][migrate["command"].index("--grant-runtime") + 1]
    assert migrate["command"][:2] == ["db", "upgrade"]
    assert _database_user(migrate["environment"]["FENGQIAO_DATABASE_URL"]) == "fengqiao_owner"
    assert {name: _database_user(s["environment"]["FENGQIAO_DATABASE_URL"]) for name, s in fengqiao.items()} == {
        name: runtime for name in fengqiao}
    postgres = services["postgres"]
    assert "POSTGRES_USER" not in postgres["environment"]  # the image's superuser only initialises
    assert "./postgres/roles.sh:/docker-entrypoint-initdb.d/10-fengqiao-roles.sh:ro" in postgres["volumes"]
    roles = (DEPLOY / "postgres" / "roles.sh").read_text()
    assert '${FENGQIAO_DB_OWNER:-fengqiao_owner}' in roles and f'${{FENGQIAO_DB_RUNTIME:-{runtime}}}' in roles


def test_kubernetes_migrates_with_the_owners_secret_and_grants_the_runtime_role():
    docs = list(yaml.safe_load_all((DEPLOY / "k8s" / "fengqiao.yaml").read_text()))
    secrets = {}
    for doc in docs:
        if doc["kind"] in ("Deployment", "Job"):
            for container in doc["spec"]["template"]["spec"]["containers"]:
                url = next(e for e in container["env"] if e["name"] == "FENGQIAO_DATABASE_URL")
                secrets[container["name"]] = (url["valueFrom"]["secretKeyRef"]["name"], container["args"])
    assert secrets == {"migrate": ("fengqiao-database-owner", ["db", "upgrade", "--grant-runtime", "fengqiao_app"]),
                       "worker": ("fengqiao-database", ["worker"]), "api": ("fengqiao-database", ["api"])}


def test_the_kubernetes_worker_speaks_scram_over_tls_with_its_secret_and_a_mounted_ca(tmp_path: Path):
    docs = list(yaml.safe_load_all((DEPLOY / "k8s" / "fengqiao.yaml").read_text()))
    settings_map = next(d for d in docs if d["kind"] == "ConfigMap" and d["metadata"]["name"] == "fengqiao-settings")
    worker = next(d for d in docs if d["kind"] == "Deployment" and d["metadata"]["name"] == "fengqiao-worker")
    pod = worker["spec"]["template"]["spec"]
    container = pod["containers"][0]
    env = {e["name"]: e.get("value") or e["valueFrom"]["secretKeyRef"] for e in container["env"]}
    assert env["FENGQIAO_KAFKA_SASL_PASSWORD"] == {"name": "fengqiao-kafka", "key": "password"}
    ca = Path(env["FENGQIAO_KAFKA_SSL_CAFILE"])
    mount = next(m for m in container["volumeMounts"] if m["mountPath"] == str(ca.parent))
    volume = next(v for v in pod["volumes"] if v["name"] == mount["name"])
    assert volume["secret"]["secretName"] == "fengqiao-kafka"
    assert {i["path"] for i in volume["secret"]["items"]} == {ca.name}
    # The worker's settings as the pod sees them, the secret's values stood in for, are whole.
    (tmp_path / ca.name).write_text("-----BEGIN CERTIFICATE-----\n")
    given = {**settings_map["data"], **{k: v for k, v in env.items() if isinstance(v, str)},
             "FENGQIAO_KAFKA_SASL_PASSWORD": "from-the-secret", "FENGQIAO_KAFKA_SSL_CAFILE": str(tmp_path / ca.name)}
    settings = Settings.model_validate({k.removeprefix("FENGQIAO_").lower(): v for k, v in given.items()
                                        if k != "FENGQIAO_DATABASE_URL"})
    assert (settings.kafka_security_protocol, settings.kafka_sasl_mechanism) == ("SASL_SSL", "SCRAM-SHA-512")
    assert not any(k.startswith("FENGQIAO_KAFKA_") for k in settings_map["data"])  # the API talks no Kafka


def test_prometheus_config_scrapes_both_workers_and_loads_the_rules():
    config = yaml.safe_load((DEPLOY / "prometheus" / "prometheus.yml").read_text())
    job = next(j for j in config["scrape_configs"] if j["job_name"] == "fengqiao-worker")
    assert job["static_configs"][0]["targets"] == ["worker-1:6066", "worker-2:6066"]
    api = next(j for j in config["scrape_configs"] if j["job_name"] == "fengqiao-api")
    assert api["static_configs"][0]["targets"] == ["api:8080"]
    assert config["rule_files"] == ["/etc/prometheus/alerts.yml"]


def test_kubernetes_manifests_have_probes_resources_bundle_and_real_settings():
    docs = list(yaml.safe_load_all((DEPLOY / "k8s" / "fengqiao.yaml").read_text()))
    kinds = {d["kind"] for d in docs}
    assert {"ConfigMap", "Deployment", "Job", "PodDisruptionBudget"} <= kinds
    settings_map = next(d for d in docs if d["kind"] == "ConfigMap" and d["metadata"]["name"] == "fengqiao-settings")
    assert set(settings_map["data"]) <= SETTINGS, set(settings_map["data"]) - SETTINGS
    assert all(isinstance(v, str) for v in settings_map["data"].values())
    Settings.model_validate({k.removeprefix("FENGQIAO_").lower(): v for k, v in settings_map["data"].items()})
    for doc in docs:
        if doc["kind"] not in ("Deployment", "Job"):
            continue
        pod = doc["spec"]["template"]["spec"]
        assert pod["securityContext"]["runAsNonRoot"] is True
        for container in pod["containers"]:
            assert_command(container["args"])
            assert {e["name"] for e in container.get("env", [])} <= SETTINGS
            assert container["resources"]["requests"] and container["resources"]["limits"]
            if doc["kind"] == "Deployment":
                assert {"livenessProbe", "readinessProbe", "startupProbe"} <= set(container)
                mounts = {m["mountPath"]: m["name"] for m in container["volumeMounts"]}
                bundle = mounts[settings_map["data"]["FENGQIAO_JURISDICTION"]]
                volumes = {v["name"]: v for v in pod["volumes"]}
                assert "configMap" in volumes[bundle]


def test_prometheus_config_is_valid():
    result = subprocess.run([promtool(), "check", "config", "--syntax-only", str(DEPLOY / "prometheus" / "prometheus.yml")],
                            capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr


# Every panel that shows a share (unit percent, or a query that divides) is proven on known series: a promtool
# `promql_expr_test` runs the panel's own query, as Grafana runs it for every town (`$town` = all), on a few
# cases of input series and asserts the exact figures, edge cases included: nothing to count shows no value
# (not 100 % or 0 %, not a negative share), a counter reset, two workers, towns named through fengqiao_town_info.
SHARE_UNITS = {"percent", "percentunit"}
DIVISION = re.compile(r"\)\s*/")  # PromQL's `/` after a parenthesis; route regexes have none


def counter(name: str, labels: str, values: str) -> dict:
    return {"series": f"{name}{{{labels}}}", "values": values}


def town_info(town: str, *instances: str) -> list[dict]:
    """The bundle's name of a town as each worker exposes it (镇 + the code's last three digits here)."""
    return [counter("fengqiao_town_info", f'town="{town}",town_name="镇{town[-3:]}",instance="{i}"', "1x1440")
            for i in instances]


def in_town(shares: dict[str, float]) -> dict[str, float]:
    """Expected samples by town code, labelled as the town_info join labels them."""
    return {f'{{town="{town}",town_name="镇{town[-3:]}"}}': share for town, share in shares.items()}


def acknowledged(town: str, on_time: int, late: int, breaches: int, values: str = "") -> list[dict]:
    """A day of a town's 签收 per minute on worker w1: on time, late, and 签收 deadlines passed."""
    return [
        counter("fengqiao_acknowledgements_total", f'town="{town}",on_time="true",instance="w1"',
                values or f"0+{on_time}x1440"),
        counter("fengqiao_acknowledgements_total", f'town="{town}",on_time="false",instance="w1"', f"0+{late}x1440"),
        counter("fengqiao_sla_events_total", f'town="{town}",stage="acknowledge",kind="breach",instance="w1"',
                f"0+{breaches}x1440"),
    ]


def requests(route: str, status: str, instance: str, values: str) -> dict:
    return counter("fengqiao_api_requests_total",
                   f'route="{route}",method="GET",status="{status}",instance="{instance}",job="fengqiao-api"', values)


PROBES = [requests("/healthz", "200", "a1", "0+6x10"), requests("/metrics", "200", "a1", "0+4x10"),
          requests("/readyz", "503", "a1", "0+6x10")]  # a database outage seen by the readiness probe

# (dashboard, panel title) -> cases of (input series, {eval time: {labels: expected value}})
ACKNOWLEDGED_ON_TIME = [
    ([*acknowledged("330109004", 8, 0, 2, values="0+8x699 8+8x740"),  # 0.8, the worker restarted at 11:40
      *acknowledged("330109002", 1, 3, 3),  # more late than on time: 0.25, not 1 - 3/1
      *acknowledged("330109001", 0, 0, 1),  # acknowledged nothing in time: 0
      *acknowledged("330109003", 0, 5, 5),  # late ones only, each with its breach: 0, not counted twice
      *acknowledged("330109005", 0, 0, 0),  # nothing due: no value
      *town_info("330109004", "w1", "w2"), *town_info("330109002", "w1", "w2"), *town_info("330109001", "w1"),
      *town_info("330109003", "w1"), *town_info("330109005", "w1")],
     {"1440m": in_town({"330109004": 0.8, "330109002": 0.25, "330109001": 0.0, "330109003": 0.0})}),
]
SERVER_ERRORS = [
    # two replicas, a2 restarted at minute 7; 100 of 400 requests a minute fail; probes left out
    ([requests("/api/v1/orders", "200", "a1", "0+200x10"), requests("/api/v1/orders", "500", "a1", "0+100x10"),
      requests("/api/v1/orders", "200", "a2", "0+100x6 100+100x3"), *PROBES],
     {"10m": {"{}": 0.25}}),
    # requests, none failed (no 5xx series exists yet): 0, not no value
    ([requests("/api/v1/orders", "200", "a1", "0+50x10"), *PROBES], {"10m": {"{}": 0.0}}),
    # nothing asked but the probes: no value, not 0 % or 100 %
    (PROBES, {"10m": {}}),
]
SHARE_PROOFS = {
    ("town-sla", "Acknowledged on time (share, 24 h)"): ACKNOWLEDGED_ON_TIME,
    ("api", "5xx share (5 min)"): SERVER_ERRORS,
    ("api", "5xx share"): SERVER_ERRORS,
}


def share_panels() -> dict[tuple[str, str], list[str]]:
    """(dashboard, title) -> queries of every panel showing a share, as Grafana runs them for every town."""
    found = {}
    for path in DASHBOARDS:
        for panel in json.loads(path.read_text(encoding="utf-8"))["panels"]:
            exprs = [t["expr"].replace("$town", ".*") for t in panel["targets"]]
            unit = panel.get("fieldConfig", {}).get("defaults", {}).get("unit")
            if unit in SHARE_UNITS or any(DIVISION.search(e) for e in exprs):
                found[path.stem, panel["title"]] = exprs
    return found


def test_every_share_panel_is_proven_on_known_data():
    assert set(share_panels()) == set(SHARE_PROOFS), "a share panel without a proof, or a proof without its panel"


@pytest.mark.parametrize("panel", sorted(SHARE_PROOFS), ids=" / ".join)
def test_share_panel_shows_the_right_figures(panel: tuple[str, str], tmp_path):
    [expr] = share_panels()[panel]
    tests = [{"interval": "1m", "input_series": series,
              "promql_expr_test": [{"expr": expr, "eval_time": at,
                                    "exp_samples": [{"labels": labels, "value": value}
                                                    for labels, value in samples.items()]}
                                   for at, samples in expected.items()]}
             for series, expected in SHARE_PROOFS[panel]]
    path = tmp_path / "panel_test.yml"
    path.write_text(yaml.safe_dump({"evaluation_interval": "1m", "tests": tests}, allow_unicode=True),
                    encoding="utf-8")
    result = subprocess.run([promtool(), "test", "rules", path.name], cwd=tmp_path, capture_output=True, text=True,
                            check=False)
    assert result.returncode == 0, result.stdout + result.stderr
