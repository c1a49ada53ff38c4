"""`fengqiao run` (what `make run` starts): work orders, the console, a clean stop on Ctrl-C."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys

import httpx
import pytest
from sqlalchemy import func, select

from api.demo import DEMO_PASSWORD
from router.store.database import make_engine
from router.store.tables import work_orders
from tests.integration.support import REPO, wait_for
from workers.broker import free_port

pytestmark = pytest.mark.integration


XINTANG = "330109004"  # 新塘街道, the integration account's town
CLEAN_STOP_S = 10  # the bound for a clean stop: a hang guard, not a speed measure


def _stopped_within(process: subprocess.Popen, timeout_s: float, log) -> None:
    try:
        process.wait(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
        raise AssertionError(f"still running {timeout_s} s after the signal:\n"
                             f"{log.read_text(errors='replace')[-2000:]}") from None


def _orders(url: str, town: str | None = None) -> int:
    query = select(func.count()).select_from(work_orders)
    if town is not None:
        query = query.where(work_orders.c.town_code == town)
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            return conn.scalar(query)
    finally:
        engine.dispose()


def test_make_run_opens_work_orders_serves_the_console_and_stops_cleanly(tmp_path):
    data = tmp_path / "var"
    env = {k: v for k, v in os.environ.items() if not k.startswith("FENGQIAO_")}
    api = f"http://127.0.0.1:{free_port()}"
    env.update(FENGQIAO_DATA_DIR=str(data), FENGQIAO_WEB_PORT=str(free_port()), FENGQIAO_DEMO_RATE="10",
               FENGQIAO_API_PORT=api.rsplit(":", 1)[1])
    log = tmp_path / "run.log"
    with log.open("wb") as out:
        # Its own process group, as a terminal's foreground job: Ctrl-C signals the whole group.
        process = subprocess.Popen([sys.executable, "-m", "workers", "run"], env=env, cwd=REPO, stdout=out,
                                   stderr=subprocess.STDOUT, start_new_session=True)
    try:
        url = f"sqlite:///{data / 'fengqiao.db'}"
        # Hang guards, not speed tests: the demo history plays first (months of orders on past clocks), then the
        # live feed's orders open beside them.
        wait_for(lambda: "[demo] history:" in log.read_text(errors="replace"), 600, "the demo history")
        history = _orders(url)
        wait_for(lambda: _orders(url) > history, 120, "the first live work order")
        text = log.read_text(errors="replace")
        assert "Fengqiao (枫桥) is running" in text and "embedded Tansu" in text
        broker_port = int(re.search(r"broker +127\.0\.0\.1:(\d+)", text).group(1))
        wait_for(lambda: "[demo] sent" in log.read_text(errors="replace"), 15, "a status line")
        text = log.read_text(errors="replace")
        assert f"console    {api}/" in text
        for role in ("town_operator", "town_leader", "district_dispatcher", "district_supervisor", "admin",
                     "integration"):
            assert re.search(rf"^  \S+ +{role} ", text, re.MULTILINE), f"no demo account for {role}"
        token = re.search(r"xintang-system +integration +\S+ (fq_\S+)", text).group(1)
        with httpx.Client(base_url=api, timeout=10) as client:
            assert "<html" in client.get("/", follow_redirects=True).text.lower()
            signed_in = client.post("/api/v1/session", json={"username": "xintang-op", "password": DEMO_PASSWORD})
            assert signed_in.json()["unit_name"] == "新塘街道"
            assert client.get("/api/v1/orders").status_code == 200
        assert signed_in.json()["unit_code"] == XINTANG
        wait_for(lambda: _orders(url, XINTANG) > 0, 120, "a work order of 新塘街道")
        # The demo feed keeps running: the token's total lies between the town's counts either side.
        before = _orders(url, XINTANG)
        mine = httpx.get(f"{api}/api/v1/orders", headers={"Authorization": f"Bearer {token}"}).json()
        after = _orders(url, XINTANG)
        assert mine["items"], "the integration account sees none of its town's orders"
        assert {o["town_code"] for o in mine["items"]} == {XINTANG}
        assert before <= mine["total"] <= after
    finally:
        os.killpg(process.pid, signal.SIGINT)  # Ctrl-C: the worker, the API, the demo feed and the broker
        _stopped_within(process, CLEAN_STOP_S, log)

    assert process.returncode == 0, log.read_text(errors="replace")[-2000:]
    stopping = log.read_text(errors="replace").split("Stopping…", 1)[1]
    assert "Fengqiao stopped." in stopping and "Traceback" not in stopping
    assert len(stopping.splitlines()) <= 5, stopping  # a few lines, not a retry storm
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", broker_port), timeout=1).close()


def test_a_second_ctrl_c_forces_the_stop_and_takes_the_broker_with_it(tmp_path):
    data = tmp_path / "var"
    env = {k: v for k, v in os.environ.items() if not k.startswith("FENGQIAO_")}
    web = free_port()
    env.update(FENGQIAO_DATA_DIR=str(data), FENGQIAO_WEB_PORT=str(web), FENGQIAO_API_PORT=str(free_port()))
    log = tmp_path / "run.log"
    with log.open("wb") as out:
        process = subprocess.Popen([sys.executable, "-m", "workers", "run", "--no-demo"], env=env, cwd=REPO,
                                   stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    wait_for(lambda: httpx.get(f"http://127.0.0.1:{web}/metrics").status_code == 200, 120, "the worker running")
    broker_port = int(re.search(r"broker +127\.0\.0\.1:(\d+)", log.read_text(errors="replace")).group(1))
    os.killpg(process.pid, signal.SIGINT)
    wait_for(lambda: "Stopping…" in log.read_text(errors="replace"), 10, "the first Ctrl-C taken")
    os.killpg(process.pid, signal.SIGINT)
    _stopped_within(process, CLEAN_STOP_S, log)
    assert process.returncode == 128 + signal.SIGINT
    assert "Forced stop." in log.read_text(errors="replace")
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", broker_port), timeout=1).close()


def test_a_worker_stops_cleanly_on_sigterm_as_kubernetes_sends_it(make_worker, pg_url):
    worker = make_worker(pg_url).start()
    worker.wait_ready()
    worker.process.send_signal(signal.SIGTERM)
    _stopped_within(worker.process, CLEAN_STOP_S, worker.log_path)
    assert worker.process.returncode == 0
    assert "Traceback" not in worker.log_path.read_text(errors="replace")
