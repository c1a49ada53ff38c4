"""The system under fault: one Tansu broker, a fresh PostgreSQL database behind the harness's proxy,
`fengqiao worker` processes in one consumer group and the HTTP API, all as child processes."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import make_url

from schemas.topics import Topics
from tests.chaos.proxy import DatabaseProxy
from tests.integration.conftest import WorkerProcess
from tests.integration.support import REPO, wait_for
from workers.broker import EmbeddedBroker, free_port

PARTITIONS = 4
SESSION_TIMEOUT_S = 3  # Tansu holds JoinGroup for half of it (KAFKA.md)


@dataclass
class Slot:
    """One worker position in the group: its current process and how each of its processes ended."""

    index: int
    process: WorkerProcess | None = None
    starts: int = 0
    ended_by_harness: bool = False


@dataclass(frozen=True, slots=True)
class ExternalBroker:
    """A Kafka cluster the harness does not own (`--bootstrap`): it cannot be paused from here."""

    bootstrap: str


@dataclass
class Cluster:
    run_dir: Path
    database_url: str  # the direct URL, for the harness and the checker
    broker: EmbeddedBroker | ExternalBroker
    proxy: DatabaseProxy
    env: dict[str, str]  # FENGQIAO_* shared by every process of the run
    slots: list[Slot] = field(default_factory=list)
    exits: list[str] = field(default_factory=list)  # non-zero exits the harness did not cause
    api: subprocess.Popen | None = None
    api_port: int = field(default_factory=free_port)

    @classmethod
    def create(cls, run_dir: Path, database_url: str, broker: EmbeddedBroker | ExternalBroker, workers: int,
               extra_env: dict[str, str]) -> Cluster:
        url = make_url(database_url)
        proxy = DatabaseProxy((url.host or "127.0.0.1", url.port or 5432)).start()
        prefix = f"chaos{uuid.uuid4().hex[:8]}."  # a run's own topics, also on a shared cluster
        env = {**os.environ, "FENGQIAO_BOOTSTRAP_SERVERS": broker.bootstrap,
               "FENGQIAO_DATABASE_URL": proxy.url_for(database_url), "FENGQIAO_TOPIC_PREFIX": prefix,
               "FENGQIAO_GROUP_ID": f"{prefix}router", "FENGQIAO_TOPIC_PARTITIONS": str(PARTITIONS),
               "FENGQIAO_SESSION_TIMEOUT_S": str(SESSION_TIMEOUT_S), "FENGQIAO_HEARTBEAT_INTERVAL_S": "1",
               "FENGQIAO_LOG_LEVEL": "INFO", **extra_env}
        return cls(run_dir, database_url, broker, proxy, env, [Slot(i) for i in range(workers)])

    @property
    def topics(self) -> Topics:
        return Topics(self.env["FENGQIAO_TOPIC_PREFIX"])

    @property
    def logs(self) -> list[Path]:
        return [self.run_dir / f"worker-{slot.index}.log" for slot in self.slots] + [self.run_dir / "api.log"]

    def start(self, index: int) -> None:
        """A fresh process in slot `index`, with its own data directory and /metrics port."""
        slot = self.slots[index]
        port = free_port()
        data_dir = self.run_dir / f"data-{index}-{slot.starts}"
        env = {**self.env, "FENGQIAO_WEB_PORT": str(port), "FENGQIAO_DATA_DIR": str(data_dir)}
        slot.process = WorkerProcess(env, self.run_dir / f"worker-{index}.log", self.env["FENGQIAO_TOPIC_PREFIX"],
                                     port).start()
        slot.starts += 1
        slot.ended_by_harness = False

    def kill(self, index: int) -> None:
        slot = self.slots[index]
        slot.ended_by_harness = True
        if slot.process:
            slot.process.kill()

    def stop(self, index: int) -> None:
        """SIGTERM, as an orchestrator stops a pod: the worker must leave cleanly, with status 0."""
        slot = self.slots[index]
        slot.ended_by_harness = True
        if slot.process and slot.process.process:
            slot.process.stop()
            code = slot.process.process.returncode
            if code != 0:
                self.exits.append(f"worker {index} answered SIGTERM with exit status {code}")

    def revive_the_fallen(self) -> None:
        """Note every worker that ended on its own, with its status, and start it again."""
        for slot in self.slots:
            running = slot.process and slot.process.process
            if running and running.poll() is not None and not slot.ended_by_harness:
                self.exits.append(f"worker {slot.index} exited by itself with status {running.returncode} "
                                  f"(its log: {slot.process.log_path})")
                self.start(slot.index)

    def wait_ready(self, timeout_s: float = 120) -> None:
        """Until every slot's worker serves /metrics; one that exits meanwhile is noted and started again."""

        def ready() -> bool:
            self.revive_the_fallen()
            return all(_metrics(slot) is not None for slot in self.slots)

        wait_for(ready, timeout_s, "every worker serving /metrics")

    def sweeps_fired(self) -> dict[int, float]:
        """SLA effects fired so far by each live worker (only the group leader sweeps), from its /metrics."""
        pages = {slot.index: _metrics(slot) for slot in self.slots}
        return {index: sum(float(line.rsplit(" ", 1)[1]) for line in text.splitlines()
                           if line.startswith("fengqiao_sla_effects_total "))
                for index, text in pages.items() if text is not None}

    def start_api(self) -> None:
        env = {**self.env, "FENGQIAO_API_PORT": str(self.api_port)}
        with (self.run_dir / "api.log").open("ab") as log:
            self.api = subprocess.Popen([sys.executable, "-m", "workers", "api"], env=env, stdout=log,
                                        stderr=subprocess.STDOUT, cwd=REPO)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and self.api.poll() is None:
            try:
                with socket.create_connection(("127.0.0.1", self.api_port), timeout=0.5):
                    return
            except OSError:
                time.sleep(0.2)
        self.exits.append(f"the API did not come up (status {self.api.poll()})")

    def kill_api(self) -> None:
        if self.api and self.api.poll() is None:
            self.api.send_signal(signal.SIGKILL)
            self.api.wait()

    def pause_broker(self) -> None:
        assert isinstance(self.broker, EmbeddedBroker), "only the harness's own broker can be paused"
        os.kill(self.broker._process.pid, signal.SIGSTOP)

    def resume_broker(self) -> None:
        os.kill(self.broker._process.pid, signal.SIGCONT)

    def shut_down(self) -> None:
        """Stop everything this run started, each by its own process id."""
        for slot in self.slots:
            if slot.process:
                self.stop(slot.index)
        self.kill_api()
        self.proxy.stop()


def _metrics(slot: Slot) -> str | None:
    """The slot's /metrics page, or None while its worker is not serving (down, or not ready yet)."""
    if not (slot.process and slot.process.process and slot.process.process.poll() is None):
        return None
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{slot.process.web_port}/metrics", timeout=2) as page:
            return page.read().decode()
    except OSError:
        return None
