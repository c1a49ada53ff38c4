"""Process entry points: the worker alone, or the embedded default with broker and demo feed."""

from __future__ import annotations

import gc
import logging
import os
import signal
import sys
import threading
from collections.abc import Callable
from pathlib import Path

import faust
import structlog

from api.demo import DEMO_PASSWORD, ensure_demo_users
from api.services import Services
from router.bundle import BundleError, read_bundle
from router.domain.lifecycle import Role
from router.domain.routing import Router
from router.store.database import make_engine
from workers import logs
from workers.api_server import BackgroundServer, Connections, api_app, build_services
from workers.app import Wiring, create_app
from workers.broker import EmbeddedBroker
from workers.clock import configured_clock
from workers.kafka_security import client_kwargs
from workers.metrics import RouterMetrics
from workers.settings import Settings
from workers.topics import topic_names
from workers.waiting import topics_when_reachable, upgrade_when_reachable

log = structlog.get_logger("fengqiao")


DEMO_HISTORY_MONTHS = 3


def prepare(settings: Settings) -> Wiring:
    """Load and check everything before consuming: a bad bundle stops the start naming file and line."""
    clock = configured_clock(settings)
    jurisdiction, problems = read_bundle(settings.jurisdiction, year=clock().year)
    if jurisdiction is None:
        print(BundleError(settings.jurisdiction, problems), file=sys.stderr)
        raise SystemExit(2) from None
    for problem in problems:
        log.warning("bundle_warning", problem=str(problem))
    engine = make_engine(settings.db_url)
    upgrade_when_reachable(engine)
    created = topics_when_reachable(settings.kafka_servers, topic_names(settings.topics, jurisdiction),
                                    settings.topic_partitions, settings.replication_factor, client_kwargs(settings))
    log.info("prepared", bundle=jurisdiction.name, bundle_version=jurisdiction.version,
             topics_created=len(created), database=engine.url.render_as_string(hide_password=True))
    router = Router(jurisdiction)
    # The bundle and its automata (~350,000 objects) live as long as the process: out of the collector's
    # sight, a full collection no longer scans them (it was ~20 % of the intake's time in the saturation bench).
    gc.freeze()
    return Wiring(settings, router, engine, RouterMetrics.create(), clock)


def run_worker(settings: Settings) -> None:
    logs.configure(settings.log_level)
    settings.data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    app = create_app(prepare(settings))
    _faust_worker(app).execute_from_commandline()


def run_embedded(settings: Settings, demo: bool = True) -> None:
    """`make run`: start what is not configured, print where to look, stop cleanly on Ctrl-C."""
    from workers.demo import DemoFeed

    settings.data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    logs.configure(settings.log_level, file=log_file(settings))
    broker = None
    if not settings.bootstrap_servers:
        broker = EmbeddedBroker(log_path=settings.data_dir / "tansu.log").start()
        settings = settings.model_copy(update={"bootstrap_servers": broker.bootstrap})
    wiring = prepare(settings)
    feed = DemoFeed(settings, wiring.router.jurisdiction, wiring.engine, wiring.clock) if demo else None
    services = build_services(settings, wiring.router.jurisdiction, wiring.engine)
    api = BackgroundServer(api_app(settings, services), settings.api_host, settings.api_port,
                           Connections.of(settings)).start()
    _banner(settings, broker is not None, demo)
    if demo:
        _demo_accounts(services)
        _demo_history(wiring, settings)
    stop = threading.Event()
    threads = [threading.Thread(target=feed.run, args=(stop,), name="demo-feed", daemon=True)] if feed else []
    for thread in threads:
        thread.start()
    try:
        _faust_worker(create_app(wiring), on_force=broker.kill if broker else lambda: None,
                      logfile=log_file(settings)).execute_from_commandline()
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=5)
        api.stop()
        if broker:
            broker.stop()
        print("Fengqiao stopped.", file=sys.stderr)


