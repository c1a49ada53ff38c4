"""The `fengqiao` commands an integrator runs without a broker."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

from typer.testing import CliRunner

from workers.cli import app
from workers.settings import Settings

BUNDLE = Settings().jurisdiction
runner = CliRunner()


def test_schema_export_writes_a_json_schema_per_contract(tmp_path: Path):
    result = runner.invoke(app, ["schema", "export", str(tmp_path)])
    assert result.exit_code == 0, result.output
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == sorted(f"{n}.schema.json" for n in
                           ("incident.v1", "routing-decision.v1", "workorder-dispatched.v1", "review-queued.v1",
                            "dead-letter.v1", "workorder-command.v1", "workorder-event.v1"))
    incident = json.loads((tmp_path / "incident.v1.schema.json").read_text())
    assert {"source_id", "received_at", "channel", "summary"} <= set(incident["required"])
    assert incident["$defs"]["CallerV1"]["properties"]["phone"]["x-personal-data"] is True


def test_config_check_accepts_the_shipped_bundle():
    result = runner.invoke(app, ["config", "check", str(BUNDLE)])
    assert result.exit_code == 0, result.output
    assert "27 towns (5 onboarded)" in result.output


def test_config_check_names_file_line_and_field(tmp_path: Path):
    bundle = tmp_path / "broken"
    shutil.copytree(BUNDLE, bundle)
    towns = bundle / "towns.csv"
    lines = towns.read_text(encoding="utf-8").splitlines()
    lines[3] = lines[3].replace(",yes,", ",maybe,").replace(",no,", ",maybe,")
    towns.write_text("\n".join(lines) + "\n", encoding="utf-8")

    result = runner.invoke(app, ["config", "check", str(bundle)])

    assert result.exit_code == 1
    assert "towns.csv:4: onboarded:" in result.output


def test_the_worker_refuses_a_bad_bundle_at_start_naming_the_problem(tmp_path: Path):
    bundle = tmp_path / "broken"
    shutil.copytree(BUNDLE, bundle)
    manifest = bundle / "bundle.toml"
    manifest.write_text(manifest.read_text(encoding="utf-8").replace("negation_window = 2", "negation_window = 99"))
    env = {"FENGQIAO_JURISDICTION": str(bundle), "FENGQIAO_DATA_DIR": str(tmp_path / "data"), "PATH": "/usr/bin"}

    done = subprocess.run([sys.executable, "-m", "workers", "worker"], env=env, capture_output=True, text=True,
                          timeout=60)

    assert done.returncode == 2
    line = next(n for n, text in enumerate(manifest.read_text().splitlines(), 1) if text.startswith("negation_window"))
    assert f"bundle.toml:{line}: classification.negation_window:" in done.stderr


def test_route_offline_writes_one_decision_per_line(tmp_path: Path):
    feed = tmp_path / "calls.jsonl"
    feed.write_text(
        "\n".join([
            json.dumps({"source_id": "A1", "received_at": "2026-11-28T10:00:00+08:00", "channel": "phone",
                        "summary": "小区路灯坏了", "address": "萧山区北干街道"}, ensure_ascii=False),
            json.dumps({"source_id": "A2", "received_at": "2026-11-28T10:00:00+08:00", "channel": "app",
                        "summary": "有人持刀抢劫", "address": "北干街道"}, ensure_ascii=False),
            "{broken",
        ]) + "\n",
        encoding="utf-8",
    )
    result = runner.invoke(app, ["route", "--jurisdiction", str(BUNDLE), str(feed)])
    assert result.exit_code == 0, result.output
    out = [json.loads(line) for line in result.output.splitlines()]
    assert [(o.get("incident_id"), o["outcome"]) for o in out] == [("A1", "work_order"), ("A2", "police"),
                                                                   (None, "dead_letter")]
    assert out[0]["town_code"] == "330109002" and out[0]["rule_ids"] == ["non_police.municipal"]
    assert out[2] == {"line": 3, "outcome": "dead_letter", "reason": "not_json",
                      "detail": out[2]["detail"]} and out[2]["detail"].startswith("not JSON")
