"""The metric names deploy/ queries, for the unit check (each is declared) and the live Prometheus
check (each is scraped from the job that declares it)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import yaml

DEPLOY = Path(__file__).resolve().parents[1] / "deploy"
RULES = [DEPLOY / "prometheus" / "alerts.yml"]
DASHBOARDS = sorted((DEPLOY / "grafana").rglob("*.json"))
METRIC = re.compile(r"\b(fengqiao_[a-z0-9_]+|up)\b")


def referenced_metrics() -> set[str]:
    """Every metric name an alert rule or a dashboard panel queries."""
    names: set[str] = set()
    for path in RULES:
        for group in (yaml.safe_load(path.read_text()) or {}).get("groups", []):
            for rule in group["rules"]:
                names |= set(METRIC.findall(rule["expr"]))
    for path in DASHBOARDS:
        for panel in json.loads(path.read_text())["panels"]:
            for target in panel.get("targets", []):
                names |= set(METRIC.findall(target["expr"]))
    return names