def _demo_history(wiring: Wiring, settings: Settings) -> None:
    """Play the demo's past months before the worker's sweep starts (it would fire their timers at today's time)."""
    from workers.demo_history import History

    history = History(wiring.engine, wiring.router.jurisdiction, settings.topics)
    if history.played():
        return
    print(f"[demo] playing {DEMO_HISTORY_MONTHS} months of history through the engine (about a minute) ...",
          file=sys.stderr, flush=True)
    orders = history.play(wiring.clock(), months=DEMO_HISTORY_MONTHS)
    print(f"[demo] history: {orders} work orders; the cockpit (驾驶舱) shows them", file=sys.stderr, flush=True)


def _demo_accounts(services: Services) -> None:
    """Create the demo accounts and print them: one per role, and one per pilot town's roles."""
    now = services.clock()
    users = ensure_demo_users(services.engine, services.identity, services.jurisdiction, now)
    lines = [f"Demo accounts (password {DEMO_PASSWORD}; integration accounts use the bearer token shown):"]
    for user in users:
        # Rotated: each run's token replaces the last run's instead of piling up beside it.
        credential = (services.identity.issue_token(user.user_id, "make run", now, rotate=True)
                      if user.role is Role.INTEGRATION else "")
        lines.append(f"  {user.user_id:22} {user.role.value:20} {user.unit_name} {credential}".rstrip())
    print("\n".join(lines), file=sys.stderr, flush=True)


class _Worker(faust.Worker):
    """Faust's worker: the first SIGINT/SIGTERM stops it cleanly (stop consuming, finish the batch in
    hand, leave the group); a second one, while that stop is under way, ends the process at once
    after `on_force` (the embedded broker must not outlive it)."""

    def __init__(self, app: faust.App, on_force: Callable[[], None] = lambda: None,
                 logfile: Path | None = None) -> None:
        super().__init__(app, loglevel="WARNING", quiet=True, redirect_stdouts=False,
                         logfile=str(logfile) if logfile else None)
        self._on_force = on_force

    def _on_sigint(self) -> None:  # Faust's own prints a banner of -INT-; one line is enough
        self._schedule_shutdown(signal.SIGINT)

    def _schedule_shutdown(self, signum: signal.Signals) -> None:
        if self._signal_stop_time:
            print("Forced stop.", file=sys.stderr, flush=True)
            logging.disable(logging.CRITICAL)  # what other threads would say about it is noise now
            self._on_force()
            os._exit(128 + signum)
        print("Stopping… (again to force)", file=sys.stderr, flush=True)
        super()._schedule_shutdown(signum)


def _faust_worker(app: faust.App, on_force: Callable[[], None] = lambda: None,
                  logfile: Path | None = None) -> faust.Worker:
    """Faust's worker runs until SIGINT/SIGTERM; our own logging and prints stay as configured."""
    return _Worker(app, on_force, logfile)


def log_file(settings: Settings) -> Path:
    """Where `make run` writes its logs, one JSON line each, so the terminal keeps the banner and status."""
    return settings.data_dir / "fengqiao.log"


def _banner(settings: Settings, embedded_broker: bool, demo: bool) -> None:
    t = settings.topics
    lines = [
        "Fengqiao (枫桥) is running — Ctrl-C stops everything.",
        f"  broker     {settings.kafka_servers}" + ("  (embedded Tansu, memory only)" if embedded_broker else ""),
        f"  database   {settings.db_url}",
        f"  bundle     {settings.jurisdiction}",
        f"  feed       {t.incidents}" + (f"  (demo feed, {settings.demo_rate:g} records/s)" if demo else ""),
        f"  outputs    {t.police}, {t.workorder_events}, {t.centre_orders('<centre>')}, {t.review}, {t.dead_letters}",
        f"  console    http://{settings.api_host}:{settings.api_port}/  (指挥中心工作台; API docs at /api/docs)",
        f"  logs       {log_file(settings)}",
        f"  metrics    http://{settings.web_host}:{settings.web_port}/metrics (worker), "
        f"http://{settings.api_host}:{settings.api_port}/metrics (API)",
        "  status     the line below, every 5 s; `fengqiao status` for totals",
    ]
    print("\n".join(lines), file=sys.stderr, flush=True)
